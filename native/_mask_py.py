"""NumPy twins of ``_mask``: the readable specification of each mask helper.

Masks are ``uint8`` HxW arrays where any non-zero value means "set"; helpers return 0/1.
"""

from __future__ import annotations

from collections import deque

import numpy as np


def _window_count(a: np.ndarray, r: int, axis: int) -> np.ndarray:
    n = a.shape[axis]
    c = np.concatenate(
        [
            np.zeros_like(np.take(a, [0], axis=axis), dtype=np.int64),
            np.cumsum(a, axis=axis, dtype=np.int64),
        ],
        axis=axis,
    )
    idx = np.arange(n)
    counts: np.ndarray = np.take(c, np.minimum(idx + r + 1, n), axis=axis) - np.take(
        c, np.maximum(idx - r, 0), axis=axis
    )
    return counts


def dilate(mask: np.ndarray, radius: int, out: np.ndarray) -> None:
    """out = 1 where any set pixel lies within the (2r+1)x(2r+1) square around it."""
    on = (mask != 0).astype(np.int64)
    out[...] = (_window_count(_window_count(on, radius, 0), radius, 1) > 0).astype(np.uint8)


def absdiff_mask(a: np.ndarray, b: np.ndarray, threshold: int, out: np.ndarray) -> None:
    """out = 1 where any channel differs by more than ``threshold``."""
    out[...] = (np.abs(a.astype(np.int16) - b.astype(np.int16)) > threshold).any(axis=2)


def region_fraction(mask: np.ndarray, boxes: np.ndarray, out: np.ndarray) -> None:
    """out[i] = share of set pixels inside box i (boxes clipped and non-empty)."""
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        out[i] = np.count_nonzero(mask[y0:y1, x0:x1]) / ((x1 - x0) * (y1 - y0))


def mask_boxes(mask: np.ndarray) -> np.ndarray:
    """Bounding boxes (x0, y0, x1, y1, area) of 8-connected components, in raster order of
    each component's first pixel."""
    h, w = mask.shape
    seen = np.zeros((h, w), bool)
    out = []
    for y, x in zip(*np.nonzero(mask), strict=True):
        if seen[y, x]:
            continue
        seen[y, x] = True
        queue = deque([(y, x)])
        x0 = x1 = x
        y0 = y1 = y
        area = 0
        while queue:
            cy, cx = queue.popleft()
            area += 1
            x0, x1, y0, y1 = min(x0, cx), max(x1, cx), min(y0, cy), max(y1, cy)
            for ny in range(max(cy - 1, 0), min(cy + 2, h)):
                for nx in range(max(cx - 1, 0), min(cx + 2, w)):
                    if mask[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        queue.append((ny, nx))
        out.append((x0, y0, x1 + 1, y1 + 1, area))
    return np.array(out, np.int64).reshape(-1, 5)
