"""NumPy twins of ``_redact``: the readable specification of each kernel.

All kernels work in place on a C-contiguous ``uint8`` image of shape HxWxC and take
boxes as an ``int64`` array of rows ``(x0, y0, x1, y1)``, end-exclusive, already
clipped to the image and non-empty (the wrapper in ``redact.py`` guarantees both).
Boxes are processed in order; where they overlap, later boxes see earlier results.
"""

from __future__ import annotations

import numpy as np


def fill_boxes(image: np.ndarray, boxes: np.ndarray, colour: np.ndarray) -> None:
    for x0, y0, x1, y1 in boxes:
        image[y0:y1, x0:x1] = colour


def pixelate_boxes(image: np.ndarray, boxes: np.ndarray, cells: np.ndarray) -> None:
    """Each box becomes square cells of ``cells[i]`` pixels, each the rounded mean of itself."""
    for (x0, y0, x1, y1), cell in zip(boxes, cells, strict=True):
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
    for (x0, y0, x1, y1), r in zip(boxes, radii, strict=True):
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
