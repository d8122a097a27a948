"""Draw the demo store's replay pictures: fridge shelves and a shop aisle, empty, and with a
shopper in them so that a new user sees a person redacted.

The shelves and aisles are drawn here; the shopper is NASA's portrait of Eileen Collins
(public domain), the ``astronaut.png`` that scikit-image's wheel ships, fetched from the
package registry pinned by SHA-256 like the models (``tests/assets.toml``). The research
demo's shopper, who leans forward with both hands out, is the same wheel's ``camera.png``
(Lav Varshney, CC0), cut from its background by the product's own person segmentation
(``people/reacher.png``, greyscale with transparency). Deterministic.
Run: python board/demo/make_samples.py  (writes daemon/demo/assets/{fridge,floor}/*.jpg)
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from veilcam.vision import models

W, H = 1280, 720
OUT = Path(__file__).resolve().parents[2] / "daemon" / "demo" / "assets"
COLOURS = [
    (200, 30, 40),
    (30, 110, 200),
    (240, 200, 40),
    (40, 160, 80),
    (240, 120, 20),
    (120, 60, 160),
    (230, 230, 230),
    (90, 50, 30),
]


def fridge(rng: random.Random, fill: float) -> Image.Image:
    img = Image.new("RGB", (W, H), (28, 32, 38))
    d = ImageDraw.Draw(img)
    d.rectangle([60, 30, W - 60, H - 30], fill=(210, 218, 224))  # lit interior
    shelves = [170, 330, 490, 650]
    for y in shelves:
        d.rectangle([60, y, W - 60, y + 12], fill=(150, 160, 170))
    for top, bottom in zip([40, *[s + 12 for s in shelves[:-1]]], shelves, strict=True):
        x = 80
        while x < W - 130:
            w = rng.choice([52, 60, 70, 90])
            if rng.random() < fill:
                h = rng.randint((bottom - top) * 6 // 10, bottom - top - 8)
                colour = rng.choice(COLOURS)
                if w < 65:  # bottle: neck and cap
                    d.rounded_rectangle([x, bottom - h + 25, x + w, bottom], 10, fill=colour)
                    d.rectangle(
                        [x + w // 3, bottom - h, x + 2 * w // 3, bottom - h + 28], fill=colour
                    )
                    d.rectangle(
                        [x + w // 3, bottom - h, x + 2 * w // 3, bottom - h + 8],
                        fill=(250, 250, 250),
                    )
                else:  # carton with a label
                    d.rectangle([x, bottom - h, x + w, bottom], fill=colour)
                    d.rectangle(
                        [x + 6, bottom - h * 2 // 3, x + w - 6, bottom - h // 3],
                        fill=(245, 245, 240),
                    )
            x += w + rng.randint(6, 14)
    return img.filter(ImageFilter.GaussianBlur(0.8))


def aisle(rng: random.Random) -> Image.Image:
    img = Image.new("RGB", (W, H), (236, 234, 228))
    d = ImageDraw.Draw(img)
    d.polygon([(0, H), (W, H), (W // 2 + 90, H // 2), (W // 2 - 90, H // 2)], fill=(196, 190, 178))
    for side in (-1, 1):
        edge = W // 2 + side * 90
        outer = 0 if side < 0 else W
        d.polygon(
            [(outer, 60), (edge, H // 2 - 140), (edge, H // 2), (outer, H)], fill=(120, 128, 140)
        )
        for k in range(1, 6):
            t = k / 6
            y_out, y_in = 60 + t * (H - 60), H // 2 - 140 + t * 140
            d.line([(outer, y_out), (edge, y_in)], fill=(90, 96, 104), width=4)
            for j in range(14):
                u0, u1 = j / 14, (j + 0.7) / 14
                x0, x1 = outer + (edge - outer) * u0, outer + (edge - outer) * u1
                ya = y_out + (y_in - y_out) * u0
                d.rectangle(
                    [min(x0, x1), ya - 30 * (1 - u0) - 4, max(x0, x1), ya - 2],
                    fill=rng.choice(COLOURS),
                )
    d.rectangle([W // 2 - 200, 10, W // 2 + 200, 50], fill=(30, 90, 160))
    return img.filter(ImageFilter.GaussianBlur(0.7))


ASSETS = Path(__file__).resolve().parents[2] / "tests" / "assets.toml"


def astronaut() -> Image.Image:
    cache = models.default_cache().parent / "test-assets"
    models.fetch(cache, ["astronaut"], manifest=models.Manifest.load(ASSETS))
    with Image.open(cache / "astronaut.png") as f:
        return f.convert("RGB")


def camera() -> Image.Image:
    cache = models.default_cache().parent / "test-assets"
    models.fetch(cache, ["camera"], manifest=models.Manifest.load(ASSETS))
    with Image.open(cache / "camera.png") as f:
        return f.convert("RGB")


def reacher(photo: Image.Image) -> Image.Image:
    """The man leaning forward, cut out: the segmenter's person mask, its largest part, with
    soft edges; cropped to him (his back and legs run off the photo's left and bottom)."""
    import numpy as np

    from veilcam.vision.pipeline import Vision
    from veilcam.vision.runtime import BoardProfile
    from veilcam_native import mask as masks

    pixels = np.asarray(photo)
    prob = Vision(BoardProfile("generic")).person_probability(pixels, [(0, 0, photo.width)])
    person = (prob > 127).astype(np.uint8)
    boxes = masks.mask_boxes(person, min_area=1000)
    x0, y0, x1, y1 = (int(v) for v in max(boxes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1])))
    keep = np.zeros_like(person)
    keep[y0:y1, x0:x1] = person[y0:y1, x0:x1]
    alpha = Image.fromarray(keep * 255).filter(ImageFilter.MaxFilter(3))
    alpha = alpha.filter(ImageFilter.GaussianBlur(1.5))
    out = photo.convert("RGBA")
    out.putalpha(alpha)
    return out.crop((x0, y0, x1, y1))


