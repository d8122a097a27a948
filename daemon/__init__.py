"""veilcam: privacy-first camera appliance for shops."""

from importlib.metadata import version

# One version, pyproject.toml's, as installed (a wheel, or `pip install -e .`).
__version__ = version("veilcam")
