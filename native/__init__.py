"""Native kernels with plain twins; ``VEILCAM_NO_EXTENSIONS=1`` selects the twins.

This package does no I/O and knows nothing of the daemon.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

IMPORT_ERROR: str | None = None
_FORCED = os.environ.get("VEILCAM_NO_EXTENSIONS", "") not in ("", "0")


def _select(native: str, twin: str) -> ModuleType:
    global IMPORT_ERROR
    if not _FORCED:
        try:
            return importlib.import_module(f"{__name__}.{native}")
        except ImportError as exc:  # not built: the twins are correct, only slower
            IMPORT_ERROR = str(exc)
    return importlib.import_module(f"{__name__}.{twin}")


checksum_kernels = _select("_checksum", "_checksum_py")
redact_kernels = _select("_redact", "_redact_py")
embed_kernels = _select("_embed", "_embed_py")
warp_kernels = _select("_warp", "_warp_py")
mask_kernels = _select("_mask", "_mask_py")
xor8 = checksum_kernels.xor8

if _FORCED:
    IMPLEMENTATION = "python (VEILCAM_NO_EXTENSIONS set)"
elif IMPORT_ERROR:
    IMPLEMENTATION = "python (extensions not built)"
else:
    IMPLEMENTATION = "native"
# Whether the x86-64 SIMD loops (SSE4.1, AVX2, FMA) run; ARM boards run the plain C loops.
SIMD = bool(getattr(embed_kernels, "HAS_SIMD", False))
# Whether the AVX-512 loops run too (the box blur; top-k and Hamming pick theirs per call).
WIDE = bool(getattr(redact_kernels, "HAS_WIDE", False))

__all__ = ["IMPLEMENTATION", "IMPORT_ERROR", "SIMD", "WIDE", "xor8"]
