"""Polygons drawn on a camera's view (fractions of the picture) as pixel masks, and the
overlap of two boxes, by which trackers follow people from frame to frame."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw


def polygon_mask(shape: tuple[int, int], polygon: tuple[tuple[float, float], ...]) -> np.ndarray:
    """``polygon`` (corners as fractions of width and height) as a 0/1 mask of ``shape``."""
    h, w = shape
    img = Image.new("L", (w, h), 0)
    ImageDraw.Draw(img).polygon([(x * w, y * h) for x, y in polygon], fill=1)
    return np.asarray(img, dtype=np.uint8)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boxes (x0, y0, x1, y1)."""
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0
