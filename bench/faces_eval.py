"""Face verification measured on photos of known identities, beside dlib's own pipeline.

    python bench/faces_eval.py --pairs DIR [--json] [--threshold T]

DIR holds photos and ``identities.json`` (``{"file": "identity"}``, 2-4 photos each; the
project's is ``../shared/eval/pairs``). Every photo is compared with every other:

- **ours**: the product's face detector (BlazeFace on tiles, verified by the face mesh), the
  largest face; the mesh's five points, the quality gate, alignment by the native warp,
  dlib's ResNet; same person when the cosine similarity reaches the embedder's threshold.
- **dlib**: dlib's HOG detector (upsampled once), its 5-point model, its chip and ResNet; same
  person under a Euclidean distance of 0.6 (dlib's rule).

A photo where a pipeline finds no usable face makes every comparison it is in a wrong answer.
Reported for the photos as they are (``plain``) and for **hard** pairs: each photo against
the others' harder copies — shrunk until the face is about 30 px wide (``small``), greyscale
(``grey``), both, and cut tight round the face (``crop``) — where better detection and
alignment of small and plain crops tells. Also: accuracy, true-accept and false-accept rates
at the threshold, the share of photos without a usable face, and the time per embedding.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
DLIB_THRESHOLD = 0.6


def load(pairs: Path) -> dict[str, tuple[str, np.ndarray]]:
    ids = json.loads((pairs / "identities.json").read_text())
    out = {}
    for name, who in sorted(ids.items()):
        with Image.open(pairs / name) as im:
            out[name] = (who, np.asarray(im.convert("RGB")))
    return out


def variants(img: np.ndarray, face_w: float | None, box: Any) -> dict[str, np.ndarray]:
    """The harder copies of one photo (``face_w``/``box``: its face as dlib or we saw it)."""
    out: dict[str, np.ndarray] = {}
    pil = Image.fromarray(img)
    grey = np.asarray(pil.convert("L").convert("RGB"))
    out["grey"] = grey
    if face_w:
        k = min(1.0, 30.0 / face_w)
        size = (max(16, int(img.shape[1] * k)), max(16, int(img.shape[0] * k)))
        small = np.asarray(pil.resize(size, Image.Resampling.BILINEAR))
        out["small"] = small
        out["small+grey"] = np.asarray(Image.fromarray(small).convert("L").convert("RGB"))
    if box is not None:
        x0, y0, x1, y1 = box
        w, h = x1 - x0, y1 - y0
        crop = pil.crop(
            (int(x0 - 0.15 * w), int(y0 - 0.15 * h), int(x1 + 0.15 * w), int(y1 + 0.15 * h))
        )
        out["crop"] = np.asarray(crop.resize((112, 112), Image.Resampling.BILINEAR))
    return out


class Ours:
    name = "ours"

    def __init__(self) -> None:
        from veilcam.vision.embed import DlibEmbedder, FaceFeatures
        from veilcam.vision.pipeline import Vision
        from veilcam.vision.runtime import BoardProfile

        profile = BoardProfile.load("generic")
        self.vision = Vision(profile)
        self.features = FaceFeatures(DlibEmbedder(), profile)
        self.threshold = self.features.embedder.threshold
        self.embed_ms: list[float] = []

    def template(self, img: np.ndarray) -> tuple[np.ndarray | None, Any, str | None]:
        faces = self.vision.faces(img, min_face_px=12)
        if not faces:
            return None, None, "no face found"
        t0 = time.perf_counter()
        d = self.features.describe(img, faces[0])
        self.embed_ms.append((time.perf_counter() - t0) * 1000)
        return d.template, faces[0].box, d.quality.reason

    def same(self, a: np.ndarray, b: np.ndarray) -> tuple[bool, float]:
        s = float(a @ b)
        return s >= self.threshold, s


class Dlib:
    name = "dlib"

    def __init__(self) -> None:
        import dlib

        from veilcam.vision import models

        self.dlib = dlib
        self.detector = dlib.get_frontal_face_detector()
        self.shape = dlib.shape_predictor(str(models.path("dlib_landmarks5")))
        self.net = dlib.face_recognition_model_v1(str(models.path("dlib_resnet")))
        self.embed_ms: list[float] = []

    def template(self, img: np.ndarray) -> tuple[np.ndarray | None, Any, str | None]:
        rects = self.detector(img, 1)
        if not rects:
            return None, None, "no face found"
        r = max(rects, key=lambda r: r.area())
        t0 = time.perf_counter()
        shape = self.shape(img, r)
        v = np.asarray(self.net.compute_face_descriptor(img, shape))
        self.embed_ms.append((time.perf_counter() - t0) * 1000)
        return v, (r.left(), r.top(), r.right(), r.bottom()), None

    def same(self, a: np.ndarray, b: np.ndarray) -> tuple[bool, float]:
        d = float(np.linalg.norm(a - b))
        return d < DLIB_THRESHOLD, d


def score(
    photos: dict[str, tuple[str, np.ndarray]],
    pipeline: Any,
    pairs_of: Callable[[list[str]], list[tuple[str, str]]],
    left: dict[str, Any],
    right: dict[str, Any],
) -> dict[str, Any]:
    """Accuracy, TAR, FAR over the pairs; a missing template is a wrong answer."""
    right_answers = genuine = impostor = accepted = false_accepts = 0
    pairs = pairs_of(sorted(photos))
    for a, b in pairs:
        ta, tb = left[a], right[b]
        same_person = photos[a][0] == photos[b][0]
        said = bool(ta is not None and tb is not None and pipeline.same(ta, tb)[0])
        usable = ta is not None and tb is not None
        right_answers += usable and said == same_person
        genuine += same_person
        impostor += not same_person
        accepted += same_person and said
        false_accepts += (not same_person) and said
    return {
        "pairs": len(pairs),
        "accuracy": round(right_answers / max(1, len(pairs)), 4),
        "tar": round(accepted / max(1, genuine), 4),
        "far": round(false_accepts / max(1, impostor), 4),
    }


def all_pairs(names: list[str]) -> list[tuple[str, str]]:
    return list(itertools.combinations(names, 2))


def cross(names: list[str]) -> list[tuple[str, str]]:
    """Each photo as it is against each other photo's harder copy."""
    return [(a, b) for a in names for b in names if a != b]


