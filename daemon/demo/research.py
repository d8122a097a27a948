"""The research demo's scene: a shopper walks into the aisle, stops at the right-hand shelf,
leans in and takes a product, and walks away; drawn frame by frame from the demo's own
pictures, so its movement events are known: one enter, one dwell, one reach, one take.

The shopper is cut out of ``floor/aisle-0-shopper.jpg`` with the mask the sample script
composited her with (``board/demo/make_samples.py``); the aisle is ``floor/aisle-1.jpg``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from veilcam.demo.config import assets

FPS = 10
W, H = 1280, 720
# Where make_samples.py pasted her in aisle-0-shopper.jpg, and how tall she was drawn.
SHOPPER_AT, SHOPPER_H, SHOPPER_W = (420, 250), 470, 296
# The shelf zone the study watches, and the product in it that she takes.
ZONE = ((0.72, 0.33), (0.87, 0.33), (0.87, 0.56), (0.72, 0.56))
PRODUCT = (950, 270, 1060, 380)
SHELF = (120, 128, 140)
AREA = ((0.0, 0.3), (1.0, 0.3), (1.0, 1.0), (0.0, 1.0))
# Ground truth of one pass of the scene.
EVENTS = {"enter": 1, "dwell": 1, "reach": 1, "take": 1}


@dataclass(frozen=True)
class Beat:
    frames: int
    x0: int | None  # where she starts (None: not in the picture)
    x1: int | None
    product: bool  # still on the shelf


# 12.5 s: empty aisle, walk in, stand by the shelf, lean in (the product goes), step back,
# walk out, empty again.
BEATS = [
    Beat(10, None, None, True),
    Beat(30, -200, 560, True),
    Beat(30, 560, 560, True),
    Beat(5, 560, 800, True),
    Beat(5, 800, 800, False),
    Beat(5, 800, 560, False),
    Beat(25, 560, -320, False),
    Beat(15, None, None, False),
]


def _sprite() -> tuple[Image.Image, Image.Image]:
    with Image.open(assets() / "floor" / "aisle-0-shopper.jpg") as f:
        shot = f.convert("RGB")
    x, y = SHOPPER_AT
    sprite = shot.crop((x, y, x + SHOPPER_W, y + SHOPPER_H))
    mask = Image.new("L", sprite.size, 0)
    d = ImageDraw.Draw(mask)
    w, h = SHOPPER_W, SHOPPER_H
    d.ellipse([w * 0.22, 0, w * 0.78, h * 0.45], fill=255)
    d.rounded_rectangle([0, h * 0.38, w, h * 1.3], radius=w // 4, fill=255)
    return sprite, mask.filter(ImageFilter.GaussianBlur(4))


def frames() -> list[Image.Image]:
    with Image.open(assets() / "floor" / "aisle-1.jpg") as f:
        aisle = f.convert("RGB")
    stocked = aisle.copy()
    ImageDraw.Draw(stocked).rectangle(PRODUCT, fill=(200, 30, 40))
    taken = aisle.copy()
    ImageDraw.Draw(taken).rectangle(PRODUCT, fill=SHELF)
    sprite, mask = _sprite()
    out = []
    for beat in BEATS:
        for i in range(beat.frames):
            img = (stocked if beat.product else taken).copy()
            if beat.x0 is not None and beat.x1 is not None:
                t = i / max(1, beat.frames - 1)
                x = round(beat.x0 + (beat.x1 - beat.x0) * t)
                img.paste(sprite, (x, H - SHOPPER_H), mask)
            out.append(img)
    return out


def write(folder: Path) -> int:
    """The scene's frames as numbered JPEGs in ``folder`` (replayed in name order)."""
    folder.mkdir(parents=True, exist_ok=True)
    pictures = frames()
    for n, img in enumerate(pictures):
        img.save(folder / f"{n:04d}.jpg", quality=90)
    return len(pictures)
