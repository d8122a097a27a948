import glob

import numpy as np
import pytest

from veilcam.capture.sources.base import yuyv_to_rgb

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
    from veilcam.capture.sources.v4l2 import V4L2Source

    src = V4L2Source("hw", DEVICES[0], width=640, height=480, fps=10, pixel_format=pixel_format)
    try:
        frame = src.grab()
    finally:
        src.close()
    assert frame.pixels.ndim == 3 and frame.pixels.dtype == np.uint8


def test_missing_device_is_a_clear_error() -> None:
    from veilcam.capture.sources.v4l2 import V4L2Source
    from veilcam.errors import SourceError

    src = V4L2Source("hw", "/dev/video-none", width=640, height=480, fps=10, pixel_format="MJPEG")
    with pytest.raises(SourceError, match="/dev/video-none: cannot start capture"):
        src.grab()


class FakeFrame:
    def __init__(self, data: bytes, timestamp: float, width: int = 16, height: int = 16) -> None:
        self.data, self.timestamp, self.width, self.height = data, timestamp, width, height


class FakeCapture:
    """Stands in for linuxpy's VideoCapture: no V4L2 device can exist on this machine."""

    opened: list[str] = []
    unplug_after: int | None = None

    def __init__(self, dev: object) -> None:
        self.served = 0

    def set_format(self, w: int, h: int, fmt: str) -> None:
        self.fmt = fmt

    def set_fps(self, fps: float) -> None: ...

    def open(self) -> None:
        FakeCapture.opened.append(self.fmt)

    def close(self) -> None: ...

    def __iter__(self):  # type: ignore[no-untyped-def]
        import time

        stale = time.monotonic() - 5
        yield FakeFrame(bytes([16, 128, 16, 128]) * 128, stale)  # queued long ago
        while True:
            self.served += 1
            if FakeCapture.unplug_after is not None and self.served > FakeCapture.unplug_after:
                raise OSError(19, "No such device")
            yield FakeFrame(bytes([235, 128, 235, 128]) * 128, time.monotonic())


class FakeDevice:
    def __init__(self, path: str) -> None: ...

    def open(self) -> None: ...

    def close(self) -> None: ...


def test_v4l2_skips_stale_frames_and_reopens_after_unplug(monkeypatch: pytest.MonkeyPatch) -> None:
    import linuxpy.video.device as lvd

    from veilcam.capture.sources.v4l2 import V4L2Source
    from veilcam.errors import SourceError

    monkeypatch.setattr(lvd, "Device", FakeDevice)
    monkeypatch.setattr(lvd, "VideoCapture", FakeCapture)
    FakeCapture.opened, FakeCapture.unplug_after = [], 1
    src = V4L2Source("hw", "/dev/video0", width=16, height=16, fps=10, pixel_format="YUYV")
    frame = src.grab()
    assert frame.pixels.min() == 255  # the fresh white frame, not the stale black one
    with pytest.raises(SourceError, match="/dev/video0: camera stopped delivering frames"):
        src.grab()
    FakeCapture.unplug_after = None
    assert src.grab().pixels.min() == 255  # reopened by itself
    assert FakeCapture.opened == ["YUYV", "YUYV"]
