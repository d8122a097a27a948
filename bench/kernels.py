"""Native redaction kernels against OpenCV, single-threaded on both sides, in one run.

    python bench/kernels.py [--json]

Each line: {"kernel", "case", "ours_ms", "anchor", "anchor_ms", "ratio"}, every figure the
median of repeated runs in this process. Target: ratio <= 1.0, and whole-frame box blur
within 4x of a plain frame copy (the memory-bandwidth limit measured here).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

from veilcam_native import IMPLEMENTATION, embed, redact

H, W = 1080, 1920
RADIUS = 15  # a 31x31 window, OpenCV's k=31


def _batch(fn: Callable[[], object], reps: int) -> float:
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps


def _reps(fn: Callable[[], object]) -> int:
    """Calls per sample so that one sample lasts at least 5 ms (timer, loop and neighbour noise)."""
    fn()  # warm caches and lazy initialisation
    once = _batch(fn, 1)
    return max(1, min(5000, int(0.005 / max(once, 1e-7))))


def median_ms(fn: Callable[[], object], rounds: int = 41) -> float:
    reps = _reps(fn)
    return statistics.median(_batch(fn, reps) for _ in range(rounds)) * 1000


def paired_ms(
    ours: Callable[[], object], theirs: Callable[[], object], rounds: int = 41
) -> tuple[float, float]:
    """Medians of per-call times, sampling the two sides alternately so that both see the
    same machine (frequency, cache and neighbour noise) over the run."""
    r_ours, r_theirs = _reps(ours), _reps(theirs)
    a, b = [], []
    for _ in range(rounds):
        a.append(_batch(ours, r_ours))
        b.append(_batch(theirs, r_theirs))
    return statistics.median(a) * 1000, statistics.median(b) * 1000


def face_boxes(n: int = 10, size: int = 100) -> np.ndarray:
    rng = np.random.default_rng(1)
    xs, ys = rng.integers(0, W - size, n), rng.integers(0, H - size, n)
    return np.stack([xs, ys, xs + size, ys + size], axis=1).astype(np.int64)


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    import cv2

    cv2.setNumThreads(1)
    frame = np.random.default_rng(0).integers(0, 256, (H, W, 3), dtype=np.uint8)
    work = frame.copy()
    faces = face_boxes()
    whole = np.array([[0, 0, W, H]], np.int64)
    k = 2 * RADIUS + 1
    sigma = 0.3 * ((k - 1) * 0.5 - 1) + 0.8  # what GaussianBlur uses for ksize=31, sigma=0
    cells = 5

    def cv_rois(op: Callable[[np.ndarray], np.ndarray]) -> Callable[[], None]:
        def run() -> None:
            for x0, y0, x1, y1 in faces:
                roi = work[y0:y1, x0:x1]
                roi[...] = op(roi)

        return run

    def cv_pixelate(roi: np.ndarray, n: int = cells) -> np.ndarray:
        h, w = roi.shape[:2]
        small = cv2.resize(roi, (n, max(1, round(n * h / w))), interpolation=cv2.INTER_AREA)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)

    rows = []

    def case(
        kernel: str,
        name: str,
        ours: Callable[[], object],
        anchor: str,
        theirs: Callable[[], object],
    ) -> None:
        o, a = paired_ms(ours, theirs)
        rows.append(
            {
                "kernel": kernel,
                "case": name,
                "ours_ms": round(o, 3),
                "anchor": anchor,
                "anchor_ms": round(a, 3),
                "ratio": round(o / a, 3),
            }
        )

    case(
        "box_blur",
        "10 face regions 100x100, r=15, 1080p",
        lambda: redact.box_blur(work, faces, RADIUS),
        "cv2.blur k=31 per ROI",
        cv_rois(lambda r: cv2.blur(r, (k, k))),
    )
    case(
        "box_blur",
        "whole 1920x1080 frame, r=15",
        lambda: redact.box_blur(work, whole, RADIUS),
        "cv2.blur k=31",
        lambda: cv2.blur(work, (k, k)),
    )
    case(
        "gaussian",
        f"whole frame, sigma={sigma:g} (3 box passes)",
        lambda: redact.gaussian_blur(work, whole, sigma),
        "cv2.GaussianBlur k=31",
        lambda: cv2.GaussianBlur(work, (k, k), 0),
    )
    case(
        "gaussian",
        f"10 face regions, sigma={sigma:g}",
        lambda: redact.gaussian_blur(work, faces, sigma),
        "cv2.GaussianBlur k=31 per ROI",
        cv_rois(lambda r: cv2.GaussianBlur(r, (k, k), 0)),
    )
    case(
        "pixelate",
        "10 face regions, 5 cells across",
        lambda: redact.pixelate(work, faces, cells),
        "cv2.resize area down, nearest up, per ROI",
        cv_rois(cv_pixelate),
    )
    case(
        "pixelate",
        "whole frame, 16 px cells",
        lambda: redact.pixelate(work, whole, W // 16),
        "cv2.resize area down, nearest up",
        lambda: cv_pixelate(work, W // 16),
    )
    case(
        "fill",
        "10 face regions",
        lambda: redact.fill(work, faces, 0),
        "numpy slice assignment",
        lambda: [work[y0:y1, x0:x1].fill(0) for x0, y0, x1, y1 in faces],
    )
    import faiss

    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(2)
    gallery = rng.standard_normal((10_000, 128)).astype(np.float32)
    embed.l2_normalize(gallery)
    query = gallery[1234:1235] + np.float32(0.01)
    flat = faiss.IndexFlatIP(128)
    flat.add(gallery)
    case(
        "topk_dot",
        "top-5, 1 query vs 10,000 x 128 float32",
        lambda: embed.topk_dot(query, gallery, 5),
        "faiss IndexFlatIP",
        lambda: flat.search(query, 5),
    )
    codes, _ = embed.quantize_i8(gallery)
    qcode, _ = embed.quantize_i8(query)
    case(
        "topk_dot",
        "top-5, 1 query vs 10,000 x 128 int8",
        lambda: embed.topk_dot(qcode, codes, 5),
        "faiss IndexFlatIP (float32)",
        lambda: flat.search(query, 5),
    )
    templates = rng.integers(0, 256, (100_000, 32), dtype=np.uint8)
    probe = templates[777:778].copy()
    binary = faiss.IndexBinaryFlat(256)
    binary.add(templates)
    case(
        "topk_hamming",
        "top-5, 1 query vs 100,000 x 256-bit",
        lambda: embed.topk_hamming(probe, templates, 5),
        "faiss IndexBinaryFlat",
        lambda: binary.search(probe, 5),
    )
    angle, s = 0.2, 112 / 180
    for size in (112, 150):
        m = np.array(
            [
                [s * np.cos(angle), -s * np.sin(angle), -700 * s],
                [s * np.sin(angle), s * np.cos(angle), -400 * s],
            ]
        )
        m *= size / 112
        case(
            "warp_affine",
            f"face chip {size}x{size} from 1080p, bilinear",
            lambda m=m, size=size: embed.warp_affine(frame, m, (size, size)),
            "cv2.warpAffine INTER_LINEAR",
            lambda m=m, size=size: cv2.warpAffine(frame, m, (size, size), flags=cv2.INTER_LINEAR),
        )
    copy_ms = median_ms(lambda: frame.copy())
    blur_ms = next(r["ours_ms"] for r in rows if r["case"].startswith("whole 1920x1080"))
    rows.append(
        {
            "kernel": "box_blur",
            "case": "whole frame vs memory bandwidth",
            "ours_ms": blur_ms,
            "anchor": "frame copy",
            "anchor_ms": round(copy_ms, 3),
            "ratio": round(blur_ms / copy_ms, 3),
            "target_ratio": 4.0,
        }
    )
    for row in rows:
        row["implementation"] = IMPLEMENTATION
        if args.json:
            print(json.dumps(row))
        else:
            target = row.get("target_ratio", 1.0)
            mark = "ok  " if row["ratio"] <= target else "MISS"
            print(
                f"{mark} {row['kernel']:9} {row['case']:44} {row['ours_ms']:8.3f} ms  vs "
                f"{row['anchor']:40} {row['anchor_ms']:8.3f} ms  "
                f"ratio {row['ratio']:.2f} (target {target:g})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
