"""Fridge reference pictures: taken only when nobody is in view, stored encrypted, used to
redact an arm the models miss."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.support.capture import make
from tests.support.images import picture
from veilcam.capture.calibration import calibrate
from veilcam.errors import ControlError, MediaIntegrityError
from veilcam.health import Health
from veilcam.redaction.redactor import VisionRedactor
from veilcam.store import Store
from veilcam.store.references import References
from veilcam.vision.pipeline import Vision


async def test_reference_taken_when_empty_then_an_arm_is_redacted(
    store: Store, health: Health, vision: Vision, assets: Path, data_dir: Path
) -> None:
    shelf = picture(assets, "gravel")  # a stand-in for a stocked shelf: texture, nobody
    redactor = VisionRedactor(vision, References(data_dir))
    pipeline, source = make(store, health, shelf, redactor)
    try:
        reply = await calibrate(pipeline, redactor, "cam")
        assert reply == {"camera": "cam", "width": 512, "height": 512, "empty": False}
        blob = (data_dir / "references" / "cam.ref").read_bytes()
        assert shelf[200, 100:140].tobytes() not in blob  # encrypted, not raw
        # Later: something arm-coloured reaches in, too plain for any model to call a hand.
        reached = shelf.copy()
        reached[300:380, 0:260] = (200, 150, 130)
        source.pixels = reached
        media_id = await pipeline.capture("cam", "door_open")
    finally:
        pipeline.close()
    row = await store.db.read(
        lambda db: db.conn.execute(
            "SELECT redaction FROM media WHERE id = ?", (media_id,)
        ).fetchone()
    )
    assert '"change": 1' in row[0] and "reference difference" in row[0]
    # A fresh store (a restart) reads the same reference back.
    again = References(data_dir).load("cam")
    assert again is not None and np.array_equal(again, shelf)


async def test_the_empty_fridge_is_kept_beside_the_reference(
    store: Store, health: Health, vision: Vision, assets: Path, data_dir: Path
) -> None:
    """Stock monitoring's empty picture: kept under its own name, the reference the
    redactor compares with stays the stocked one."""
    from veilcam.store.references import empty_name

    shelf = picture(assets, "gravel")
    refs = References(data_dir)
    refs.save("cam", np.zeros_like(shelf))
    redactor = VisionRedactor(vision, refs)
    pipeline, _ = make(store, health, shelf, redactor)
    try:
        reply = await calibrate(pipeline, redactor, "cam", empty=True)
    finally:
        pipeline.close()
    assert reply["empty"] is True
    kept = References(data_dir).load(empty_name("cam"))
    assert kept is not None and np.array_equal(kept, shelf)
    assert not References(data_dir).load("cam").any()  # type: ignore[union-attr]


async def test_calibration_refused_while_someone_is_in_view(
    store: Store, health: Health, vision: Vision, assets: Path, data_dir: Path
) -> None:
    redactor = VisionRedactor(vision, References(data_dir))
    pipeline, _ = make(store, health, picture(assets, "astronaut"), redactor)
    try:
        with pytest.raises(ControlError, match="refused: someone is in view"):
            await calibrate(pipeline, redactor, "cam")
    finally:
        pipeline.close()
    assert not (data_dir / "references" / "cam.ref").exists()


def test_an_altered_reference_is_refused(data_dir: Path) -> None:
    refs = References(data_dir)
    refs.save("cam", np.zeros((8, 8, 3), np.uint8))
    path = data_dir / "references" / "cam.ref"
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 1
    path.write_bytes(bytes(blob))
    with pytest.raises(MediaIntegrityError, match="recalibrate"):
        References(data_dir).load("cam")
    assert References(data_dir).load("other") is None
