from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from veilcam.capture.sources.replay import ReplaySource, decode_image
from veilcam.errors import SourceError


def write(path: Path, colour: tuple[int, int, int]) -> None:
    Image.new("RGB", (64, 48), colour).save(path)


def test_replays_in_name_order_and_loops(tmp_path: Path) -> None:
    write(tmp_path / "b.png", (0, 255, 0))
    write(tmp_path / "a.png", (255, 0, 0))
    (tmp_path / "notes.txt").write_text("not a picture")
    src = ReplaySource("r", tmp_path)
    colours = [tuple(src.grab().pixels[0, 0]) for _ in range(3)]
    assert colours == [(255, 0, 0), (0, 255, 0), (255, 0, 0)]


def test_corrupt_picture_is_named_and_skipped(tmp_path: Path) -> None:
    write(tmp_path / "a.png", (255, 0, 0))
    (tmp_path / "b.jpg").write_bytes(b"\xff\xd8 this is not a jpeg")
    write(tmp_path / "c.png", (0, 0, 255))
    src = ReplaySource("r", tmp_path, loop=False)
    src.grab()
    with pytest.raises(SourceError, match=r"b\.jpg: not a readable image"):
        src.grab()
    assert tuple(src.grab().pixels[0, 0]) == (0, 0, 255)
    with pytest.raises(SourceError, match="replay finished"):
        src.grab()


def test_empty_or_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no pictures to replay"):
        ReplaySource("r", tmp_path).grab()
    with pytest.raises(SourceError, match="cannot list replay folder"):
        ReplaySource("r", tmp_path / "gone").grab()


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    img = Image.new("RGB", (60, 30), (255, 255, 255))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    img.save(tmp_path / "o.jpg", exif=exif)
    assert decode_image(tmp_path / "o.jpg").shape == (60, 30, 3)


def test_grey_and_alpha_pictures_become_rgb(tmp_path: Path) -> None:
    Image.new("L", (32, 32), 128).save(tmp_path / "g.png")
    Image.new("RGBA", (32, 32), (1, 2, 3, 0)).save(tmp_path / "h.png")
    src = ReplaySource("r", tmp_path)
    for _ in range(2):
        px = src.grab().pixels
        assert px.shape == (32, 32, 3) and px.dtype == np.uint8
