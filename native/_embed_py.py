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


def apply_rotation(x: np.ndarray, rotation: np.ndarray, out: np.ndarray) -> None:
    """out[n] = rotation @ x[n] for every row (float32 in, float32 out)."""
    out[...] = (x.astype(np.float64) @ rotation.T.astype(np.float64)).astype(np.float32)
