"""The allocator settings take on glibc, and frame-sized arrays go back to the system."""

from __future__ import annotations

import numpy as np

from veilcam.runtime.memory import trim, tune


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def test_frames_are_returned_to_the_system_after_tuning() -> None:
    assert tune() is True  # this machine runs glibc
    before = rss_mb()
    for _ in range(20):  # twenty 1080p frames, freed one by one
        frame = np.ones((1080, 1920, 3), np.uint8)
        del frame
    assert rss_mb() - before < 20


def test_trim_returns_freed_arena_pages() -> None:
    """Mask-sized arrays (below the mmap threshold) come from the arenas; once freed, trim
    gives their pages back instead of leaving the heap at its high-water mark."""
    tune()
    trim()
    base = rss_mb()
    held = [np.ones(900_000, np.uint8) for _ in range(60)]  # ~54 MB of 0.9 MB masks
    grown = rss_mb()
    del held
    trim()
    assert grown - base > 40
    assert rss_mb() - base < 10
