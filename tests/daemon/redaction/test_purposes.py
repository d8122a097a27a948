"""Each camera purpose redacts its own subjects, on a real photograph of a person through
the real models; configuration cannot take a subject away; a research camera needs its
legal basis."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.support.images import picture
from veilcam.cli import main
from veilcam.config import CameraConfig, RedactionConfig, ReplaySourceConfig, loads
from veilcam.errors import ConfigError
from veilcam.redaction.redactor import VisionRedactor
from veilcam.vision.pipeline import Policy, Vision
from veilcam.vision.subjects import PURPOSES, SUBJECTS

FACE = (185, 70, 265, 170)  # the astronaut's hairline to chin (x0, y0, x1, y1)
BODY = (100, 300, 420, 512)  # her shoulders, arms and the flag below the face


def obscured(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    moved = (np.abs(after.astype(int) - before.astype(int)) > 8).any(axis=2)
    return moved | (after == 0).all(axis=2)


def camera(purpose: str, **kw: object) -> CameraConfig:
    return CameraConfig(
        name="c",
        purpose=purpose,  # type: ignore[arg-type]
        source=ReplaySourceConfig(path="."),
        research_basis="consent: study notice at the entrance" if purpose == "research" else "",
        **kw,  # type: ignore[arg-type]
    )


def share(img: np.ndarray, out: np.ndarray, box: tuple[int, int, int, int]) -> float:
    x0, y0, x1, y1 = box
    return float(obscured(img, out)[y0:y1, x0:x1].mean())


@pytest.mark.parametrize("purpose", PURPOSES)
def test_each_purpose_redacts_its_subjects(vision: Vision, assets: Path, purpose: str) -> None:
    img = picture(assets, "astronaut")
    red = VisionRedactor(vision).redact(img, camera(purpose))
    assert share(img, red.pixels, FACE) >= 0.99, red.regions
    x0, y0, x1, y1 = BODY  # changed, not just dark: the suit has black pixels of its own
    changed = float((red.pixels[y0:y1, x0:x1] != img[y0:y1, x0:x1]).any(axis=2).mean())
    if "person" in SUBJECTS[purpose]:
        assert share(img, red.pixels, BODY) >= 0.9, red.regions  # the whole person
        assert red.regions.get("person", 0) >= 1
    else:
        assert changed <= 0.1, red.regions  # research: the body stays to be studied
        assert "person" not in red.regions
    assert ("palm_lite" in red.models) == ("hand" in SUBJECTS[purpose])


def test_configuration_adds_subjects_and_never_removes_them() -> None:
    fridge = VisionRedactor.policy(camera("fridge", redaction=RedactionConfig(hands=False)))
    assert {"face", "person", "hand", "change"} <= fridge.subjects
    research = VisionRedactor.policy(camera("research", redaction=RedactionConfig(hands=True)))
    assert research.subjects == {"face", "head", "hand"}
    with pytest.raises(ValueError, match="purpose must be one of"):
        Policy(purpose="none")


BASE = """
[[cameras]]
name = "aisle-3"
purpose = "research"
source = { kind = "replay", path = "x" }
"""


def test_a_research_camera_without_its_basis_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"cameras\[0\]\.research_basis"):
        loads(BASE)
    with pytest.raises(ConfigError, match=r"cameras\[0\]\.research_basis"):
        loads(BASE + 'research_basis = "   "\n')
    cfg = loads(BASE + 'research_basis = "consent, DPIA 2026-03"\n')
    assert cfg.cameras[0].purpose == "research"


def test_the_smallest_face_cannot_be_set_larger_than_the_products() -> None:
    with pytest.raises(ConfigError, match="min_face_px"):
        loads(BASE.replace("research", "floor") + "redaction = { min_face_px = 40 }\n")


def test_batch_command_takes_a_purpose(
    assets: Path, model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = next(assets.glob("astronaut.*"))
    lines = {}
    for purpose in ("floor", "research"):
        out = tmp_path / purpose
        args = ["redact", str(src), "-o", str(out), "--json", "--models", str(model_cache)]
        assert main([*args, "--purpose", purpose]) == 0
        lines[purpose] = json.loads(capsys.readouterr().out)
    assert lines["floor"]["purpose"] == "floor" and "person" in lines["floor"]["counts"]
    assert lines["research"]["purpose"] == "research"
    assert "person" not in lines["research"]["counts"]
    assert lines["research"]["counts"].get("face", 0) >= 1
    with pytest.raises(SystemExit):
        main(["redact", str(src), "-o", str(tmp_path / "x"), "--purpose", "shelf"])
    with pytest.raises(SystemExit, match="min-face-px"):
        main(["redact", str(src), "-o", str(tmp_path / "x"), "--min-face-px", "50"])


@pytest.mark.parametrize("growth", [1.5, 1.75, 2.0, 3.0])
def test_a_research_head_ellipse_holds_the_whole_face_box(growth: float) -> None:
    from veilcam.redaction.paint import ellipses
    from veilcam.vision.detect import Region
    from veilcam_native import mask as masks

    face = Region("face", (40.0, 50.0, 100.0, 130.0), 0.9)
    mask = masks.ellipse_mask((200, 200), ellipses([face], growth))
    assert mask[50:130, 40:100].all()
