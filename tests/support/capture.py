"""Stand-ins for a camera and a redactor, and checks that nothing of a frame was kept."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from veilcam.capture.camera import Camera
from veilcam.capture.pipeline import Pipeline
from veilcam.capture.sources.base import Frame
from veilcam.config import CameraConfig, ReplaySourceConfig
from veilcam.health import Health
from veilcam.redaction.redactor import Redacted
from veilcam.store import Store, records


class FixedSource:
    name = "fixed"

    def __init__(self, pixels: np.ndarray) -> None:
        self.pixels = pixels
        self.fail: Exception | None = None

    def open(self) -> None: ...

    def grab(self) -> Frame:
        if self.fail:
            raise self.fail
        return Frame(self.pixels.copy(), "fixed")

    def close(self) -> None: ...


class Broken:
    def redact(self, pixels: np.ndarray, camera: object = None) -> Redacted:
        raise RuntimeError("model file corrupt")


class Real:
    """Stands in for a working detector: fills a box and says so."""

    def redact(self, pixels: np.ndarray, camera: object = None) -> Redacted:
        out = pixels.copy()
        out[10:60, 10:60] = 0
        return Redacted(out, {"face": 1}, ["test-model"])


class Hung:
    """A detector that does not answer until released (a hung model); ``release()`` at the end
    of the test lets its worker thread go."""

    def __init__(self) -> None:
        self.released = threading.Event()

    def redact(self, pixels: np.ndarray, camera: object = None) -> Redacted:
        self.released.wait(30)
        return Redacted(np.zeros_like(pixels))

    def release(self) -> None:
        self.released.set()


class Gated(Real):
    """A working detector that redacts one frame each time the test opens its gate."""

    def __init__(self) -> None:
        self.gate = threading.Semaphore(0)

    def redact(self, pixels: np.ndarray, camera: object = None) -> Redacted:
        self.gate.acquire(timeout=30)
        return super().redact(pixels, camera)


class Leaky:
    def redact(self, pixels: np.ndarray, camera: object = None) -> Redacted:
        return Redacted(pixels[:, :])  # a view of the original: must be caught


def cam_cfg(**kw: object) -> CameraConfig:
    return CameraConfig(name="cam", purpose="fridge", source=ReplaySourceConfig(path="."), **kw)  # type: ignore[arg-type]


def make(
    store: Store, health: Health, scene: np.ndarray, redactor: object, **kw: object
) -> tuple[Pipeline, FixedSource]:
    src = FixedSource(scene)
    cam = Camera(cam_cfg(**kw), src, health)
    return Pipeline({"cam": cam}, redactor, store, health), src  # type: ignore[arg-type]


def decode(jpeg: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB")).astype(int)


def assert_nothing_of(original: np.ndarray, stored: np.ndarray) -> None:
    # A blank frame is uniform grey plus text: its correlation with the scene is nil.
    assert stored.shape[:2] == original.shape[:2]
    a = original.astype(float).ravel() - original.mean()
    b = stored.astype(float).ravel() - stored.mean()
    corr = abs(a @ b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-9)
    assert corr < 0.05


def assert_no_raw_bytes_on_disk(data_dir: Path, original: np.ndarray) -> None:
    needle = original[100, 100:140].tobytes()  # 120 bytes of random pixels
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert needle not in path.read_bytes(), path


async def capture_once(
    store: Store, health: Health, scene: np.ndarray, redactor: object, **kw: object
) -> dict[str, Any]:
    """One capture of ``scene`` through a fresh pipeline: the stored row (its redaction
    summary decoded)."""
    pipeline, _ = make(store, health, scene, redactor, **kw)
    try:
        media_id = await pipeline.capture("cam", "manual")
    finally:
        pipeline.close()
    row = await store.db.read(records.get_media, media_id)
    assert row is not None
    return row
