"""Polygons drawn on a camera's view (fractions of the picture) as pixel masks."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw


def polygon_mask(shape: tuple[int, int], polygon: tuple[tuple[float, float], ...]) -> np.ndarray:
    """``polygon`` (corners as fractions of width and height) as a 0/1 mask of ``shape``."""
    h, w = shape
    img = Image.new("L", (w, h), 0)
    ImageDraw.Draw(img).polygon([(x * w, y * h) for x, y in polygon], fill=1)
    return np.asarray(img, dtype=np.uint8)
