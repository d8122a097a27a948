"""Native kernels with plain twins; ``VEILCAM_NO_EXTENSIONS=1`` selects the twins.

This package does no I/O and knows nothing of the daemon.
"""

import os

from . import _checksum_py

IMPLEMENTATION: str
IMPORT_ERROR: str | None = None

if os.environ.get("VEILCAM_NO_EXTENSIONS", "") not in ("", "0"):
    xor8 = _checksum_py.xor8
    IMPLEMENTATION = "python (VEILCAM_NO_EXTENSIONS set)"
else:
    try:
        from ._checksum import xor8
    except ImportError as exc:  # not built: the twins are correct, only slower
        xor8 = _checksum_py.xor8
        IMPLEMENTATION = "python (extensions not built)"
        IMPORT_ERROR = str(exc)
    else:
        IMPLEMENTATION = "native"

__all__ = ["IMPLEMENTATION", "IMPORT_ERROR", "xor8"]
