"""The real vision redactor fails closed: a corrupt model, a detector that raises, one that
hangs, a frame over the limit: each stores a blank frame with the reason, never the
original, and raises a health warning."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from tests.support.capture import (
    assert_no_raw_bytes_on_disk,
    assert_nothing_of,
    capture_once,
    decode,
)
from veilcam.capture import pipeline as capture_mod
from veilcam.config import CameraConfig, Config, ReplaySourceConfig, VisionConfig
from veilcam.health import Health
from veilcam.redaction.redactor import FailClosedRedactor, VisionRedactor
from veilcam.runtime.supervisor import load_redactor
from veilcam.store import Store
from veilcam.vision.pipeline import Vision


async def stored(
    store: Store, health: Health, scene: np.ndarray, redactor: object, **kw: object
) -> tuple[str, str]:
    row = await capture_once(store, health, scene, redactor, **kw)
    return row["id"], row["blank_reason"]


def corrupt_cache(model_cache: Path, tmp_path: Path, name: str) -> Path:
    cache = tmp_path / "models"
    shutil.copytree(model_cache, cache)
    path = cache / f"{name}.tflite"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    return cache


async def test_a_corrupt_model_blanks_every_picture_and_names_the_model(
    store: Store,
    health: Health,
    scene: np.ndarray,
    model_cache: Path,
    tmp_path: Path,
    data_dir: Path,
) -> None:
    cache = corrupt_cache(model_cache, tmp_path, "selfie_segmentation")
    config = Config(
        cameras=[CameraConfig(name="cam", purpose="floor", source=ReplaySourceConfig(path="."))],
        vision=VisionConfig(models_dir=str(cache)),
    )
    redactor = load_redactor(config, health)
    assert isinstance(redactor, FailClosedRedactor)
    models_health = health.get("models")
    assert models_health is not None and models_health.state == "error"
    assert "selfie_segmentation" in models_health.message and "altered" in models_health.message
    media_id, reason = await stored(store, health, scene, redactor)
    assert "model selfie_segmentation" in reason
    assert_nothing_of(scene, decode(await store.read_picture(media_id)))
    assert_no_raw_bytes_on_disk(data_dir, scene)
    assert health.get("redaction").state == "warning"  # type: ignore[union-attr]


async def test_a_detector_that_raises_blanks_the_picture(
    store: Store,
    health: Health,
    scene: np.ndarray,
    vision: Vision,
    monkeypatch: pytest.MonkeyPatch,
    data_dir: Path,
) -> None:
    def boom(image: np.ndarray) -> list[np.ndarray]:
        raise RuntimeError("XNNPACK delegate failed")

    monkeypatch.setattr(vision.face.model, "run", boom)
    media_id, reason = await stored(store, health, scene, VisionRedactor(vision))
    assert reason == "redaction failed: RuntimeError: XNNPACK delegate failed"
    assert_nothing_of(scene, decode(await store.read_picture(media_id)))
    assert_no_raw_bytes_on_disk(data_dir, scene)
    status = health.get("redaction")
    assert status is not None and status.state == "warning" and "XNNPACK" in status.message


async def test_a_hung_detector_blanks_the_picture_after_the_timeout(
    store: Store, health: Health, scene: np.ndarray, vision: Vision, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = vision.segmenter.run
    released = threading.Event()

    def hung(image: np.ndarray) -> list[np.ndarray]:
        released.wait(30)
        return real(image)

    monkeypatch.setattr(capture_mod, "REDACT_TIMEOUT", 0.05)
    monkeypatch.setattr(vision.segmenter, "run", hung)
    try:
        media_id, reason = await stored(store, health, scene, VisionRedactor(vision))
    finally:
        released.set()
    assert "timed out after 0.05s" in reason
    assert_nothing_of(scene, decode(await store.read_picture(media_id)))
    assert health.get("redaction").state == "warning"  # type: ignore[union-attr]


async def test_a_frame_over_the_limit_is_blanked_before_any_model_sees_it(
    store: Store, health: Health, scene: np.ndarray, vision: Vision, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = []
    monkeypatch.setattr(vision, "find", lambda *a, **k: seen.append(1))
    media_id, reason = await stored(store, health, scene, VisionRedactor(vision), max_pixels=1000)
    assert "exceeds the 1000-pixel limit" in reason and not seen
    assert_nothing_of(scene, decode(await store.read_picture(media_id)))
    assert health.get("redaction").state == "warning"  # type: ignore[union-attr]


async def test_a_redacted_picture_records_what_ran(
    store: Store, health: Health, scene: np.ndarray, vision: Vision
) -> None:
    row = await capture_once(store, health, scene, VisionRedactor(vision))
    assert row["blank_reason"] is None
    assert row["redaction"]["status"] == "redacted"
    assert "palm_lite" in row["redaction"]["models"]  # a fridge camera
