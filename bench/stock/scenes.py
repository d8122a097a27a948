"""Fridge scenes for the stock evaluation, rendered from a recipe and real product photos.

The recipe (``recipe.json`` beside this file, made by ``make_recipe``) and its ground truth
are kept in the repository; the product photographs are read from
``../shared/eval/products/iconic`` (GroceryStoreDataset, MIT) and never copied. A scene is a
fridge (its shelves and facings), a camera angle, a light, the state of each facing (units
present, a product swapped in), and what is in front (a hand holding a product, from the
data set's shelf photos; a redacted region; a door frame, glare, blur, darkness).

Every render jitters each unit by a few pixels and per cent, so a restocked facing never
matches its reference pixel for pixel.
"""

from __future__ import annotations

import functools
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).parent
W, H = 1920, 1080
TOP, BOTTOM, SIDE = 50, 40, 90  # fridge interior margins
UNIT_W, UNIT_H = 118, 200  # a unit's slot; products fit inside, bottom-centred
LIGHTS = {
    "bright": ((1.0, 1.0, 1.0), 2.0),
    "dim": ((0.5, 0.5, 0.52), 4.0),
    "warm": ((1.06, 0.93, 0.72), 2.5),
}
ANGLES = {
    "front": None,
    # the camera high on the right of the door, looking in and down a little
    "side": ((150, 70), (W - 10, 10), (W - 30, H - 15), (170, H - 60)),
}


def products_dir() -> Path:
    return HERE.parents[2] / "shared" / "eval" / "products"


@functools.cache
def cutout(sku: str) -> tuple[Image.Image, Image.Image]:
    """The product photo on its white background, cut out: (RGB, alpha mask)."""
    img = Image.open(products_dir() / "iconic" / f"{sku}_Iconic.jpg").convert("RGB")
    a = np.asarray(img).astype(np.int16)
    fg = (a.min(axis=2) < 232).astype(np.uint8) * 255
    mask = Image.fromarray(fg).filter(ImageFilter.MaxFilter(3)).filter(ImageFilter.MinFilter(5))
    box = mask.getbbox() or (0, 0, img.width, img.height)
    return img.crop(box), mask.crop(box)


@functools.cache
def hand_photos() -> list[Path]:
    return sorted((products_dir() / "shelf").glob("train_*.jpg"))


def skus() -> list[str]:
    return sorted(
        p.name[: -len("_Iconic.jpg")] for p in (products_dir() / "iconic").glob("*_Iconic.jpg")
    )


@dataclass(frozen=True, slots=True)
class Layout:
    """Facings of one fridge: per shelf, (sku, capacity) from left to right."""

    name: str
    back: tuple[int, int, int]
    shelves: list[list[tuple[str, int]]]

    def facings(self) -> list[dict[str, Any]]:
        out = []
        n = len(self.shelves)
        pitch = (H - TOP - BOTTOM) / n
        for s, row in enumerate(self.shelves):
            x = SIDE + 10
            base = TOP + (s + 1) * pitch - 14  # the shelf's top surface
            for p, (sku, cap) in enumerate(row):
                w = cap * UNIT_W
                out.append(
                    {
                        "shelf": s + 1,
                        "position": p + 1,
                        "sku": sku,
                        "capacity": cap,
                        "box": (x, base - UNIT_H - 6, x + w, base),
                    }
                )
                x += w + 6
        return out


def homography(angle: str) -> np.ndarray:
    """3x3 mapping front-view pixels to the angle's pixels."""
    dst = ANGLES[angle]
    if dst is None:
        return np.eye(3)
    src = [(0, 0), (W, 0), (W, H), (0, H)]
    rows = []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y, -u])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y, -v])
    _, _, vt = np.linalg.svd(np.asarray(rows, float))
    m = vt[-1].reshape(3, 3)
    return m / m[2, 2]


