"""Fail closed: whatever goes wrong, what is stored is never the original frame."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.support.capture import (
    Broken,
    Hung,
    Leaky,
    Real,
    assert_no_raw_bytes_on_disk,
    assert_nothing_of,
    decode,
    make,
)
from veilcam.capture import pipeline as capture_mod
from veilcam.errors import SourceError
from veilcam.health import Health
from veilcam.redaction.redactor import FailClosedRedactor
from veilcam.store import Store


@pytest.mark.parametrize(
    ("redactor", "reason"),
    [
        (FailClosedRedactor(), "no person detector"),
        (Broken(), "redaction failed: RuntimeError: model file corrupt"),
        (Leaky(), "handed back the original frame"),
    ],
)
async def test_failure_stores_a_blank_frame_with_the_reason(
    store: Store, health: Health, scene: np.ndarray, redactor: object, reason: str, data_dir: Path
) -> None:
    pipeline, _ = make(store, health, scene, redactor)
    try:
        media_id = await pipeline.capture("cam", "manual")
    finally:
        pipeline.close()
    row = await store.db.read(lambda db: db.conn.execute("SELECT * FROM media").fetchone())
    assert row["id"] == media_id and reason in row["blank_reason"]
    assert '"status": "blanked"' in row["redaction"]
    assert_nothing_of(scene, decode(await store.read_picture(media_id)))
    assert_no_raw_bytes_on_disk(data_dir, scene)
    status = health.get("redaction")
    assert status is not None and status.state == "warning" and reason in status.message


async def test_timeout_stores_a_blank_frame(
    store: Store, health: Health, scene: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(capture_mod, "REDACT_TIMEOUT", 0.05)
    hung = Hung()
    pipeline, _ = make(store, health, scene, hung)
    try:
        media_id = await pipeline.capture("cam", "manual")
    finally:
        hung.release()
        pipeline.close()
    row = await store.db.read(
        lambda db: db.conn.execute("SELECT blank_reason FROM media").fetchone()
    )
    assert "timed out" in row[0]
    assert_nothing_of(scene, decode(await store.read_picture(media_id)))


async def test_frame_over_the_size_limit_is_blanked(
    store: Store, health: Health, scene: np.ndarray
) -> None:
    pipeline, _ = make(store, health, scene, Real(), max_pixels=1000)
    try:
        await pipeline.capture("cam", "manual")
    finally:
        pipeline.close()
    row = await store.db.read(
        lambda db: db.conn.execute("SELECT blank_reason FROM media").fetchone()
    )
    assert "exceeds the 1000-pixel limit" in row[0]


async def test_redacted_picture_is_stored_without_metadata(
    store: Store, health: Health, scene: np.ndarray, data_dir: Path
) -> None:
    pipeline, _ = make(store, health, scene, Real())
    try:
        media_id = await pipeline.capture("cam", "door_open:1")
    finally:
        pipeline.close()
    jpeg = await store.read_picture(media_id)
    img = Image.open(io.BytesIO(jpeg))
    assert img.format == "JPEG" and not img.getexif() and "icc_profile" not in img.info
    # no APP1 (EXIF/XMP), APP2 (ICC) or COM segments anywhere in the file
    for marker in (b"\xff\xe1", b"\xff\xe2", b"\xff\xfe", b"Exif", b"http://ns.adobe.com/xap"):
        assert marker not in jpeg[:2000]
    pixels = decode(jpeg)
    assert pixels[20:50, 20:50].max() < 40  # the redacted box
    row = await store.db.read(lambda db: db.conn.execute("SELECT * FROM media").fetchone())
    assert (
        row["blank_reason"] is None and row["trigger"] == "door_open:1" and row["kind"] == "fridge"
    )
    assert '"face": 1' in row["redaction"] and "test-model" in row["redaction"]
    assert_no_raw_bytes_on_disk(data_dir, scene)


async def test_camera_failure_is_reported_and_stores_nothing(
    store: Store, health: Health, scene: np.ndarray
) -> None:
    pipeline, src = make(store, health, scene, Real())
    src.fail = SourceError("/dev/video0: camera stopped delivering frames")
    try:
        with pytest.raises(SourceError):
            await pipeline.capture("cam", "manual")
        status = health.get("camera:cam")
        assert status is not None and status.state == "error" and "/dev/video0" in status.message
        src.fail = None
        await pipeline.capture("cam", "manual")
        assert health.get("camera:cam").state == "ok"  # type: ignore[union-attr]
    finally:
        pipeline.close()
    assert (
        await store.db.read(lambda db: db.conn.execute("SELECT count(*) FROM media").fetchone()[0])
        == 1
    )


async def test_full_disk_is_a_clear_error_and_leaves_nothing_behind(
    store: Store, health: Health, scene: np.ndarray, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    from veilcam.errors import StoreError
    from veilcam.store import media as media_mod

    real_write = os.write
    full = True

    def write(fd: int, data: bytes) -> int:
        if full and len(data) > 100:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(media_mod.os, "write", write)
    pipeline, _ = make(store, health, scene, Real())
    try:
        with pytest.raises(StoreError, match="No space left on device"):
            await pipeline.capture("cam", "manual")
        status = health.get("picture_store")
        assert status is not None and status.state == "error"
        assert list((data_dir / "media").rglob("*.*")) == []  # no temp file, no orphan
        assert (
            await store.db.read(
                lambda db: db.conn.execute("SELECT count(*) FROM media").fetchone()[0]
            )
            == 0
        )
        full = False
        await pipeline.capture("cam", "manual")
        assert health.get("picture_store").state == "ok"  # type: ignore[union-attr]
    finally:
        pipeline.close()
