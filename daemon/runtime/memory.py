"""glibc allocator settings for a long-running daemon that handles frame-sized arrays.

glibc raises its mmap threshold each time a large block is freed, after which frames
(megabytes each) come from the heap and the heap only grows: fragmented, never returned.
Fixing the threshold at 1 MiB keeps every frame-sized array in its own mapping, returned to
the system when freed; two malloc arenas instead of eight per core stop a dozen worker
threads from each holding their own. On anything but glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8


def tune(mmap_threshold: int = 1 << 20, arenas: int = 2) -> bool:
    """Apply the settings; True if the C library took them."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(M_ARENA_MAX, arenas))
    if not ok:
        log.debug("mallopt refused the allocator settings")
    return ok
