import glob

import numpy as np
import pytest

from veilcam.sources.base import yuyv_to_rgb

DEVICES = sorted(glob.glob("/dev/video*"))


def test_yuyv_conversion() -> None:
    # two pixels: Y=16 (black) and Y=235 (white), neutral chroma
    data = bytes([16, 128, 235, 128]) * 2
    rgb = yuyv_to_rgb(data, 2, 2)
    assert rgb.shape == (2, 2, 3)
    assert rgb[0, 0].tolist() == [0, 0, 0] and rgb[0, 1].tolist() == [255, 255, 255]


def test_yuyv_too_short_is_an_error() -> None:
    from veilcam.errors import SourceError

    with pytest.raises(SourceError, match="expected 16"):
        yuyv_to_rgb(b"\0" * 8, 4, 2)


@pytest.mark.hardware
@pytest.mark.skipif(not DEVICES, reason="no /dev/video* on this machine")
@pytest.mark.parametrize("pixel_format", ["MJPEG", "YUYV"])
def test_real_camera_delivers_frames(pixel_format: str) -> None:
    from veilcam.sources.v4l2 import V4L2Source

    src = V4L2Source("hw", DEVICES[0], width=640, height=480, fps=10, pixel_format=pixel_format)
    try:
        frame = src.grab()
    finally:
        src.close()
    assert frame.pixels.ndim == 3 and frame.pixels.dtype == np.uint8


def test_missing_device_is_a_clear_error() -> None:
    from veilcam.errors import SourceError
    from veilcam.sources.v4l2 import V4L2Source

    src = V4L2Source("hw", "/dev/video-none", width=640, height=480, fps=10, pixel_format="MJPEG")
    with pytest.raises(SourceError, match="/dev/video-none: cannot start capture"):
        src.grab()