def shopper(person: Image.Image, height: int) -> tuple[Image.Image, Image.Image]:
    """Her head and shoulders, scaled to ``height``, and a soft oval mask that cuts her
    from the portrait's background."""
    crop = person.crop((90, 20, 400, 512))
    w = crop.width * height // crop.height
    crop = crop.resize((w, height), Image.Resampling.LANCZOS)
    mask = Image.new("L", crop.size, 0)
    d = ImageDraw.Draw(mask)
    d.ellipse([w * 0.22, 0, w * 0.78, height * 0.45], fill=255)  # head
    d.rounded_rectangle([0, height * 0.38, w, height * 1.3], radius=w // 4, fill=255)  # body
    return crop, mask.filter(ImageFilter.GaussianBlur(4))


def with_shopper(scene: Image.Image, person: Image.Image, x: int, y: int, h: int) -> Image.Image:
    out = scene.copy()
    crop, mask = shopper(person, h)
    out.paste(crop, (x, y), mask)
    return out


def main() -> None:
    rng = random.Random(20261123)
    (OUT / "fridge").mkdir(parents=True, exist_ok=True)
    (OUT / "floor").mkdir(parents=True, exist_ok=True)
    (OUT / "people").mkdir(parents=True, exist_ok=True)
    person = astronaut()
    shelves = [fridge(rng, fill) for fill in (0.95, 0.8, 0.6, 0.4)]
    for i, img in enumerate(shelves):
        img.save(OUT / "fridge" / f"shelf-{i + 1}.jpg", quality=82)
    # A shopper at the open door, in front of the shelves: what a door picture often holds.
    with_shopper(shelves[1], person, 700, 170, 560).save(
        OUT / "fridge" / "shelf-2-shopper.jpg", quality=82
    )
    aisles = [aisle(rng) for _ in range(3)]
    for i, img in enumerate(aisles):
        img.save(OUT / "floor" / f"aisle-{i + 1}.jpg", quality=82)
    # The replay starts with a shopper in the aisle, near and then further away.
    with_shopper(aisles[0], person, 420, 250, 470).save(
        OUT / "floor" / "aisle-0-shopper.jpg", quality=82
    )
    with_shopper(aisles[2], person, 760, 330, 260).save(
        OUT / "floor" / "aisle-2-shopper.jpg", quality=82
    )
    reacher(camera()).save(OUT / "people" / "reacher.png", optimize=True)


if __name__ == "__main__":
    main()
