"""Native kernels with plain twins; ``VEILCAM_NO_EXTENSIONS=1`` selects the twins.

The selection is static, as aiohttp and yarl make it: type checkers take the first branch
and so see the twins' signatures at every kernel call; at run time the compiled modules are
used unless they are missing or switched off. This package does no I/O and knows nothing of
the daemon.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

NO_EXTENSIONS = os.environ.get("VEILCAM_NO_EXTENSIONS", "") not in ("", "0")
IMPORT_ERROR: str | None = None

if TYPE_CHECKING or NO_EXTENSIONS:
    from veilcam_native import _checksum_py as checksum_kernels
    from veilcam_native import _embed_py as embed_kernels
    from veilcam_native import _mask_py as mask_kernels
    from veilcam_native import _redact_py as redact_kernels
    from veilcam_native import _stock_py as stock_kernels
    from veilcam_native import _warp_py as warp_kernels
else:
    try:
        from veilcam_native import _checksum as checksum_kernels
        from veilcam_native import _embed as embed_kernels
        from veilcam_native import _mask as mask_kernels
        from veilcam_native import _redact as redact_kernels
        from veilcam_native import _stock as stock_kernels
        from veilcam_native import _warp as warp_kernels
    except ImportError as exc:  # not built: the twins are correct, only slower
        IMPORT_ERROR = str(exc)
        from veilcam_native import _checksum_py as checksum_kernels
        from veilcam_native import _embed_py as embed_kernels
        from veilcam_native import _mask_py as mask_kernels
        from veilcam_native import _redact_py as redact_kernels
        from veilcam_native import _stock_py as stock_kernels
        from veilcam_native import _warp_py as warp_kernels

xor8 = checksum_kernels.xor8

if NO_EXTENSIONS:
    IMPLEMENTATION = "python (VEILCAM_NO_EXTENSIONS set)"
elif IMPORT_ERROR:
    IMPLEMENTATION = "python (extensions not built)"
else:
    IMPLEMENTATION = "native"
# Whether the x86-64 SIMD loops (SSE4.1, AVX2, FMA) run; ARM boards run the plain C loops.
SIMD = bool(getattr(embed_kernels, "HAS_SIMD", False))
# Whether the AVX-512 loops run too (the box blur; top-k and Hamming pick theirs per call).
WIDE = bool(getattr(redact_kernels, "HAS_WIDE", False))

__all__ = [
    "IMPLEMENTATION",
    "IMPORT_ERROR",
    "NO_EXTENSIONS",
    "SIMD",
    "WIDE",
    "checksum_kernels",
    "embed_kernels",
    "mask_kernels",
    "redact_kernels",
    "stock_kernels",
    "warp_kernels",
    "xor8",
]
