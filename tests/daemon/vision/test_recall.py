"""The must-show numbers, where the evaluation pictures are present (../shared/eval is not
part of the repository; CI machines that have it run this too)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from veilcam.vision.pipeline import Policy, Vision
from veilcam.vision.subjects import PURPOSES

EVAL = Path(__file__).resolve().parents[4] / "shared" / "eval"
ROOT = Path(__file__).resolve().parents[3]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (EVAL / "faces").is_dir(), reason="../shared/eval not on this machine"),
]


def test_face_recall_from_output_pixels(vision: Vision) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from redaction_eval import face_recall, ours

    ann = json.loads((EVAL / "faces" / "annotations.json").read_text())
    result = face_recall(EVAL / "faces", ann, ours(vision, Policy()), 20)
    assert result["recall"] >= 0.97, result["misses"]


def test_demo_pictures_without_people_stay_under_half_a_percent(vision: Vision) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from redaction_eval import changed_share, ours

    demo = ROOT / "daemon" / "demo" / "assets"
    empty = [p for p in sorted(demo.glob("*/*.jpg")) if "shopper" not in p.name]
    assert len(empty) >= 7
    for purpose in PURPOSES:
        result = changed_share(empty, ours(vision, Policy(purpose=purpose)), {})
        assert result["max_changed"] < 0.005, (purpose, result)


def test_the_demo_shoppers_are_redacted(vision: Vision) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from redaction_eval import obscured, ours

    from veilcam.redaction.files import read_picture

    shoppers = sorted((ROOT / "daemon" / "demo" / "assets").glob("*/*shopper*.jpg"))
    assert len(shoppers) >= 3
    for path in shoppers:
        pixels = read_picture(path)
        out = ours(vision, Policy(purpose="fridge" if "shelf" in path.name else "floor"))(pixels)
        assert obscured(pixels, out).mean() > 0.03, path.name
