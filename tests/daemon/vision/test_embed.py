"""Face templates: alignment as dlib's own, the quality gate's reasons, dlib's embedder on
the product's detector, and operator-supplied models refused unless their hash matches."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from veilcam.errors import ModelError
from veilcam.vision import embed
from veilcam.vision.embed import DlibEmbedder, FaceFeatures, ModelEmbedder, ModelSpec
from veilcam.vision.pipeline import Vision
from veilcam.vision.runtime import BoardProfile

dlib = pytest.importorskip("dlib", reason="the face features need the [faces] extra")


@pytest.fixture(scope="module")
def features(face_models: Path) -> FaceFeatures:
    return FaceFeatures(DlibEmbedder(face_models), BoardProfile("generic"), face_models)


@pytest.fixture(scope="module")
def astronaut(assets: Path) -> np.ndarray:
    return np.asarray(Image.open(assets / "astronaut.png").convert("RGB"))


def test_alignment_matches_dlibs_own_chip(face_models: Path, astronaut: np.ndarray) -> None:
    rect = dlib.get_frontal_face_detector()(astronaut, 1)[0]
    shape = dlib.shape_predictor(str(face_models / "dlib_landmarks5.dat"))(astronaut, rect)
    five = np.array([(shape.part(i).x, shape.part(i).y) for i in range(5)], float)
    ours = embed.align(astronaut, five, 150).astype(int)
    theirs = dlib.get_face_chip(astronaut, shape, 150, 0.25).astype(int)
    assert np.abs(ours - theirs).mean() < 8  # the same face, the same place, to a few levels


def test_the_mesh_finds_dlibs_five_points(
    face_models: Path, features: FaceFeatures, vision: Vision, astronaut: np.ndarray
) -> None:
    face = vision.faces(astronaut)[0]
    mesh, present = features.landmarks(astronaut, face.box)
    rect = dlib.get_frontal_face_detector()(astronaut, 1)[0]
    shape = dlib.shape_predictor(str(face_models / "dlib_landmarks5.dat"))(astronaut, rect)
    theirs = np.array([(shape.part(i).x, shape.part(i).y) for i in range(5)], float)
    ours = mesh[list(embed.MESH_FIVE)]
    eyes = np.hypot(*(theirs[0] - theirs[2]))
    assert present > 0.9
    assert np.abs(ours - theirs).max() < 0.15 * eyes  # each point within 15% of the eyes' span


def test_the_same_face_matches_and_another_does_not(
    features: FaceFeatures, vision: Vision, astronaut: np.ndarray, assets: Path
) -> None:
    a = features.describe(astronaut, vision.faces(astronaut)[0])
    small = np.asarray(Image.fromarray(astronaut).resize((200, 200)).convert("L").convert("RGB"))
    b = features.describe(small, vision.faces(small, min_face_px=12)[0])
    camera = np.asarray(Image.open(assets / "camera.png").convert("RGB"))
    c = features.describe(camera, vision.faces(camera)[0])
    assert a.template is not None and b.template is not None and c.template is not None
    assert a.template.shape == (128,) and abs(float(np.linalg.norm(a.template)) - 1) < 1e-5
    assert a.model_id == "dlib_resnet_v1"
    threshold = features.embedder.threshold
    assert float(a.template @ b.template) >= threshold, "the same face, small and grey"
    assert float(a.template @ c.template) < threshold, "another person"


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (lambda im: im.filter(ImageFilter.GaussianBlur(8)), "blurred"),
        (lambda im: im.point(lambda v: v // 12), "badly exposed"),
        (lambda im: im.point(lambda v: min(255, v * 4)), "badly exposed"),
        (lambda im: im.resize((56, 56)).resize((512, 512), Image.Resampling.BILINEAR), "blurred"),
    ],
)
def test_the_gate_names_what_is_wrong(
    features: FaceFeatures, vision: Vision, astronaut: np.ndarray, spoil: object, reason: str
) -> None:
    face = vision.faces(astronaut)[0]  # found on the good picture: the gate judges the face
    bad = np.asarray(spoil(Image.fromarray(astronaut)))  # type: ignore[operator]
    d = features.describe(bad, face)
    assert d.template is None and d.quality.reason is not None
    assert d.quality.reason.startswith(reason), d.quality.reason


def test_a_tiny_face_is_refused_as_too_small(
    features: FaceFeatures, vision: Vision, astronaut: np.ndarray
) -> None:
    tiny = np.asarray(Image.fromarray(astronaut).resize((40, 40)))
    box = (12.0, 4.0, 22.0, 14.0)  # her face at this size: eyes about 4 px apart
    d = features.describe(tiny, embed.Region("face", box, 1.0))
    assert d.template is None
    assert d.quality.reason == "too small: the face is 10 px wide"


def standin_onnx(path: Path, size: int = 112, dim: int = 64) -> str:
    """A stand-in embedding model: a fixed projection of the chip; its SHA-256."""
    onnx = pytest.importorskip("onnx", reason="builds the stand-in model")
    pytest.importorskip("onnxruntime", reason="runs ONNX embedders")
    from onnx import TensorProto, helper, numpy_helper

    weight = np.random.default_rng(1).standard_normal((3 * size * size, dim)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Flatten", ["x"], ["flat"]),
            helper.make_node("MatMul", ["flat", "w"], ["y"]),
        ],
        "embed",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, dim])],
        [numpy_helper.from_array(weight, "w")],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_operator_model_is_refused_unless_its_hash_matches(tmp_path: Path) -> None:
    path = tmp_path / "sface.onnx"
    good = standin_onnx(path)
    with pytest.raises(ModelError, match="sface: .* has SHA-256 .* pins 000000"):
        ModelEmbedder(ModelSpec("sface", str(path), "0" * 64, 112))
    with pytest.raises(ModelError, match="cannot read"):
        ModelEmbedder(ModelSpec("sface", str(tmp_path / "none.onnx"), good, 112))
    e = ModelEmbedder(ModelSpec("sface", str(path), good, 112, threshold=0.4))
    chip = np.random.default_rng(2).integers(0, 255, (112, 112, 3), np.uint8)
    v = e.embed(chip)
    assert e.dim == 64 and v.shape == (64,) and abs(float(np.linalg.norm(v)) - 1) < 1e-5
    assert e.model_id == "sface" and e.threshold == 0.4
