"""Stock analysis time: one 1920x1080 fridge still with 60 facings, on one core, beside the
fridge redaction of the same still (the anchor: what every still costs before it is stored).

    python bench/stock_bench.py [--json]

The fridge is drawn (the demo's made-up products, five shelves of twelve facings), calibrated
stocked and empty; the still has a quarter of its facings emptied or partly emptied and one
product swapped. Reported: the median analysis time with the native kernels and with their
NumPy twins (a subprocess with ``VEILCAM_NO_EXTENSIONS=1``), the calibration's preparation
time, and the redaction's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
W, H = 1920, 1080
SHELVES, PER_SHELF = 5, 12
TARGET_MS = 50.0


def fridge(units: dict[int, list[int]], swap: dict[int, str]) -> tuple[np.ndarray, list]:
    from veilcam.demo.fridge import PRODUCTS, product_picture
    from veilcam.stock.catalogue import Facing

    img = Image.new("RGB", (W, H), (226, 229, 233))
    d = ImageDraw.Draw(img)
    pitch = (H - 60) / SHELVES
    facings = []
    rng = np.random.default_rng(3)
    unit_w = (W - 120) / (PER_SHELF * 1.5)
    for s in range(SHELVES):
        base = 40 + (s + 1) * pitch - 12
        d.rectangle([40, base, W - 40, base + 12], fill=(150, 154, 160))
        x = 60.0
        for p in range(PER_SHELF):
            i = s * PER_SHELF + p
            cap = 1 + (i % 2)
            sku = PRODUCTS[i % len(PRODUCTS)].sku
            x1 = x + cap * unit_w
            poly = (
                (x / W, (base - pitch + 20) / H),
                (x1 / W, (base - pitch + 20) / H),
                (x1 / W, base / H),
                (x / W, base / H),
            )
            facings.append(Facing("bench", s + 1, p + 1, sku, cap, poly, id=i + 1))
            for u, present in enumerate(units.get(i, [1] * cap)):
                if present:
                    art = product_picture(swap.get(i, sku), int(unit_w) - 8, int(pitch) - 30)
                    img.paste(art, (int(x + u * unit_w + 4), int(base - art.height)), art)
            x = x1 + 4
    a = np.asarray(img).astype(np.float32) + rng.normal(0, 2, (H, W, 3))
    return a.clip(0, 255).astype(np.uint8), facings


def scene() -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    n = SHELVES * PER_SHELF
    stocked, facings = fridge({}, {})
    empty, _ = fridge({i: [0] * (1 + i % 2) for i in range(n)}, {})
    units = {i: [0] * (1 + i % 2) for i in range(0, n, 4)}
    units.update({i: [1, 0] for i in range(1, n, 8)})
    still, _ = fridge(units, {6: "VC-JUICE-1"})
    return stocked, empty, still, facings


def timed(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return statistics.median(out)


def analysis_ms(runs: int = 31) -> dict[str, float]:
    from veilcam.stock.analyse import analyse, prepare

    stocked, empty, still, facings = scene()
    t0 = time.perf_counter()
    ref = prepare(stocked, facings, empty)
    prepare_ms = (time.perf_counter() - t0) * 1000
    check = analyse(still, ref)
    assert check.status == "ok", check.reason
    states = [f.state for f in check.facings]
    return {
        "analysis_ms": timed(lambda: analyse(still, ref), runs),
        "prepare_ms": prepare_ms,
        "facings": len(facings),
        "empty": states.count("empty"),
        "partial": states.count("partial"),
        "wrong_product": states.count("wrong_product"),
    }


def redaction_ms(runs: int = 7) -> float:
    from veilcam.config import CameraConfig, ReplaySourceConfig
    from veilcam.redaction.imaging import encode_jpeg
    from veilcam.redaction.redactor import VisionRedactor
    from veilcam.vision.pipeline import Vision
    from veilcam.vision.runtime import BoardProfile

    stocked, _, still, _ = scene()
    vr = VisionRedactor(Vision(BoardProfile.load("generic")))
    vr.references = lambda _name: stocked  # type: ignore[method-assign]
    cam = CameraConfig(name="bench", purpose="fridge", source=ReplaySourceConfig(path="."))
    return timed(lambda: encode_jpeg(vr.redact(still, cam).pixels, 85), runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    if args.child:
        print(json.dumps(analysis_ms(11)))
        return
    import veilcam_native

    ours = analysis_ms()
    env = dict(os.environ, VEILCAM_NO_EXTENSIONS="1")
    twin = json.loads(
        subprocess.run(
            [sys.executable, __file__, "--child"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    anchor = redaction_ms()
    rows = [
        {
            "measure": f"stock analysis: 1920x1080 still, {ours['facings']} facings, one core",
            "kernels": veilcam_native.IMPLEMENTATION,
            "ours_ms": round(ours["analysis_ms"], 1),
            "target_ms": TARGET_MS,
            "anchor": "fridge redaction + JPEG of the same still, one core",
            "anchor_ms": round(anchor, 1),
            "ratio": round(ours["analysis_ms"] / anchor, 3),
            "prepare_ms": round(ours["prepare_ms"], 1),
            "found": {k: ours[k] for k in ("empty", "partial", "wrong_product")},
        },
        {
            "measure": f"stock analysis: the same, NumPy twins ({ours['facings']} facings)",
            "kernels": "python (VEILCAM_NO_EXTENSIONS set)",
            "ours_ms": round(twin["analysis_ms"], 1),
            "target_ms": TARGET_MS,
            "anchor": "the native kernels",
            "anchor_ms": round(ours["analysis_ms"], 1),
            "ratio": round(twin["analysis_ms"] / ours["analysis_ms"], 2),
        },
    ]
    for row in rows:
        print(json.dumps(row) if args.json else row)


if __name__ == "__main__":
    main()
