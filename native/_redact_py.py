"""NumPy twins of ``_redact``: the readable specification of each kernel.

All kernels work in place on a C-contiguous ``uint8`` image of shape HxWxC and take
boxes as an ``int64`` array of rows ``(x0, y0, x1, y1)``, end-exclusive. Each box is
clipped to the image first; what is empty after clipping is skipped. Boxes are processed
in order; where they overlap, later boxes see earlier results.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def clipped(boxes: np.ndarray, shape: tuple[int, ...]) -> Iterator[tuple[int, int, int, int, int]]:
    """(index, x0, y0, x1, y1) of every box that keeps some pixels once clipped to ``shape``."""
    h, w = shape[0], shape[1]
    for i, (x0, y0, x1, y1) in enumerate(boxes.tolist()):
        x0, x1 = min(max(x0, 0), w), min(max(x1, 0), w)
        y0, y1 = min(max(y0, 0), h), min(max(y1, 0), h)
        if x1 > x0 and y1 > y0:
            yield i, x0, y0, x1, y1


def fill_boxes(image: np.ndarray, boxes: np.ndarray, colour: bytes | np.ndarray) -> None:
    colour = np.frombuffer(bytes(colour), np.uint8)
    for _, x0, y0, x1, y1 in clipped(boxes, image.shape):
        image[y0:y1, x0:x1] = colour


def pixelate_boxes(image: np.ndarray, boxes: np.ndarray, max_cells: int) -> None:
    """Square cells of ceil(width / max_cells) pixels, each the rounded mean of itself."""
    if max_cells < 1:
        raise ValueError(f"max_cells must be at least 1, not {max_cells}")
    for _, x0, y0, x1, y1 in clipped(boxes, image.shape):
        cell = max(1, -(-(x1 - x0) // max_cells))
        for cy in range(y0, y1, cell):
            for cx in range(x0, x1, cell):
                block = image[cy : min(cy + cell, y1), cx : min(cx + cell, x1)]
                n = block.shape[0] * block.shape[1]
                total = block.reshape(n, -1).sum(axis=0, dtype=np.int64)
                block[...] = ((total + n // 2) // n).astype(np.uint8)


def _window_sums(a: np.ndarray, r: int, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Sums and counts of the window [i-r, i+r] clamped to the array, along ``axis``."""
    n = a.shape[axis]
    c = np.cumsum(a, axis=axis, dtype=np.int64)
    c = np.concatenate([np.zeros_like(np.take(c, [0], axis=axis)), c], axis=axis)
    idx = np.arange(n)
    hi, lo = np.minimum(idx + r + 1, n), np.maximum(idx - r, 0)
    return np.take(c, hi, axis=axis) - np.take(c, lo, axis=axis), hi - lo


def box_blur_boxes(image: np.ndarray, boxes: np.ndarray, radii: np.ndarray) -> None:
    """Mean over a (2r+1)^2 window clamped to the box, rounded half up."""
    if len(radii) != len(boxes):
        raise ValueError(f"{len(radii)} radii for {len(boxes)} boxes")
    if (np.asarray(radii) < 0).any():
        raise ValueError("blur radius must not be negative")
    for i, x0, y0, x1, y1 in clipped(boxes, image.shape):
        r = radii[i]
        region = image[y0:y1, x0:x1].astype(np.int64)
        vs, vn = _window_sums(region, int(r), 0)
        hs, hn = _window_sums(vs, int(r), 1)
        count = (vn[:, None] * hn[None, :])[..., None]
        image[y0:y1, x0:x1] = ((hs + count // 2) // count).astype(np.uint8)


def blend_region(
    image: np.ndarray, effect: np.ndarray, alpha: np.ndarray, x0: int, y0: int
) -> None:
    """image[y0:, x0:] = (effect * a + image * (255 - a) + 127) // 255 over alpha's extent."""
    h, w = alpha.shape
    region = image[y0 : y0 + h, x0 : x0 + w].astype(np.int32)
    a = alpha.astype(np.int32)[..., None]
    image[y0 : y0 + h, x0 : x0 + w] = (
        (effect.astype(np.int32) * a + region * (255 - a) + 127) // 255
    ).astype(np.uint8)
