"""Writes ``recipe.json``: the stock evaluation's fridges, scenes and ground truth.

    python bench/stock/recipe.py        # rewrites recipe.json (seeded: the same file)

Two fridges of real products (a light dairy cooler with an empty reference taken, a dark
juice cooler without), each seen from the front and from the side, under three lights; per
combination a stocked still, stills with facings emptied and partly emptied, products
swapped into the wrong facing, a hand holding a product in front of a facing, and a region a
redactor painted; and stills the quality gate must refuse (dark, blurred, glare, a door
frame across the shelves).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from scenes import ANGLES, HERE, LIGHTS, UNIT_W, H, Layout, W, facing_polygons

DAIRY = [
    "Arla-Standard-Milk",
    "Arla-Medium-Fat-Milk",
    "Arla-Ecological-Medium-Fat-Milk",
    "Arla-Lactose-Medium-Fat-Milk",
    "Garant-Ecological-Medium-Fat-Milk",
    "Garant-Ecological-Standard-Milk",
    "Alpro-Fresh-Soy-Milk",
    "Alpro-Shelf-Soy-Milk",
    "Arla-Natural-Yoghurt",
    "Arla-Mild-Vanilla-Yoghurt",
    "Arla-Natural-Mild-Low-Fat-Yoghurt",
    "Alpro-Blueberry-Soyghurt",
    "Alpro-Vanilla-Soyghurt",
    "Arla-Sour-Cream",
    "Arla-Ecological-Sour-Cream",
    "Arla-Sour-Milk",
    "Valio-Vanilla-Yoghurt",
    "Yoggi-Strawberry-Yoghurt",
    "Yoggi-Vanilla-Yoghurt",
]
JUICE = [
    "Bravo-Apple-Juice",
    "Bravo-Orange-Juice",
    "God-Morgon-Apple-Juice",
    "God-Morgon-Orange-Juice",
    "God-Morgon-Orange-Red-Grapefruit-Juice",
    "God-Morgon-Red-Grapefruit-Juice",
    "Tropicana-Apple-Juice",
    "Tropicana-Golden-Grapefruit",
    "Tropicana-Juice-Smooth",
    "Tropicana-Mandarin-Morning",
    "Oatly-Natural-Oatghurt",
    "Oatly-Oat-Milk",
]
UNITS_PER_SHELF = 14


def layout(name: str, back: tuple[int, int, int], pool: list[str], rng: random.Random) -> Layout:
    shelves = []
    for _ in range(4):
        row, used = [], 0
        while True:
            cap = rng.choice([1, 2, 2, 3])
            if used + cap > UNITS_PER_SHELF - (len(row) * 6) // UNIT_W:
                break
            row.append((rng.choice(pool), cap))
            used += cap
        shelves.append(row)
    return Layout(name, back, shelves)


def cover(box: list[float], quad: list[tuple[float, float]]) -> float:
    """Share of the facing's bounding box (front view) inside ``box``."""
    xs, ys = [p[0] * W for p in quad], [p[1] * H for p in quad]
    fx0, fy0, fx1, fy1 = min(xs), min(ys), max(xs), max(ys)
    ix = max(0.0, min(box[2], fx1) - max(box[0], fx0))
    iy = max(0.0, min(box[3], fy1) - max(box[1], fy0))
    return ix * iy / ((fx1 - fx0) * (fy1 - fy0))


