"""Stock monitoring measured on fridge scenes of real products (``bench/stock``).

    python bench/stock_eval.py [--no-redact] [--json] [--only N]

Renders each scene of ``bench/stock/recipe.json`` from ``../shared/eval/products`` (see
``bench/stock/scenes.py``), redacts it as a fridge camera would (the real models; the
stocked reference is the camera's reference picture) unless ``--no-redact``, and analyses
the stored still against the calibration (the stocked picture, and the empty one where the
recipe took it) with the catalogue's product pictures. Prints:

- per-facing state accuracy on stills that pass the gate (a facing with something in front
  is right as its own state or ``unknown``; one mostly under a redacted region only as
  ``unknown``), overall and per light, angle and fridge;
- the planogram compliance error in points (facings holding their product / facings seen);
- the gate's precision and recall (rejected stills that should be, and the reverse);
- facings with a hand or a redacted region in front reported ``empty`` (must be none);
- the analysis time per still;
- beside the accuracy, a naive anchor's: every facing called ``full``.
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent / "stock"))

from scenes import layout_of, load_recipe, products_dir, render  # noqa: E402

from veilcam.stock.analyse import Check, analyse, prepare  # noqa: E402
from veilcam.stock.catalogue import Facing  # noqa: E402

RIGHT = ("full", "partial")


def redactor():  # type: ignore[no-untyped-def]
    from veilcam.config import CameraConfig, ReplaySourceConfig
    from veilcam.redaction.redactor import VisionRedactor
    from veilcam.vision.pipeline import Vision
    from veilcam.vision.runtime import BoardProfile

    vision = Vision(BoardProfile.load("generic"))
    cam = CameraConfig(name="eval", purpose="fridge", source=ReplaySourceConfig(path="."))
    return VisionRedactor(vision), cam


def compliance(states: dict[str, str]) -> float | None:
    seen = [s for s in states.values() if s != "unknown"]
    return sum(s in RIGHT for s in seen) / len(seen) if seen else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-redact", action="store_true", help="skip the redactor (faster)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--only", type=int, default=0, help="the first N scenes only")
    ap.add_argument("--show", type=Path, help="write each analysed still here, outlined")
    args = ap.parse_args()
    if not (products_dir() / "iconic").is_dir():
        sys.exit(f"no product photos at {products_dir()}")
    recipe = load_recipe()
    red = None if args.no_redact else redactor()
    pictures = {
        p.name[: -len("_Iconic.jpg")]: np.asarray(Image.open(p).convert("RGB"))
        for p in (products_dir() / "iconic").glob("*_Iconic.jpg")
    }
    refs: dict[tuple[str, str], Any] = {}
    raw_refs: dict[tuple[str, str], dict[str, np.ndarray]] = collections.defaultdict(dict)
    for r in recipe["references"]:
        lay = layout_of(recipe, r["fridge"])
        img, _ = render(lay, {**r, "facings": r.get("facings", {})}, r["seed"])
        raw_refs[(r["fridge"], r["angle"])][r["kind"]] = img
    for (fridge, angle), pics in raw_refs.items():
        lay = layout_of(recipe, fridge)
        polys = recipe["fridges"][fridge]["polygons"][angle]
        facings = [
            Facing(
                fridge, f["shelf"], f["position"], f["sku"], f["capacity"], tuple(map(tuple, poly))
            )
            for f, poly in zip(lay.facings(), polys, strict=True)
        ]
        own = {f.sku: pictures[f.sku] for f in facings}
        others = {s: pictures[s] for s in {x for row in lay.shelves for x, _ in row}}
        refs[(fridge, angle)] = (
            prepare(pics["stocked"], facings, pics.get("empty"), {**others, **own}),
            pics["stocked"],
        )
    tally: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    errors, times, gate = [], [], collections.Counter()
    empties_in_front = 0
    confusion: collections.Counter[tuple[str, str]] = collections.Counter()
    scenes = recipe["scenes"][: args.only or None]
    for n, sc in enumerate(scenes):
        lay = layout_of(recipe, sc["fridge"])
        img, painted = render(lay, sc, sc["seed"])
        ref, stocked = refs[(sc["fridge"], sc["angle"])]
        boxes = list(painted)
        if red is not None:
            vr, cam = red
            vr.references = lambda _name, s=stocked: s  # the camera's calibrated reference
            out = vr.redact(img, cam)
            img, boxes = out.pixels, boxes + out.boxes
        t0 = time.perf_counter()
        check: Check = analyse(img, ref, boxes)
        times.append((time.perf_counter() - t0) * 1000)
        should_pass = sc["gate"] == "pass"
        gate[
            ("pass" if check.status == "ok" else "reject", "pass" if should_pass else "reject")
        ] += 1
        if check.status != "ok":
            if should_pass:
                print(
                    f"scene {n} ({sc['fridge']} {sc['angle']} {sc['light']} {sc['kind']}) "
                    f"rejected: {check.reason}",
                    file=sys.stderr,
                )
            continue
        if not should_pass:
            print(f"scene {n} ({sc['gate']}) passed the gate", file=sys.stderr)
            continue
        pred = {str(fs.facing): fs.state for fs in check.facings}
        for key, t in sc["truth"].items():
            ok = pred[key] in t["accept"]
            tally["naive"]["right" if "full" in t["accept"] else "wrong"] += 1
            for group in ("all", sc["light"], sc["angle"], sc["fridge"]):
                tally[group]["right" if ok else "wrong"] += 1
            if not ok:
                confusion[
                    (t["accept"][0] if len(t["accept"]) == 1 else "/".join(t["accept"]), pred[key])
                ] += 1
            if t.get("not_empty") and pred[key] == "empty":
                empties_in_front += 1
                print(
                    f"scene {n}: facing {key} with something in front reported empty",
                    file=sys.stderr,
                )
        truth_states = {
            k: ("unknown" if t["accept"] == ["unknown"] else t["state"])
            for k, t in sc["truth"].items()
        }
        a, b = compliance(pred), compliance(truth_states)
        if a is not None and b is not None:
            errors.append(abs(a - b) * 100)
            if errors[-1] > 5:
                print(
                    f"scene {n} ({sc['kind']}): compliance {a:.0%}, truly {b:.0%}", file=sys.stderr
                )
        if args.show:
            show(args.show, n, img, ref, check)

    def acc(g: str) -> float:
        c = tally[g]
        return c["right"] / max(1, c["right"] + c["wrong"])

    rejected = gate[("reject", "pass")] + gate[("reject", "reject")]
    should = gate[("pass", "reject")] + gate[("reject", "reject")]
    result = {
        "scenes": len(scenes),
        "redacted": red is not None,
        "state_accuracy": round(acc("all"), 4),
        "facings": sum(tally["all"].values()),
        "naive_accuracy": round(acc("naive"), 4),
        "by": {g: round(acc(g), 4) for g in sorted(tally) if g not in ("all", "naive")},
        "compliance_error_mean": round(statistics.fmean(errors), 2) if errors else None,
        "compliance_error_max": round(max(errors), 2) if errors else None,
        "gate_precision": round(gate[("reject", "reject")] / rejected, 4) if rejected else None,
        "gate_recall": round(gate[("reject", "reject")] / should, 4) if should else None,
        "passing_rejected": gate[("reject", "pass")],
        "in_front_reported_empty": empties_in_front,
        "analysis_ms_median": round(statistics.median(times), 1),
        "mistakes": {f"{t} -> {p}": c for (t, p), c in confusion.most_common(8)},
    }
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:26} {v}")


COLOURS = {
    "full": (0, 200, 0),
    "partial": (240, 200, 0),
    "empty": (230, 0, 0),
    "wrong_product": (200, 0, 200),
    "unknown": (120, 120, 120),
}


def show(folder: Path, n: int, img: np.ndarray, ref: Any, check: Check) -> None:
    from PIL import ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    im = Image.fromarray(img)
    d = ImageDraw.Draw(im)
    w, h = im.size
    for fs in check.facings:
        poly = [(x * w, y * h) for x, y in ref.facings[fs.facing].polygon]
        d.polygon(poly, outline=COLOURS[fs.state], width=4)
    im.resize((w // 2, h // 2)).save(folder / f"scene-{n:03d}.png")


if __name__ == "__main__":
    main()
