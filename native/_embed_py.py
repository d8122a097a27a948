"""NumPy twins of ``_embed``: the readable specification of each kernel.

Top-k results are ordered best first; equal scores keep the lower gallery index first.
"""

from __future__ import annotations

import numpy as np


def _topk(scores: np.ndarray, k: int, largest: bool) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-scores if largest else scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, order, axis=1), order.astype(np.int64)


def topk_dot_f32(queries: np.ndarray, gallery: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(Q, D) x (N, D) float32 -> the k largest dot products per query and their indices."""
    return _topk(
        (queries.astype(np.float64) @ gallery.T.astype(np.float64)).astype(np.float32), k, True
    )


def topk_dot_i8(queries: np.ndarray, gallery: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(Q, D) x (N, D) int8 -> the k largest int32 dot products per query and their indices."""
    return _topk((queries.astype(np.int32) @ gallery.T.astype(np.int32)).astype(np.int32), k, True)


def topk_hamming(queries: np.ndarray, gallery: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(Q, W) x (N, W) uint64 packed bits -> the k smallest Hamming distances and indices."""
    x = queries[:, None, :] ^ gallery[None, :, :]
    bits = np.unpackbits(x.view(np.uint8), axis=-1).sum(axis=-1, dtype=np.int32)
    return _topk(bits, k, False)


def l2_normalize(x: np.ndarray) -> None:
    """In place: every row of (N, D) float32 to unit length; all-zero rows stay zero."""
    norms = np.sqrt((x.astype(np.float64) ** 2).sum(axis=1))
    nz = norms > 0
    x[nz] = (x[nz] / norms[nz, None]).astype(np.float32)


def quantize_i8(x: np.ndarray, out: np.ndarray, scales: np.ndarray) -> None:
    """Symmetric per-row int8: scale = max|x| / 127, out = rint(x / scale) in [-127, 127]."""
    peak = np.abs(x).max(axis=1) if x.shape[1] else np.zeros(x.shape[0], np.float32)
    scales[:] = (peak / np.float32(127)).astype(np.float32)
    inv = np.where(scales > 0, np.float32(1) / np.where(scales > 0, scales, 1), 0).astype(
        np.float32
    )
    out[:] = np.clip(np.rint(x * inv[:, None]), -127, 127).astype(np.int8)


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


def apply_rotation(x: np.ndarray, rotation: np.ndarray, out: np.ndarray) -> None:
    """out[n] = rotation @ x[n] for every row (float32 in, float32 out)."""
    out[...] = (x.astype(np.float64) @ rotation.T.astype(np.float64)).astype(np.float32)
