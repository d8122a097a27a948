"""The Jetson profile's face detector: CenterFace on ONNX Runtime (here its CPU provider)
finds the faces the LiteRT path (BlazeFace) finds, in the same places; a missing accelerator
or a missing ONNX Runtime falls back to the CPU with a note for the health page."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from veilcam.vision import models, ssd
from veilcam.vision.onnxface import CPU, choose_provider
from veilcam.vision.pipeline import Policy, Vision
from veilcam.vision.runtime import BoardProfile

pytest.importorskip("onnxruntime")

ROOT = Path(__file__).resolve().parents[3]
EVAL = ROOT.parent / "shared" / "eval" / "faces"


def pictures(assets: Path) -> list[tuple[str, np.ndarray]]:
    """Demo scenes with shoppers, the astronaut portrait, and the evaluation photographs
    where this machine has them."""
    paths = sorted((ROOT / "daemon" / "demo" / "assets").glob("*/*shopper*.jpg"))
    paths.append(assets / "astronaut.png")
    paths += sorted(EVAL.glob("*.jpg"))[:8] if EVAL.is_dir() else []
    return [(p.name, np.asarray(Image.open(p).convert("RGB"))) for p in paths]


@pytest.fixture(scope="module")
def onnx_vision(model_cache: Path) -> Vision:
    models.fetch(model_cache, ["centerface"])  # optional: fetched by the boards that run it
    return Vision(BoardProfile.load("jetson"), model_cache)


def test_onnx_path_finds_the_litert_path_faces(
    vision: Vision, onnx_vision: Vision, assets: Path
) -> None:
    assert onnx_vision.face_runs_on == "ONNX Runtime CPU"
    matched = 0
    for name, pixels in pictures(assets):
        theirs = vision.faces(pixels)
        ours = onnx_vision.faces(pixels)
        assert abs(len(ours) - len(theirs)) <= max(1, len(theirs) // 5), name
        for face in theirs:
            box = np.array(face.box, np.float32)
            boxes = np.array([r.box for r in ours], np.float32).reshape(-1, 4)
            best = float(ssd.iou(box, boxes).max()) if len(boxes) else 0.0
            if best >= 0.5:
                matched += 1
    total = sum(len(vision.faces(p)) for _, p in pictures(assets))
    assert total >= 4 and matched >= 0.9 * total, (matched, total)


def test_onnx_path_redacts_the_same_faces(vision: Vision, onnx_vision: Vision) -> None:
    pixels = np.asarray(
        Image.open(ROOT / "daemon/demo/assets/floor/aisle-0-shopper.jpg").convert("RGB")
    )
    policy = Policy(purpose="research")  # faces and heads only: the face path decides
    theirs = vision.find(pixels, policy).faces
    ours = onnx_vision.find(pixels, policy).faces
    assert theirs and ours
    # Every face either path paints is one the other paints too (a pass may add a second,
    # overlapping box for the same face).
    for a, b in ((theirs, ours), (ours, theirs)):
        others = np.array([r.box for r in b], np.float32)
        assert all(ssd.iou(np.array(r.box, np.float32), others).max() >= 0.5 for r in a)


def test_missing_accelerator_falls_back_to_the_cpu_with_a_note(onnx_vision: Vision) -> None:
    assert any("CPU provider" in n and "CUDAExecutionProvider" in n for n in onnx_vision.notes)


def test_provider_choice() -> None:
    wanted = ["TensorrtExecutionProvider", "CUDAExecutionProvider"]
    assert choose_provider(wanted, ["CUDAExecutionProvider", CPU]) == "CUDAExecutionProvider"
    assert choose_provider(wanted, [CPU]) == CPU
    assert choose_provider([], ["CUDAExecutionProvider", CPU]) == CPU


def test_without_onnxruntime_blazeface_runs_with_a_note(
    model_cache: Path, onnx_vision: Vision, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if not installed
    v = Vision(BoardProfile.load("jetson"), model_cache)
    assert v.face_runs_on.startswith("LiteRT")
    assert any("not installed" in n for n in v.notes)


def test_unknown_face_detector_refused(tmp_path: Path) -> None:
    from veilcam.errors import ModelError

    p = tmp_path / "odd.toml"
    p.write_text('name = "odd"\n[face_detector]\nmodel = "yolo"\nruntime = "onnxruntime"\n')
    with pytest.raises(ModelError, match="not one veilcam runs"):
        BoardProfile.load(str(p))
