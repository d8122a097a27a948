"""Mask helpers' API for the vision pipeline: checks, then the native kernel or its twin.

Masks are ``uint8`` HxW arrays; any non-zero value counts as set; results are 0/1.
"""

from __future__ import annotations

import numpy as np

from . import mask_kernels as _k
from .redact import BoxesLike, clip_boxes


def _mask(m: np.ndarray) -> np.ndarray:
    if not isinstance(m, np.ndarray) or m.dtype != np.uint8 or m.ndim != 2:
        raise TypeError("mask must be an HxW uint8 numpy array")
    return np.ascontiguousarray(m)


def _image(a: np.ndarray, name: str) -> np.ndarray:
    if not isinstance(a, np.ndarray) or a.dtype != np.uint8 or a.ndim not in (2, 3):
        raise TypeError(f"{name} must be an HxW or HxWxC uint8 numpy array")
    return np.ascontiguousarray(a if a.ndim == 3 else a[:, :, None])


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Grow every set region by ``radius`` pixels in each direction (square window)."""
    if radius < 0:
        raise ValueError(f"radius must not be negative, not {radius}")
    m = _mask(mask)
    out = np.empty_like(m)
    _k.dilate(m, int(radius), out)
    return out


def absdiff_mask(image: np.ndarray, reference: np.ndarray, threshold: int) -> np.ndarray:
    """1 where any channel of ``image`` differs from ``reference`` by more than ``threshold``."""
    a, b = _image(image, "image"), _image(reference, "reference")
    if a.shape != b.shape:
        raise ValueError(f"image {a.shape} and reference {b.shape} differ in shape")
    if not 0 <= threshold <= 255:
        raise ValueError(f"threshold must be 0..255, not {threshold}")
    out = np.empty(a.shape[:2], np.uint8)
    _k.absdiff_mask(a, b, int(threshold), out)
    return out


def region_fraction(mask: np.ndarray, boxes: BoxesLike) -> np.ndarray:
    """Share of set pixels inside each box (clipped; boxes wholly outside are dropped)."""
    m = _mask(mask)
    b = clip_boxes(boxes, m.shape)
    out = np.empty(len(b), np.float64)
    _k.region_fraction(m, b, out)
    return out


def mask_boxes(mask: np.ndarray, min_area: int = 1) -> np.ndarray:
    """Bounding boxes ``(x0, y0, x1, y1)`` of 8-connected set regions of at least
    ``min_area`` pixels, ordered by each region's first pixel in raster order."""
    rows = _k.mask_boxes(_mask(mask))
    return np.ascontiguousarray(rows[rows[:, 4] >= min_area, :4])
