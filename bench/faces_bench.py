"""Face features' speed: embedding a face, matching against a watchlist, the entrance camera.

    python bench/faces_bench.py [--json]

- **embedding**, one core, per face: ours (face-mesh landmarks, the quality gate, alignment
  by the native warp, dlib's ResNet) beside dlib's own pipeline from a found face (its
  5-point model, its chip, its ResNet), on the same faces.
- **matching**, one core: one query against 10,000 site-keyed templates as the watchlist
  does it (the site key's transform, then the native top-k), beside faiss ``IndexFlatIP``
  searching the same transformed templates.
- **entrance**, 1280x720 with five faces in view, two cores (two frames in flight, one
  inference thread each): floor redaction with the watchlist looking at every frame (five
  faces embedded and compared against 10,000 entries), beside the same redaction alone.

Needs the ``[faces]`` extra and ``veilcam models fetch --faces``; faces are scikit-image's
astronaut and cameraman (fetched like the test assets).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "tests" / "assets.toml"


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def photos() -> list[np.ndarray]:
    from veilcam.vision import models

    cache = models.default_cache().parent / "test-assets"
    models.fetch(cache, ["astronaut", "camera"], manifest=models.Manifest.load(ASSETS))
    return [
        np.asarray(Image.open(cache / f"{n}.png").convert("RGB")) for n in ("astronaut", "camera")
    ]


def entrance_frames(faces: list[np.ndarray], n: int) -> list[np.ndarray]:
    """The demo aisle at 1280x720 with five portraits pasted in, placed differently per
    frame."""
    aisle = Image.open(ROOT / "daemon" / "demo" / "assets" / "floor" / "aisle-1.jpg")
    aisle = aisle.convert("RGB").resize((1280, 720))
    rng = np.random.default_rng(5)
    out = []
    for _ in range(n):
        img = aisle.copy()
        for k in range(5):
            face = Image.fromarray(faces[k % len(faces)]).resize((150, 150))
            x, y = int(rng.integers(0, 1280 - 150)), int(rng.integers(150, 720 - 150))
            img.paste(face, (x, y))
        out.append(np.asarray(img))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    import dlib
    import faiss

    from veilcam.faces.keys import SiteKey
    from veilcam.vision import models
    from veilcam.vision.embed import DlibEmbedder, FaceFeatures
    from veilcam.vision.pipeline import Policy, Vision
    from veilcam.vision.runtime import BoardProfile
    from veilcam_native import embed as kernels

    faiss.omp_set_num_threads(1)
    profile = BoardProfile.load("generic")
    vision = Vision(profile)
    features = FaceFeatures(DlibEmbedder(), profile)
    shape = dlib.shape_predictor(str(models.path("dlib_landmarks5")))
    net = dlib.face_recognition_model_v1(str(models.path("dlib_resnet")))
    rows = []

    pics = photos()
    found = [(p, vision.faces(p)[0]) for p in pics]

    def ours_embed() -> None:
        for p, f in found:
            features.describe(p, f)

    def dlib_embed() -> None:
        for p, f in found:
            x0, y0, x1, y1 = (int(v) for v in f.box)
            s = shape(p, dlib.rectangle(x0, y0, x1, y1))
            net.compute_face_descriptor(p, s)

    ours = median_ms(ours_embed, 15) / len(found)
    anchor = median_ms(dlib_embed, 15) / len(found)
    rows.append(
        {
            "measure": "embedding one face, one core (landmarks, gate, alignment, ResNet)",
            "ours_ms": round(ours, 1),
            "anchor": "dlib's own pipeline from the same face (5-point model, chip, ResNet)",
            "anchor_ms": round(anchor, 1),
            "ratio": round(ours / anchor, 2),
        }
    )

    rng = np.random.default_rng(3)
    raw = rng.standard_normal((10_000, 128)).astype(np.float32)
    raw /= np.linalg.norm(raw, axis=1, keepdims=True)
    key = SiteKey.from_secret(b"bench site secret, 32 bytes long", 128)
    gallery = kernels.apply_rotation(raw, key.rotation)
    query = raw[4321] + np.float32(0.01)
    index = faiss.IndexFlatIP(128)
    index.add(gallery)

    def ours_match() -> None:
        kernels.topk_dot(key.transform(query)[None], gallery, 1)

    def faiss_match() -> None:
        index.search(key.transform(query)[None], 1)

    ours = median_ms(ours_match, 201)
    anchor = median_ms(faiss_match, 201)
    rows.append(
        {
            "measure": "matching 1 face against 10,000 site-keyed templates, one core",
            "ours_ms": round(ours, 3),
            "anchor": "faiss IndexFlatIP on the same templates",
            "anchor_ms": round(anchor, 3),
            "ratio": round(ours / anchor, 2),
        }
    )

    frames = entrance_frames(pics, 24)
    floor = Policy(purpose="floor")
    threshold = features.embedder.threshold

    def redact(frame: np.ndarray) -> None:
        vision.find(frame, floor)

    def redact_and_look(frame: np.ndarray) -> None:
        for face in vision.faces(frame, min_face_px=20)[:8]:
            d = features.describe(frame, face)
            if d.template is not None:
                kernels.topk_dot(key.transform(d.template)[None], gallery, 1)
                _ = threshold
        vision.find(frame, floor)

    def fps(fn: Callable[[np.ndarray], None]) -> float:
        fn(frames[0])
        t0 = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(fn, frames))
        return len(frames) / (time.perf_counter() - t0)

    vision2 = Vision(profile, workers=2)
    vision, features = vision2, FaceFeatures(DlibEmbedder(), profile)
    ours, anchor = fps(redact_and_look), fps(redact)
    rows.append(
        {
            "measure": "entrance camera: 720p, 5 faces in view, two cores, floor redaction"
            " + watchlist (10,000 entries)",
            "ours_fps": round(ours, 1),
            "anchor": "the same floor redaction without the watchlist",
            "anchor_fps": round(anchor, 1),
            "ratio": round(ours / anchor, 2),
        }
    )
    for r in rows:
        print(json.dumps(r) if args.json else f"{r['measure']}: {r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
