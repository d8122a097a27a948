"""Depth for research clips: a depth camera's Z16 frames (Intel RealSense, Orbbec: 16-bit
distances through the kernel's UVC driver, aligned to the colour camera by the device) or a
replayed folder of 16-bit PNGs, recorded losslessly beside the colour clip (FFV1, 16-bit grey,
in Matroska). Depth shows no face, so it needs no redaction; it is kept under the same study
and retention as its clip.

A frame that is not a 16-bit picture of the expected size is refused by name
(``SourceError``); the recorder counts it, records zeros in its place and says so in health.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any, Protocol

import av
import numpy as np
from PIL import Image, UnidentifiedImageError

from veilcam.config import DepthConfig, ReplayDepthConfig
from veilcam.errors import SourceError

log = logging.getLogger(__name__)


class DepthSource(Protocol):
    units_mm: float

    def grab(self) -> np.ndarray: ...

    def close(self) -> None: ...


def check_depth(frame: np.ndarray, origin: str, shape: tuple[int, int] | None) -> np.ndarray:
    if frame.ndim != 2 or frame.dtype != np.uint16:
        raise SourceError(f"corrupt depth frame from {origin}: {frame.shape} {frame.dtype}")
    if shape is not None and frame.shape != shape:
        raise SourceError(
            f"corrupt depth frame from {origin}: {frame.shape[1]}x{frame.shape[0]},"
            f" expected {shape[1]}x{shape[0]}"
        )
    if frame.shape[0] < 16 or frame.shape[1] < 16:
        raise SourceError(f"corrupt depth frame from {origin}: too small")
    return np.ascontiguousarray(frame)


class ReplayDepth:
    """16-bit PNGs from a folder, in name order, looping; the first sets the size."""

    def __init__(self, path: str, units_mm: float) -> None:
        self.files = sorted(Path(path).glob("*.png"))
        if not self.files:
            raise SourceError(f"no depth frames (16-bit PNG) in {path}")
        self.units_mm = units_mm
        self.i = 0
        self.shape: tuple[int, int] | None = None

    def grab(self) -> np.ndarray:
        f = self.files[self.i % len(self.files)]
        self.i += 1
        try:
            with Image.open(f) as img:
                frame = np.asarray(img)
        except (OSError, UnidentifiedImageError, ValueError) as exc:
            raise SourceError(f"corrupt depth frame {f.name}: {exc}") from None
        if frame.dtype != np.uint16 and frame.dtype.kind in "iu" and frame.ndim == 2:
            frame = frame.astype(np.uint16) if frame.max(initial=0) < 65536 else frame
        frame = check_depth(frame, f.name, self.shape)
        self.shape = self.shape or (frame.shape[0], frame.shape[1])
        return frame

    def close(self) -> None:
        pass


class V4L2Depth:
    """Z16 frames from a V4L2 device; reopened after an unplug like the colour cameras."""

    def __init__(self, device: str, width: int, height: int, units_mm: float) -> None:
        self.device, self.width, self.height, self.units_mm = device, width, height, units_mm
        self._capture: Any = None
        self._frames: Any = None

    def grab(self) -> np.ndarray:
        from linuxpy.video.device import Device, VideoCapture

        if self._frames is None:
            try:
                dev = Device(self.device)
                dev.open()
                self._capture = VideoCapture(dev)
                self._capture.set_format(self.width, self.height, "Z16 ")
                self._capture.open()
                self._frames = iter(self._capture)
            except (OSError, ValueError) as exc:
                self.close()
                raise SourceError(f"{self.device}: cannot start depth capture ({exc})") from exc
        try:
            data = bytes(next(self._frames).data)
        except (OSError, StopIteration) as exc:
            self.close()
            raise SourceError(f"{self.device}: depth stream stopped ({exc})") from exc
        if len(data) != self.width * self.height * 2:
            raise SourceError(
                f"corrupt depth frame from {self.device}: {len(data)} bytes, expected "
                f"{self.width * self.height * 2}"
            )
        frame = np.frombuffer(data, "<u2").reshape(self.height, self.width)
        return check_depth(frame, self.device, (self.height, self.width))

    def close(self) -> None:
        if self._capture is not None:
            try:
                self._capture.close()
            except OSError:
                log.debug("closing %s failed", self.device)
        self._capture = self._frames = None


def open_depth(cfg: DepthConfig) -> DepthSource:
    if isinstance(cfg, ReplayDepthConfig):
        return ReplayDepth(cfg.path, cfg.units_mm)
    return V4L2Depth(cfg.device, cfg.width, cfg.height, cfg.units_mm)


class DepthWriter:
    """A clip's depth, lossless: FFV1, 16-bit grey, in Matroska, in memory."""

    def __init__(self, width: int, height: int, fps: float) -> None:
        self.width, self.height = width, height
        self.buf = io.BytesIO()
        self.container = av.open(self.buf, mode="w", format="matroska")
        stream: Any = self.container.add_stream("ffv1", rate=round(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "gray16le"
        self.stream = stream
        self.frames = self.bad = 0

    def add(self, depth: np.ndarray | None, pts: int) -> None:
        """``depth`` at the colour frame's ``pts``; None (a corrupt frame): zeros, counted."""
        if depth is None or depth.shape != (self.height, self.width):
            self.bad += 1
            depth = np.zeros((self.height, self.width), np.uint16)
        frame = av.VideoFrame.from_ndarray(depth, format="gray16le")
        frame.pts = pts
        for packet in self.stream.encode(frame):
            self.container.mux(packet)
        self.frames += 1

    def finish(self) -> bytes:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()
        return self.buf.getvalue()
