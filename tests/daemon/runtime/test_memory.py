"""The allocator settings take on glibc, and frame-sized arrays go back to the system."""

from __future__ import annotations

import numpy as np

from veilcam.runtime.memory import tune


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
