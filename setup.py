"""Build the native kernels; metadata lives in pyproject.toml."""

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

# Listed explicitly so a stray .pyx never becomes part of the product by accident.
EXTENSIONS = [
    Extension("veilcam_native._checksum", ["native/_checksum.pyx"]),
    Extension("veilcam_native._redact", ["native/_redact.pyx"], extra_compile_args=["-O3"]),
]

setup(
    packages=[
        "veilcam",
        "veilcam.sensors",
        "veilcam.sources",
        "veilcam.store",
        "veilcam.web",
        "veilcam_native",
        "webui",
    ],
    package_dir={"veilcam": "daemon", "veilcam_native": "native", "webui": "webui"},
    package_data={
        "veilcam": ["demo_assets/*/*.jpg"],
        "veilcam_native": ["*.pyi", "*.pxd", "py.typed"],
        "webui": ["templates/*.html", "static/*"],
    },
    ext_modules=cythonize(
        EXTENSIONS,
        compiler_directives={"language_level": 3},
        include_path=["native"],
    ),
    include_dirs=[np.get_include()],
)
