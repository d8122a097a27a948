"""glibc allocator settings for a long-running daemon that handles frame-sized arrays.

glibc raises its mmap threshold each time a large block is freed, after which frames
(megabytes each) come from the heap and the heap only grows: fragmented, never returned.
Fixing the threshold at 1 MiB keeps every frame-sized array in its own mapping, returned to
the system when freed; two malloc arenas instead of eight per core stop a dozen worker
threads from each holding their own. Smaller arrays (masks, model inputs: a few hundred
kilobytes each, tens of them a frame) still come from the arenas, whose freed pages glibc
keeps; ``trim`` hands them back, and the supervisor calls it every minute. On anything but
glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


def trim() -> bool:
    """Return the arenas' free pages to the system (``malloc_trim(0)``); True if any were."""
    libc = _libc()
    malloc_trim = getattr(libc, "malloc_trim", None)
    return bool(malloc_trim(0)) if malloc_trim is not None else False


def tune(mmap_threshold: int = 1 << 20, arenas: int = 2) -> bool:
    """Apply the settings; True if the C library took them."""
    mallopt = getattr(_libc(), "mallopt", None)
    if mallopt is None:
        return False
    ok = bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(M_ARENA_MAX, arenas))
    if not ok:
        log.debug("mallopt refused the allocator settings")
    return ok
