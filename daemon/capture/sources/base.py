"""Camera sources: something that hands over one RGB frame when asked.

``grab`` blocks (device I/O), so the capture pipeline calls it in an executor
with a timeout. Frames live only in memory; no source writes one anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from veilcam.errors import SourceError


@dataclass(frozen=True, slots=True, eq=False)
class Frame:
    pixels: np.ndarray  # HxWx3 uint8, RGB
    origin: str  # device path, URL or file name, for messages


class Source(Protocol):
    name: str

    def open(self) -> None: ...

    def grab(self) -> Frame: ...

    def close(self) -> None: ...


def check_frame(pixels: np.ndarray, origin: str) -> np.ndarray:
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise SourceError(
            f"{origin}: expected an HxWx3 uint8 frame, got {pixels.shape} {pixels.dtype}"
        )
    if pixels.shape[0] < 16 or pixels.shape[1] < 16:
        raise SourceError(f"{origin}: frame of {pixels.shape[1]}x{pixels.shape[0]} is too small")
    return np.ascontiguousarray(pixels)


def yuyv_to_rgb(data: bytes | memoryview, width: int, height: int) -> np.ndarray:
    """Packed YUYV 4:2:2 (BT.601, limited range) to RGB."""
    raw = np.frombuffer(data, dtype=np.uint8)
    if raw.size < width * height * 2:
        raise SourceError(f"YUYV frame has {raw.size} bytes, expected {width * height * 2}")
    yuyv = raw[: width * height * 2].reshape(height, width // 2, 4).astype(np.float32)
    y = np.empty((height, width), np.float32)
    y[:, 0::2], y[:, 1::2] = yuyv[..., 0], yuyv[..., 2]
    u = np.repeat(yuyv[..., 1], 2, axis=1) - 128.0
    v = np.repeat(yuyv[..., 3], 2, axis=1) - 128.0
    c = (y - 16.0) * 1.164
    rgb = np.stack((c + 1.596 * v, c - 0.392 * u - 0.813 * v, c + 2.017 * u), axis=-1)
    out: np.ndarray = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
    return out
