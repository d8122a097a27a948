"""NumPy twins of ``_warp``: the readable specification of each kernel."""

from __future__ import annotations

import numpy as np

WARP_BITS = 5  # sub-pixel positions in 1/32 pixel, as OpenCV does
COORD_BITS = 10  # source coordinates in 1/1024 pixel, stepped per column and row


def warp_affine(src: np.ndarray, inverse: np.ndarray, dst: np.ndarray) -> None:
    """Fill ``dst`` (h, w, C) by bilinear sampling ``src`` at ``inverse @ (x, y, 1)``.

    ``inverse`` (6 float64) maps destination pixel centres to source coordinates (pixel
    centres at integers). Coordinates are fixed point: the column and row terms are each
    rounded to 1/1024 pixel, their sum to 1/32; the four weights are integers summing to
    1024; neighbours outside the source count as 0; the result is rounded half up.
    """
    one, scale = 1 << WARP_BITS, 1 << COORD_BITS
    shift = COORD_BITS - WARP_BITS
    half = 1 << (shift - 1)
    h, w = dst.shape[:2]
    a, b, c, d, e, f = inverse
    xs, ys = np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64)
    ax, dx = np.rint(a * xs * scale).astype(np.int64), np.rint(d * xs * scale).astype(np.int64)
    by = np.rint((b * ys + c) * scale).astype(np.int64) + half
    ey = np.rint((e * ys + f) * scale).astype(np.int64) + half
    fxi = (ax[None, :] + by[:, None]) >> shift  # position in 1/32 pixel
    fyi = (dx[None, :] + ey[:, None]) >> shift
    x0, ix = fxi >> WARP_BITS, (fxi & (one - 1))[..., None]
    y0, iy = fyi >> WARP_BITS, (fyi & (one - 1))[..., None]
    H, W = src.shape[:2]

    def at(yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
        inside = ((yy >= 0) & (yy < H) & (xx >= 0) & (xx < W))[..., None]
        return np.where(inside, src[np.clip(yy, 0, H - 1), np.clip(xx, 0, W - 1)], 0).astype(
            np.int64
        )

    total = (
        at(y0, x0) * (one - ix) * (one - iy)
        + at(y0, x0 + 1) * ix * (one - iy)
        + at(y0 + 1, x0) * (one - ix) * iy
        + at(y0 + 1, x0 + 1) * ix * iy
    )
    dst[...] = ((total + (1 << (2 * WARP_BITS - 1))) >> (2 * WARP_BITS)).astype(np.uint8)


def reduce_area(src: np.ndarray, k: int, out: np.ndarray) -> None:
    """out[i, j] = the rounded (half up) mean of src's k x k block (i, j); blocks the edge
    cuts average the pixels they have."""
    h, w, c = src.shape
    hk, wk = -(-h // k), -(-w // k)
    padded = np.zeros((hk * k, wk * k, c), np.int64)
    padded[:h, :w] = src
    counts = np.zeros((hk * k, wk * k), np.int64)
    counts[:h, :w] = 1
    total = padded.reshape(hk, k, wk, k, c).sum(axis=(1, 3))
    n = counts.reshape(hk, k, wk, k).sum(axis=(1, 3))[..., None]
    out[...] = ((total + n // 2) // n).astype(np.uint8)
