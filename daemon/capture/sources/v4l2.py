"""V4L2 cameras through linuxpy: MJPEG or YUYV, reopened after an unplug."""

from __future__ import annotations

import io
import logging
import time
from typing import Any

import numpy as np
from PIL import Image

from veilcam.capture.sources.base import Frame, check_frame, yuyv_to_rgb
from veilcam.errors import SourceError

log = logging.getLogger(__name__)

MAX_STALE = 8  # queued frames skipped at most to reach a fresh one


class V4L2Source:
    def __init__(
        self, name: str, device: str, *, width: int, height: int, fps: float, pixel_format: str
    ) -> None:
        self.name = name
        self.device = device
        self.width, self.height, self.fps = width, height, fps
        self.pixel_format = "MJPG" if pixel_format == "MJPEG" else pixel_format
        self._dev: Any = None
        self._capture: Any = None
        self._frames: Any = None

    def open(self) -> None:
        from linuxpy.video.device import Device, VideoCapture

        try:
            dev = Device(self.device)
            dev.open()
            capture = VideoCapture(dev)
            capture.set_format(self.width, self.height, self.pixel_format)
            capture.set_fps(self.fps)
            capture.open()
            self._frames = iter(capture)
        except (OSError, ValueError) as exc:
            self.close()
            raise SourceError(f"{self.device}: cannot start capture ({exc})") from exc
        self._dev, self._capture = dev, capture

    def grab(self) -> Frame:
        if self._frames is None:
            self.open()
        asked = time.monotonic()
        try:
            for _ in range(MAX_STALE):
                frame = next(self._frames)
                # Buffers queued before the request are old news; skip to a fresh one.
                if frame.timestamp >= asked - 0.5 / self.fps:
                    break
        except (OSError, StopIteration) as exc:
            self.close()  # unplugged: the next grab reopens
            raise SourceError(f"{self.device}: camera stopped delivering frames ({exc})") from exc
        return Frame(check_frame(self._decode(frame), self.device), self.device)

    def _decode(self, frame: Any) -> np.ndarray:
        data = bytes(frame.data)
        if self.pixel_format == "YUYV":
            return yuyv_to_rgb(data, frame.width, frame.height)
        try:
            with Image.open(io.BytesIO(data)) as img:
                return np.asarray(img.convert("RGB"))
        except OSError as exc:
            raise SourceError(f"{self.device}: corrupt MJPEG frame ({exc})") from exc

    def close(self) -> None:
        for obj in (self._capture, self._dev):
            if obj is not None:
                try:
                    obj.close()
                except OSError:
                    pass
        self._dev = self._capture = self._frames = None