def scene(
    lay: Layout, pool: list[str], angle: str, light: str, kind: str, rng: random.Random
) -> dict:
    facings = lay.facings()
    n = len(facings)
    states: dict[str, dict] = {}
    truth: dict[str, dict] = {}
    order = list(range(n))
    rng.shuffle(order)
    share = {"stocked": 0.0, "some-empty": 0.2, "many-empty": 0.4, "in-front": 0.25}[kind]
    emptied = order[: int(share * n)]
    swaps = order[
        int(share * n) : int(share * n)
        + {"stocked": 0, "some-empty": 1, "many-empty": 2, "in-front": 1}[kind]
    ]
    for i in emptied:
        cap = facings[i]["capacity"]
        k = rng.randrange(0, cap) if cap > 1 and rng.random() < 0.5 else 0
        units = [1] * k + [0] * (cap - k)
        rng.shuffle(units)
        states[str(i)] = {"units": units}
    for i in swaps:
        other = rng.choice([p for p in pool if p != facings[i]["sku"]])
        states[str(i)] = {"swap": other}
    for i, f in enumerate(facings):
        st = states.get(str(i), {})
        k = sum(st.get("units", [1] * f["capacity"]))
        state = (
            "wrong_product"
            if "swap" in st
            else ("full" if k == f["capacity"] else "empty" if k == 0 else "partial")
        )
        truth[str(i)] = {"state": state, "fill": round(k / f["capacity"], 3), "accept": [state]}
    in_front = []
    if kind == "in-front":
        stocked = [i for i in order if i not in emptied and i not in swaps]
        for i in stocked[:2]:
            x0, y0, x1, y1 = facings[i]["box"]
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            box = [cx - 130, cy - 120, cx + 130, cy + 160]
            in_front.append({"kind": "hand", "box": box, "photo": rng.randrange(124)})
        # a region a redactor painted: someone's arm, across two shelves
        i = rng.randrange(n)
        x0, y0, x1, y1 = facings[i]["box"]
        red = [x0 - 20, y0 + 40, x0 + 200, y1 + 180]
        in_front.append({"kind": "redacted", "box": red})
        polys = facing_polygons(lay, "front")
        for occ in in_front:
            for idx, quad in enumerate(polys):
                c = cover(occ["box"], quad)
                if c > 0.3 and occ["kind"] == "redacted":
                    truth[str(idx)]["accept"] = ["unknown"]
                elif c > 0.0:
                    # something in front: its own state or unknown, never empty unless it is
                    t = truth[str(idx)]
                    t["accept"] = sorted({t["state"], "unknown"})
                    if t["state"] != "empty":
                        t["not_empty"] = True
    return {
        "fridge": lay.name,
        "angle": angle,
        "light": light,
        "kind": kind,
        "shift": [rng.randint(-3, 3), rng.randint(-3, 3)],
        "facings": states,
        "in_front": in_front,
        "truth": truth,
        "gate": "pass",
    }


def main() -> None:
    rng = random.Random(16)
    fridges = {
        "dairy": (layout("dairy", (226, 229, 233), DAIRY, rng), DAIRY, True),
        "juice": (layout("juice", (52, 56, 62), JUICE, rng), JUICE, False),
    }
    scenes, refs = [], []
    for name, (lay, pool, has_empty) in fridges.items():
        for angle in ANGLES:
            refs.append(
                {
                    "fridge": name,
                    "angle": angle,
                    "light": "bright",
                    "kind": "stocked",
                    "seed": rng.randrange(10**6),
                }
            )
            if has_empty:
                empty = {
                    str(i): {"units": [0] * f["capacity"]} for i, f in enumerate(lay.facings())
                }
                refs.append(
                    {
                        "fridge": name,
                        "angle": angle,
                        "light": "bright",
                        "kind": "empty",
                        "facings": empty,
                        "seed": rng.randrange(10**6),
                    }
                )
            for light in LIGHTS:
                for kind in ("stocked", "some-empty", "many-empty", "in-front"):
                    s = scene(lay, pool, angle, light, kind, rng)
                    s["seed"] = rng.randrange(10**6)
                    scenes.append(s)
            for q in ("dark", "blur", "glare", "door"):
                s = scene(lay, pool, angle, "bright", "some-empty", rng)
                s.update(quality=q, gate=q, seed=rng.randrange(10**6))
                scenes.append(s)
    doc = {
        "about": __doc__.strip().splitlines()[0],
        "products": "../shared/eval/products/iconic (GroceryStoreDataset, MIT)",
        "fridges": {
            name: {
                "back": list(lay.back),
                "shelves": [[list(f) for f in row] for row in lay.shelves],
                "empty_reference": has_empty,
                "polygons": {a: facing_polygons(lay, a) for a in ANGLES},
            }
            for name, (lay, _, has_empty) in fridges.items()
        },
        "references": refs,
        "scenes": scenes,
    }
    (HERE / "recipe.json").write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{len(scenes)} scenes, {len(refs)} references -> {HERE / 'recipe.json'}")


if __name__ == "__main__":
    main()
