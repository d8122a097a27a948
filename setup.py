"""Build the native kernels; metadata lives in pyproject.toml."""

import platform

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, find_namespace_packages, setup


def kernel(name: str, headers: list[str], flags: list[str] | None = None) -> Extension:
    """One native module: its .pyx and the C headers in native/src it includes (listed as
    ``depends``, so that editing a header rebuilds the module)."""
    return Extension(
        f"veilcam_native.{name}",
        [f"native/{name}.pyx"],
        depends=[f"native/src/{h}" for h in headers] + ["native/_rounding.pxd"],
        include_dirs=["native/src", np.get_include()],
        extra_compile_args=flags or ["-O3"],
    )


# Listed explicitly so a stray .pyx never becomes part of the product by accident.
EXTENSIONS = [
    kernel("_checksum", [], []),
    kernel("_redact", ["redact_rows.h", "blur_avx512.h"]),
    kernel("_mask", ["mask_rows.h"]),
    kernel("_warp", ["warp_rows.h"]),
    kernel("_stock", []),
    # Reassociating float sums lets the dot products use SIMD; similarity scores do not
    # depend on summation order beyond rounding. POPCNT is in every x86-64 CPU since
    # 2008 (x86-64-v2); aarch64 has its own popcount instruction by default.
    kernel(
        "_embed",
        ["embed_simd.h"],
        [
            "-O3",
            "-fno-math-errno",
            "-fassociative-math",
            "-fno-signed-zeros",
            "-fno-trapping-math",
            *(["-mpopcnt"] if platform.machine() in ("x86_64", "AMD64") else []),
        ],
    ),
]


def found(folder: str, name: str) -> list[str]:
    """The package in ``folder`` and every folder below it (packages, and the data folders
    inside them), found rather than listed, so that a new one cannot be left out."""
    subs = find_namespace_packages(folder, exclude=["__pycache__", "*.__pycache__"])
    return [name, *(f"{name}.{sub}" for sub in subs)]


FOLDERS = {
    "veilcam": "daemon",
    "veilcam.board": "board",
    "veilcam.webui": "webui",
    "veilcam_native": "native",
}

setup(
    packages=[pkg for name, folder in FOLDERS.items() for pkg in found(folder, name)],
    package_dir=FOLDERS,
    # Data files, in whichever package folder they sit: demo pictures, board profiles and
    # the model manifest, templates and static files, type stubs.
    include_package_data=False,  # MANIFEST.in is for the sdist; the wheel takes only these
    package_data={
        "": [
            "*.jpg",
            "*.png",
            "*.toml",
            "*.sql",
            "*.html",
            "*.css",
            "*.js",
            "*.pyi",
            "*.pxd",
            "py.typed",
        ]
    },
    ext_modules=cythonize(
        EXTENSIONS,
        compiler_directives={"language_level": 3},
        include_path=["native"],
    ),
)
