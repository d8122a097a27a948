"""Model inputs cut from a frame: tiles at the frame's edge and beyond it."""

from __future__ import annotations

import numpy as np
import pytest

from veilcam.vision.detect import _square_input, squares


@pytest.mark.parametrize("origin", [(-150, -150), (-150, 0), (0, -250), (1700, 900)])
def test_a_tile_past_the_frame_edge_is_black_there(origin: tuple[int, int]) -> None:
    """A tile reaching past the frame (a crop round a region at the edge) reads as the frame
    padded with black, also when it is reduced by a whole factor first (side >= 2x size)."""
    yy, xx = np.mgrid[0:1080, 0:1920]
    # Smooth content: a grid of blocks a few pixels apart would average alike.
    wave = 128 + 100 * np.sin(xx / 97.0) * np.cos(yy / 61.0)
    frame = np.stack([wave, 255 - wave, np.full_like(wave, 200)], 2).astype(np.uint8)
    pad = 800
    padded = np.zeros((1080 + 2 * pad, 1920 + 2 * pad, 3), np.uint8)
    padded[pad:-pad, pad:-pad] = frame
    x0, y0 = origin
    for side, size in ((1600, 256), (800, 192), (300, 192)):
        got, scale = _square_input(frame, x0, y0, side, size)
        want, _ = _square_input(padded, x0 + pad, y0 + pad, side, size)
        assert scale == size / side
        assert got.shape == (size, size, 3)
        # Block grids may sit a few pixels apart, and edge blocks average only the
        # pixels the frame has: a row of output pixels along the edge may differ.
        assert (np.abs(got.astype(int) - want.astype(int)).max(2) > 12).mean() < 0.02


def test_squares_cover_the_frame() -> None:
    tiles = squares(1080, 1920, 480, 0.25)
    covered = np.zeros((1080, 1920), bool)
    for x0, y0, side in tiles:
        covered[y0 : y0 + side, x0 : x0 + side] = True
    assert covered.all()
    assert squares(300, 200, 480, 0.25) == [(0, 0, 300)]
