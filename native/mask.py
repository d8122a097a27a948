"""Masks: the helpers of the vision pipeline, and redaction of a mask's regions; checks, then
the native kernel or its twin.

Masks are ``uint8`` HxW arrays; any non-zero value counts as set; results are 0/1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from veilcam_native import mask_kernels as _k
from veilcam_native import redact, redact_kernels
from veilcam_native.redact import BoxesLike


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
    b = redact.clip_boxes(boxes, m.shape)
    out = np.empty(len(b), np.float64)
    _k.region_fraction(m, b, out)
    return out


def mask_boxes(mask: np.ndarray, min_area: int = 1) -> np.ndarray:
    """Bounding boxes ``(x0, y0, x1, y1)`` of 8-connected set regions of at least
    ``min_area`` pixels, ordered by each region's first pixel in raster order."""
    rows = _k.mask_boxes(_mask(mask))
    return np.ascontiguousarray(rows[rows[:, 4] >= min_area, :4])


def ellipse_mask(shape: tuple[int, ...], ellipses: BoxesLike) -> np.ndarray:
    """HxW 0/1 mask of axis-aligned ellipses given as rows ``(cx, cy, rx, ry)``."""
    h, w = shape[0], shape[1]
    out = np.zeros((h, w), np.uint8)
    for cx, cy, rx, ry in np.asarray(ellipses, dtype=np.float64).reshape(-1, 4):
        if rx <= 0 or ry <= 0:
            continue
        box = redact.clip_boxes([(cx - rx, cy - ry, cx + rx + 1, cy + ry + 1)], shape)
        if not len(box):
            continue
        x0, y0, x1, y1 = box[0]
        yy, xx = np.mgrid[y0:y1, x0:x1]
        inside = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1.0
        out[y0:y1, x0:x1] |= inside.astype(np.uint8)
    return out


def redact_mask(
    image: np.ndarray,
    mask: np.ndarray,
    mode: str = "fill",
    *,
    feather: int = 0,
    colour: Sequence[int] | int = 0,
    max_cells: int = 5,
    radius: int = 8,
) -> np.ndarray:
    """Redact every set pixel of ``mask`` with ``mode`` (fill | pixelate | blur), in place.

    Each connected region is treated on its own bounding box. ``feather`` softens the edge
    outward over that many pixels; inside the mask the effect is always at full strength.
    Returns the boxes that were redacted.
    """
    img = redact.checked_image(image)
    if mode not in ("fill", "pixelate", "blur"):
        raise ValueError(f"mode must be fill, pixelate or blur, not {mode!r}")
    if feather < 0:
        raise ValueError(f"feather must not be negative, not {feather}")
    core = (_mask(mask) != 0).astype(np.uint8)
    if core.shape != img.shape[:2]:
        raise ValueError(f"mask {core.shape} and image {img.shape[:2]} differ in size")
    grown = dilate(core, feather) if feather else core
    boxes = mask_boxes(grown)
    for x0, y0, x1, y1 in boxes:
        effect = np.ascontiguousarray(img[y0:y1, x0:x1])
        whole = [(0, 0, x1 - x0, y1 - y0)]
        if mode == "fill":
            redact.fill(effect, whole, colour)
        elif mode == "pixelate":
            redact.pixelate(effect, whole, max_cells)
        else:
            redact.box_blur(effect, whole, radius)
        alpha = np.ascontiguousarray(grown[y0:y1, x0:x1] * np.uint8(255))
        if feather:
            soft = np.ascontiguousarray(alpha[:, :, None])
            redact.box_blur(soft, whole, feather)
            alpha = np.maximum(soft[:, :, 0], core[y0:y1, x0:x1] * np.uint8(255))
        redact_kernels.blend_region(img, effect, np.ascontiguousarray(alpha), int(x0), int(y0))
    return boxes
