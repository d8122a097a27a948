"""The demo store's dairy fridge, drawn: twelve made-up products, a planogram of four
shelves, and pictures of the fridge as its stock runs down over a day (facings emptied, a
carton put back in the wrong place, an arm reaching in). Drawn by code, so the repository
holds no product photographs; tests use the same pictures.

``day()`` is the replay camera's sequence; ``planogram()`` and ``PRODUCTS`` the catalogue
the demo imports; ``stocked()`` and ``empty()`` the calibration pictures a technician takes.
"""

from __future__ import annotations

import hashlib
import io
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from veilcam.demo.config import assets
from veilcam.stock.catalogue import Facing, Product

W, H = 1280, 720
TOP, BOTTOM, SIDE = 34, 26, 60
UNIT_W, UNIT_H = 78, 134
CAMERA = "fridge-1"

# sku, name, brand, body colour, band colour, pattern
_LOOKS = [
    ("VC-MILK-1", "Whole milk 1 l", "Northdale", (30, 90, 200), (250, 250, 250), "waves"),
    ("VC-MILK-2", "Semi-skimmed milk 1 l", "Northdale", (40, 160, 70), (250, 250, 250), "waves"),
    ("VC-MILK-3", "Skimmed milk 1 l", "Northdale", (200, 40, 50), (250, 250, 250), "waves"),
    ("VC-OAT-1", "Oat drink 1 l", "Havre", (90, 70, 50), (235, 220, 180), "dots"),
    ("VC-OAT-2", "Oat drink barista 1 l", "Havre", (20, 20, 25), (240, 240, 240), "dots"),
    ("VC-YOG-1", "Natural yoghurt 1 kg", "Alpine", (245, 245, 240), (40, 120, 200), "stripes"),
    ("VC-YOG-2", "Strawberry yoghurt 1 kg", "Alpine", (235, 90, 120), (250, 240, 240), "stripes"),
    ("VC-YOG-3", "Vanilla yoghurt 1 kg", "Alpine", (245, 215, 120), (120, 80, 40), "stripes"),
    ("VC-JUICE-1", "Orange juice 1 l", "Sunpress", (250, 150, 20), (40, 120, 40), "rays"),
    ("VC-JUICE-2", "Apple juice 1 l", "Sunpress", (150, 200, 40), (200, 40, 40), "rays"),
    ("VC-CREAM-1", "Sour cream 3 dl", "Northdale", (120, 40, 140), (250, 250, 250), "waves"),
    ("VC-KEFIR-1", "Kefir 1 l", "Steppe", (40, 170, 190), (250, 250, 250), "checks"),
]
PRODUCTS = [Product(sku, name, brand) for sku, name, brand, *_ in _LOOKS]
# The shelves, top first: (sku, units side by side at the front)
SHELVES = [
    [("VC-MILK-1", 3), ("VC-MILK-2", 3), ("VC-MILK-3", 2), ("VC-CREAM-1", 2), ("VC-KEFIR-1", 3)],
    [("VC-OAT-1", 3), ("VC-OAT-2", 2), ("VC-JUICE-1", 3), ("VC-JUICE-2", 3), ("VC-KEFIR-1", 2)],
    [("VC-YOG-1", 3), ("VC-YOG-2", 3), ("VC-YOG-3", 3), ("VC-MILK-1", 2), ("VC-MILK-2", 2)],
    [("VC-JUICE-1", 2), ("VC-JUICE-2", 2), ("VC-OAT-1", 3), ("VC-YOG-1", 3), ("VC-MILK-3", 3)],
]


