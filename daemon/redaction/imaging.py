"""Picture encoding for storage: metadata-free JPEG, and the blank frame of a failed redaction."""

from __future__ import annotations

import io
import textwrap

import numpy as np
from PIL import Image, ImageDraw, ImageFont

BLANK_GREY = 64


def encode_jpeg(pixels: np.ndarray, quality: int = 85) -> bytes:
    """RGB array -> baseline JPEG. Built from bare pixels, so no EXIF, XMP, ICC or thumbnail."""
    buf = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def blank_frame(height: int, width: int, reason: str) -> np.ndarray:
    """A uniform frame that says why the picture is missing; nothing of the original survives."""
    height, width = max(16, min(height, 2160)), max(16, min(width, 3840))
    img = Image.new("RGB", (width, height), (BLANK_GREY,) * 3)
    draw = ImageDraw.Draw(img)
    size = max(10, width // 48)
    try:
        font: ImageFont.ImageFont | ImageFont.FreeTypeFont = ImageFont.load_default(size=size)
    except TypeError:  # Pillow built without FreeType
        font = ImageFont.load_default()
    lines = [
        "picture withheld: redaction did not run",
        *textwrap.wrap(reason, max(20, width // (size // 2 + 1))),
    ]
    y = height // 3
    for line in lines:
        draw.text((width // 20, y), line, fill=(230, 230, 230), font=font)
        y += int(size * 1.4)
    return np.asarray(img)
