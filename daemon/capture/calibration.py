"""Calibration of a fridge camera: its reference picture, the empty or stocked fridge taken by
a technician (``veilcam calibrate CAMERA``), kept only if nobody is in view. Every
calibration and refusal is audited by the control socket; the picture itself is kept by
``veilcam.store.references``."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from veilcam.errors import ControlError
from veilcam.store.references import empty_name
from veilcam.vision.pipeline import Policy

if TYPE_CHECKING:
    from veilcam.capture.pipeline import Pipeline
    from veilcam.redaction.redactor import VisionRedactor


async def calibrate(
    pipeline: Pipeline, redactor: VisionRedactor, camera: str, *, empty: bool = False
) -> dict[str, object]:
    """Grab a frame; keep it as the camera's reference (the fridge stocked), or with
    ``empty`` as its empty picture for stock monitoring, only if nobody is in it."""
    cam = pipeline.cameras[camera]
    if cam.cfg.purpose != "fridge":
        raise ControlError(
            f"camera {camera} is a {cam.cfg.purpose} camera; only fridges take a reference"
        )
    if redactor.store is None:
        raise ControlError("no reference store on this appliance")
    frame = await cam.grab()
    policy = Policy(purpose="fridge", min_face_px=cam.cfg.redaction.min_face_px)
    found = await asyncio.get_running_loop().run_in_executor(
        None, redactor.vision.find, frame.pixels, policy
    )
    seen = {
        "faces": len(found.faces),
        "hands": len(found.hands),
        "people": int(found.people.any()) if found.people is not None else 0,
    }
    if any(seen.values()):
        what = ", ".join(f"{k} {v}" for k, v in seen.items() if v)
        raise ControlError(
            f"calibration of {camera} refused: someone is in view ({what}); clear the "
            "front of the fridge and try again"
        )
    name = empty_name(camera) if empty else camera
    await asyncio.get_running_loop().run_in_executor(None, redactor.store.save, name, frame.pixels)
    h, w = frame.pixels.shape[:2]
    return {"camera": camera, "width": w, "height": h, "empty": empty}