def _seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def product_picture(sku: str, w: int = UNIT_W - 10, h: int = UNIT_H - 6) -> Image.Image:
    """The product as drawn on the shelf (RGBA), also its catalogue picture on white."""
    _, name, brand, body, band, pattern = next(x for x in _LOOKS if x[0] == sku)
    rng = random.Random(_seed(sku))
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    gable = h // 7
    d.polygon([(2, gable), (w // 2, 2), (w - 2, gable)], fill=tuple(int(c * 0.8) for c in body))
    d.rectangle([2, gable, w - 3, h - 1], fill=body)
    d.rectangle([2, h // 3, w - 3, h // 3 + h // 5], fill=band)
    d.text((6, h // 3 + 4), brand[:9], fill=body if band[0] > 128 else (255, 255, 255))
    d.text((6, h // 3 + 16), name.split()[0][:9], fill=(30, 30, 30) if band[0] > 128 else band)
    y0 = h // 3 + h // 5 + 6
    accent = tuple(255 - c for c in body)
    if pattern == "waves":
        for k in range(4):
            y = y0 + k * 12
            d.arc([4, y, w - 4, y + 16], 200, 340, fill=band, width=3)
    elif pattern == "dots":
        for _ in range(14):
            x, y = rng.randint(6, w - 10), rng.randint(y0, h - 10)
            d.ellipse([x, y, x + 7, y + 7], fill=band)
    elif pattern == "stripes":
        for x in range(4, w - 4, 10):
            d.line([(x, y0), (x + 8, h - 4)], fill=band, width=3)
    elif pattern == "rays":
        cx, cy = w // 2, h - 16
        for k in range(9):
            a = np.pi * k / 8
            d.line([(cx, cy), (cx + 40 * np.cos(a), cy - 40 * np.sin(a))], fill=accent, width=3)
        d.ellipse([cx - 12, cy - 12, cx + 12, cy + 12], fill=band)
    else:  # checks
        for y in range(y0, h - 8, 12):
            for x in range(4 + (y // 12) % 2 * 10, w - 8, 20):
                d.rectangle([x, y, x + 9, y + 9], fill=band)
    return img


def catalogue_picture(sku: str) -> Image.Image:
    """The packshot a retailer's catalogue would hold: the product on white."""
    art = product_picture(sku, 120, 206)
    out = Image.new("RGB", (160, 240), (255, 255, 255))
    out.paste(art, (20, 17), art)
    return out


def _facing_boxes() -> list[tuple[str, int, tuple[float, float, float, float], int, int]]:
    out = []
    pitch = (H - TOP - BOTTOM) / len(SHELVES)
    for s, row in enumerate(SHELVES):
        base = TOP + (s + 1) * pitch - 10
        x = float(SIDE + 12)
        for p, (sku, cap) in enumerate(row):
            w = cap * UNIT_W
            out.append((sku, cap, (x, base - UNIT_H - 6, x + w, base), s + 1, p + 1))
            x += w + 8
    return out


def planogram() -> list[Facing]:
    return [
        Facing(
            CAMERA,
            shelf,
            position,
            sku,
            cap,
            ((x0 / W, y0 / H), (x1 / W, y0 / H), (x1 / W, y1 / H), (x0 / W, y1 / H)),
        )
        for sku, cap, (x0, y0, x1, y1), shelf, position in _facing_boxes()
    ]


@dataclass
class Scene:
    """What the fridge holds: units present per facing (all, unless listed), a product put
    in another's facing, an arm reaching in from the door's side."""

    units: dict[int, list[int]] = field(default_factory=dict)
    swaps: dict[int, str] = field(default_factory=dict)
    arm: bool = False
    light: float = 1.0


def render(scene: Scene, seed: int = 0) -> np.ndarray:
    rng = random.Random(seed)
    img = Image.new("RGB", (W, H), (58, 62, 68))
    d = ImageDraw.Draw(img)
    wall = np.linspace(236, 206, H)[:, None, None] * np.array([1.0, 1.01, 1.03])[None, None]
    wall = np.broadcast_to(wall, (H, W - 2 * SIDE, 3)).clip(0, 255).astype(np.uint8)
    img.paste(Image.fromarray(np.ascontiguousarray(wall)), (SIDE, 0))
    d.polygon([(0, 0), (SIDE, TOP), (SIDE, H - BOTTOM), (0, H)], fill=(84, 88, 96))
    d.polygon([(W, 0), (W - SIDE, TOP), (W - SIDE, H - BOTTOM), (W, H)], fill=(84, 88, 96))
    pitch = (H - TOP - BOTTOM) / len(SHELVES)
    for s in range(len(SHELVES)):
        y = TOP + (s + 1) * pitch - 10
        d.rectangle([SIDE, y, W - SIDE, y + 12], fill=(150, 154, 160))
        d.rectangle([SIDE, y, W - SIDE, y + 2], fill=(210, 212, 216))
        d.rectangle([SIDE, y + 4, W - SIDE, y + 11], fill=(236, 230, 120))
    for i, (sku, cap, (x0, _, _, base), _, _) in enumerate(_facing_boxes()):
        what = scene.swaps.get(i, sku)
        for u, present in enumerate(scene.units.get(i, [1] * cap)):
            if present:
                art = product_picture(what)
                x = int(x0 + u * UNIT_W + 5 + rng.uniform(-2, 2))
                img.paste(art, (x, int(base - art.height + rng.uniform(-1, 0))), art)
    if scene.arm:  # a shopper's arm from the right, hand at the third shelf
        arm = Image.new("L", (W, H), 0)
        ad = ImageDraw.Draw(arm)
        ad.polygon([(W, 330), (W, 430), (880, 470), (840, 420)], fill=255)
        ad.ellipse([790, 395, 890, 490], fill=255)
        skin = Image.new("RGB", (W, H), (214, 160, 128))
        img.paste(skin, (0, 0), arm)
    a = np.asarray(img).astype(np.float32) * scene.light
    a += np.random.default_rng(seed).normal(0, 2.0, a.shape)
    return a.clip(0, 255).astype(np.uint8)


def stocked() -> np.ndarray:
    return render(Scene(), seed=1)


def empty() -> np.ndarray:
    return render(Scene(units={i: [0] * f.capacity for i, f in enumerate(planogram())}), seed=2)


def with_shopper(frame: np.ndarray) -> np.ndarray:
    """A shopper standing in front of the fridge: the demo's astronaut, cut from the shipped
    picture of the old demo shelf she stands in front of."""
    folder = assets() / "fridge"
    with Image.open(folder / "shelf-2-shopper.jpg") as a, Image.open(folder / "shelf-2.jpg") as b:
        her, bare = np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB"))
    mask = (np.abs(her.astype(np.int16) - bare.astype(np.int16)).max(axis=2) > 40).astype(np.uint8)
    mask = np.asarray(Image.fromarray(mask * 255).filter(ImageFilter.MaxFilter(9))) > 0
    out = frame.copy()
    out[mask] = her[mask]
    return out


def write_day(folder: Path) -> Path:
    """The day's pictures as the replay camera's folder (made once; JPEG like a camera's)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not any(folder.glob("*.jpg")):
        for name, picture in day():
            Image.fromarray(picture).save(folder / name, "JPEG", quality=92)
    return folder


def jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=90)
    return buf.getvalue()


def day() -> list[tuple[str, np.ndarray]]:
    """The replay camera's pictures, in order: a morning's full fridge running down, a
    yoghurt put back among the apple juice, an arm reaching in, a shopper in front, more
    facings emptying; then the evening restock, and round again."""
    facings = planogram()
    order = [3, 0, 11, 7, 16, 5, 13, 9, 18, 1, 14]  # the facings shoppers empty, in turn
    units: dict[int, list[int]] = {}
    swaps: dict[int, str] = {}
    frames = []
    for step in range(16):
        if 1 <= step <= len(order):
            i = order[step - 1]
            cap = facings[i].capacity
            left = units.get(i, [1] * cap)
            taken = left.index(1) if 1 in left else 0
            units[i] = [0 if k <= taken + (step % 2) else v for k, v in enumerate(left)]
        if step == 4:
            swaps[8] = "VC-YOG-2"  # a strawberry yoghurt put back among the apple juice
        scene = Scene(
            dict(units), dict(swaps), arm=step in (6, 12), light=0.92 if step % 3 else 1.0
        )
        picture = render(scene, seed=100 + step)
        if step == 9:
            picture = with_shopper(picture)
        frames.append((f"{step:03d}.jpg", picture))
    return frames
