"""The research demo's scene: a shopper walks into the aisle, stops at the right-hand shelf,
leans in and takes a product, and walks away; drawn frame by frame from the demo's own
pictures, so its movement events are known: one enter, one dwell, one reach, one take.

The shopper is ``people/reacher.png`` (cut out by ``board/demo/make_samples.py``): a man
leaning forward with both hands out, whose pose the landmark model places; his hands reach
the shelf zone only when he leans in. The aisle is ``floor/aisle-1.jpg``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from veilcam.demo.config import assets

FPS = 10
W, H = 1280, 720
SHOPPER_H = 520  # drawn this tall, his feet below the picture
SHOPPER_W = 389
# Where his hands are on the drawn sprite (from its left and top), roughly.
HANDS_AT = (272, 174)
# The shelf zone the study watches, and the product in it that he takes.
ZONE = ((0.72, 0.33), (0.87, 0.33), (0.87, 0.56), (0.72, 0.56))
PRODUCT = (950, 270, 1060, 380)
SHELF = (120, 128, 140)
AREA = ((0.0, 0.3), (1.0, 0.3), (1.0, 1.0), (0.0, 1.0))
# Ground truth of one pass of the scene.
EVENTS = {"enter": 1, "dwell": 1, "reach": 1, "take": 1}
STAND, LEAN = 540, 720  # where he stands at the shelf (hands outside the zone), and leans


@dataclass(frozen=True)
class Beat:
    frames: int
    x0: int | None  # where he starts (None: not in the picture)
    x1: int | None
    product: bool  # still on the shelf


# 12.5 s: empty aisle, walk in, stand by the shelf, lean in (the product goes), step back,
# walk out, empty again.
BEATS = [
    Beat(10, None, None, True),
    Beat(30, -SHOPPER_W, STAND, True),
    Beat(30, STAND, STAND, True),
    Beat(5, STAND, LEAN, True),
    Beat(5, LEAN, LEAN, False),
    Beat(5, LEAN, STAND, False),
    Beat(25, STAND, -SHOPPER_W, False),
    Beat(15, None, None, False),
]


def _sprite() -> Image.Image:
    with Image.open(assets() / "people" / "reacher.png") as f:
        return f.convert("RGBA").resize((SHOPPER_W, SHOPPER_H), Image.Resampling.LANCZOS)


def frames() -> list[Image.Image]:
    with Image.open(assets() / "floor" / "aisle-1.jpg") as f:
        aisle = f.convert("RGB")
    stocked = aisle.copy()
    ImageDraw.Draw(stocked).rectangle(PRODUCT, fill=(200, 30, 40))
    taken = aisle.copy()
    ImageDraw.Draw(taken).rectangle(PRODUCT, fill=SHELF)
    sprite = _sprite()
    out = []
    for beat in BEATS:
        for i in range(beat.frames):
            img = (stocked if beat.product else taken).copy()
            if beat.x0 is not None and beat.x1 is not None:
                t = i / max(1, beat.frames - 1)
                x = round(beat.x0 + (beat.x1 - beat.x0) * t)
                img.paste(sprite, (x, H - SHOPPER_H), sprite)
            out.append(img)
    return out


def write(folder: Path) -> int:
    """The scene's frames as numbered JPEGs in ``folder`` (replayed in name order)."""
    folder.mkdir(parents=True, exist_ok=True)
    pictures = frames()
    for n, img in enumerate(pictures):
        img.save(folder / f"{n:04d}.jpg", quality=90)
    return len(pictures)