def run(pairs_dir: Path) -> list[dict[str, Any]]:
    photos = load(pairs_dir)
    pipelines = [Ours(), Dlib()]
    plain: dict[str, dict[str, Any]] = {p.name: {} for p in pipelines}
    missing: dict[str, list[str]] = {p.name: [] for p in pipelines}
    boxes: dict[str, Any] = {}
    for name, (_, img) in photos.items():
        for p in pipelines:
            t, box, why = p.template(img)
            plain[p.name][name] = t
            if t is None:
                missing[p.name].append(f"{name}: {why}")
            boxes.setdefault(name, box)  # ours first; dlib's where ours found none
    # The same harder copies for both pipelines, made round the face as first found.
    hard: dict[str, dict[str, np.ndarray]] = {}
    for name, (_, img) in photos.items():
        box = boxes.get(name)
        width = (box[2] - box[0]) if box is not None else None
        for kind, v in variants(img, width, box).items():
            hard.setdefault(kind, {})[name] = v
    rows = []
    for p in pipelines:
        p.embed_ms.clear()
        row: dict[str, Any] = {
            "pipeline": p.name,
            "photos": len(photos),
            "no_usable_face": round(len(missing[p.name]) / len(photos), 4),
            "missing": missing[p.name],
            "plain": score(photos, p, all_pairs, plain[p.name], plain[p.name]),
        }
        for kind, copies in hard.items():
            temps = {n: p.template(v)[0] for n, v in copies.items()}
            row[kind] = score(photos, p, cross, plain[p.name], temps)
        hard_pairs = [row[k] for k in hard]
        right = sum(h["accuracy"] * h["pairs"] for h in hard_pairs)
        row["hard"] = round(right / sum(h["pairs"] for h in hard_pairs), 4)
        row["embed_ms"] = round(float(np.median(p.embed_ms)), 1)
        rows.append(row)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=Path, default=ROOT.parent / "shared" / "eval" / "pairs")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = run(args.pairs)
    if args.json:  # flat rows for bench/report.py
        for r in rows:
            flat = {k: v for k, v in r.items() if not isinstance(v, dict) and k != "missing"}
            for kind, v in r.items():
                if isinstance(v, dict):
                    flat[f"{kind}_accuracy"] = v["accuracy"]
            flat.update(plain_tar=r["plain"]["tar"], plain_far=r["plain"]["far"])
            flat["threshold"] = "cosine 0.925" if r["pipeline"] == "ours" else "distance 0.6"
            print(json.dumps(flat))
        return 0
    kinds = [k for k in rows[0] if isinstance(rows[0][k], dict)]
    for r in rows:
        print(
            f"{r['pipeline']}: {r['photos']} photos, no usable face {r['no_usable_face']:.0%},"
            f" {r['embed_ms']} ms an embedding; hard pairs accuracy {r['hard']:.3f}"
        )
        for k in kinds:
            s = r[k]
            print(
                f"  {k:11} {s['pairs']:4} pairs  accuracy {s['accuracy']:.3f}"
                f"  TAR {s['tar']:.3f}  FAR {s['far']:.3f}"
            )
        for m in r["missing"]:
            print(f"  missing: {m}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
