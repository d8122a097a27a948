"""The must-show numbers, where the evaluation pictures are present (../shared/eval is not
part of the repository; CI machines that have it run this too)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from veilcam.vision.pipeline import Policy, Vision

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


def test_demo_shelves_without_people_stay_under_two_percent(vision: Vision) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from redaction_eval import changed_share, ours

    for folder, hands in (("fridge", True), ("floor", False)):
        result = changed_share(
            ROOT / "daemon" / "demo" / "assets" / folder, ours(vision, Policy(hands=hands)), {}
        )
        assert result["max_changed"] < 0.02, result