def project(m: np.ndarray, pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    a = np.c_[np.asarray(pts, float), np.ones(len(pts))] @ m.T
    return [(float(x), float(y)) for x, y in a[:, :2] / a[:, 2:]]


def facing_polygons(layout: Layout, angle: str) -> list[list[tuple[float, float]]]:
    """Each facing's quadrilateral in the angle's picture, as fractions of its size."""
    m = homography(angle)
    out = []
    for f in layout.facings():
        x0, y0, x1, y1 = f["box"]
        pts = project(m, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
        out.append([(round(x / W, 5), round(y / H, 5)) for x, y in pts])
    return out


def render(layout: Layout, scene: dict[str, Any], seed: int) -> tuple[np.ndarray, list[list[int]]]:
    """The scene's picture (HxWx3 uint8) and the boxes a redactor would have painted."""
    rng = random.Random(seed)
    img = Image.new("RGB", (W, H), (40, 42, 46))
    d = ImageDraw.Draw(img)
    back = np.array(layout.back, float)
    # back wall with a soft vertical light fall-off, side walls darker
    grad = np.linspace(1.05, 0.85, H)[:, None, None] * back[None, None, :]
    wall = np.broadcast_to(grad, (H, W - 2 * SIDE, 3)).clip(0, 255).astype(np.uint8)
    img.paste(Image.fromarray(np.ascontiguousarray(wall)), (SIDE, 0))
    d.polygon([(0, 0), (SIDE, TOP), (SIDE, H - BOTTOM), (0, H)], fill=(70, 74, 80))
    d.polygon([(W, 0), (W - SIDE, TOP), (W - SIDE, H - BOTTOM), (W, H)], fill=(70, 74, 80))
    n = len(layout.shelves)
    pitch = (H - TOP - BOTTOM) / n
    for s in range(n):
        y = TOP + (s + 1) * pitch - 14
        d.rectangle([SIDE, y, W - SIDE, y + 16], fill=(150, 154, 160))
        d.rectangle([SIDE, y, W - SIDE, y + 3], fill=(205, 208, 212))
        d.rectangle([SIDE, y + 5, W - SIDE, y + 14], fill=(235, 232, 120))  # price strip
    states = scene.get("facings", {})
    for i, f in enumerate(layout.facings()):
        st = states.get(str(i), {})
        units = st.get("units", [1] * f["capacity"])
        sku = st.get("swap", f["sku"])
        x0, _, _, base = f["box"]
        for u, present in enumerate(units):
            if not present:
                continue
            prod, mask = cutout(sku)
            scale = min((UNIT_W - 14) / prod.width, (UNIT_H - 8) / prod.height)
            scale *= rng.uniform(0.97, 1.03)
            size = (max(1, int(prod.width * scale)), max(1, int(prod.height * scale)))
            p, m = prod.resize(size, Image.BILINEAR), mask.resize(size, Image.BILINEAR)
            cx = x0 + u * UNIT_W + UNIT_W / 2 + rng.uniform(-4, 4)
            img.paste(p, (int(cx - size[0] / 2), int(base - size[1] + rng.uniform(-2, 1))), m)
    painted: list[list[int]] = []
    for occ in scene.get("in_front", []):
        x0, y0, x1, y1 = occ["box"]
        if occ["kind"] == "hand":
            photo = Image.open(hand_photos()[occ["photo"] % len(hand_photos())]).convert("RGB")
            photo = photo.crop((40, 60, 308, 348)).resize((int(x1 - x0), int(y1 - y0)))
            img.paste(photo, (int(x0), int(y0)))
        elif occ["kind"] == "redacted":
            d.rectangle([x0, y0, x1, y1], fill=(0, 0, 0))
            painted.append([int(x0), int(y0), int(x1), int(y1)])
    a = np.asarray(img).astype(np.float32)
    if (m := homography(scene["angle"])) is not None and scene["angle"] != "front":
        inv = np.linalg.inv(m)
        coeffs = (inv / inv[2, 2]).flatten()[:8]
        a = np.asarray(
            Image.fromarray(a.astype(np.uint8)).transform(
                (W, H), Image.PERSPECTIVE, tuple(coeffs), Image.BILINEAR
            )
        ).astype(np.float32)
        painted = [
            _bbox(project(m, [(b[0], b[1]), (b[2], b[1]), (b[2], b[3]), (b[0], b[3])]))
            for b in painted
        ]
    dx, dy = scene.get("shift", (0, 0))
    if dx or dy:
        a = np.roll(a, (dy, dx), axis=(0, 1))
        painted = [[b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy] for b in painted]
    gains, noise = LIGHTS[scene["light"]]
    a *= np.asarray(gains, np.float32)
    q = scene.get("quality")
    if q == "dark":
        a *= 0.1
    elif q == "glare":
        yy, xx = np.mgrid[0:H, 0:W]
        cx, cy = scene.get("glare_at", (W * 0.55, H * 0.45))
        blob = np.exp(-(((xx - cx) / 520.0) ** 2 + ((yy - cy) / 260.0) ** 2) * 1.5)
        a += 400 * blob[..., None]
    elif q == "door":
        frame = Image.new("L", (W, H), 0)
        fd = ImageDraw.Draw(frame)
        x = scene.get("door_at", W * 0.4)
        fd.polygon([(x, 0), (x + 260, 0), (x + 520, H), (x + 260, H)], fill=255)
        fm = np.asarray(frame, np.float32)[..., None] / 255
        a = a * (1 - fm) + fm * np.array([55, 58, 62], np.float32)
    rs = np.random.default_rng(seed)
    a += rs.normal(0, noise, a.shape).astype(np.float32)
    out = a.clip(0, 255).astype(np.uint8)
    if q == "blur":
        out = np.asarray(Image.fromarray(out).filter(ImageFilter.GaussianBlur(7)))
    return out, painted


def _bbox(pts: list[tuple[float, float]]) -> list[int]:
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return [int(min(xs)), int(min(ys)), int(max(xs)) + 1, int(max(ys)) + 1]


def load_recipe(path: Path = HERE / "recipe.json") -> dict[str, Any]:
    return json.loads(path.read_text())


def layout_of(recipe: dict[str, Any], name: str) -> Layout:
    f = recipe["fridges"][name]
    return Layout(name, tuple(f["back"]), [[(s, c) for s, c in row] for row in f["shelves"]])
