"""Reference pictures of fridge cameras: the empty or stocked fridge, taken by a technician
(``veilcam calibrate CAMERA``), against which every later picture is compared so that an arm
or hand the models miss is still redacted.

The reference is the one unredacted frame the appliance keeps, so it is only accepted when
the detectors find no face, person or hand in it, it is stored encrypted (AES-256-GCM, its
own key, the camera name as associated data), replaced by the next calibration, and every
calibration and refusal is audited by the control socket.
"""

from __future__ import annotations

import asyncio
import io
import os
import secrets
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from PIL import Image

from .errors import ControlError, MediaIntegrityError
from .store.media import load_or_create_key

if TYPE_CHECKING:
    from .capture import Pipeline
    from .redact import VisionRedactor

MAGIC = b"VCR1"


class References:
    """Encrypted reference pictures, one per camera, cached in memory once read."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "references"
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._aead = AESGCM(load_or_create_key(data_dir / "keys" / "reference.key"))
        self._cache: dict[str, np.ndarray | None] = {}
        self._lock = threading.Lock()

    def _path(self, camera: str) -> Path:
        return self.root / f"{camera}.ref"

    def save(self, camera: str, pixels: np.ndarray) -> None:
        buf = io.BytesIO()
        Image.fromarray(pixels, "RGB").save(buf, "PNG")  # lossless: compared pixel by pixel
        nonce = secrets.token_bytes(12)
        blob = MAGIC + nonce + self._aead.encrypt(nonce, buf.getvalue(), camera.encode())
        path = self._path(camera)
        tmp = path.with_suffix(".part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, blob)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        with self._lock:
            self._cache[camera] = pixels.copy()

    def load(self, camera: str) -> np.ndarray | None:
        """The camera's reference, or None if it was never calibrated."""
        with self._lock:
            if camera in self._cache:
                return self._cache[camera]
        path = self._path(camera)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            pixels = None
        else:
            try:
                png = self._aead.decrypt(blob[4:16], blob[16:], camera.encode())
            except (InvalidTag, ValueError):
                raise MediaIntegrityError(
                    f"reference picture of {camera} was altered; recalibrate the camera"
                ) from None
            with Image.open(io.BytesIO(png)) as img:
                pixels = np.asarray(img.convert("RGB"))
        with self._lock:
            self._cache[camera] = pixels
        return pixels


async def calibrate(pipeline: Pipeline, redactor: VisionRedactor, camera: str) -> dict[str, object]:
    """Grab a frame; keep it as the camera's reference only if nobody is in it."""
    from .vision.pipeline import Policy

    cam = pipeline.cameras[camera]
    if cam.cfg.purpose != "fridge":
        raise ControlError(
            f"camera {camera} is a {cam.cfg.purpose} camera; only fridges take a reference"
        )
    if redactor.store is None:
        raise ControlError("no reference store on this appliance")
    frame = await cam.grab()
    policy = Policy(hands=True, min_face_px=cam.cfg.redaction.min_face_px)
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
    await asyncio.get_running_loop().run_in_executor(
        None, redactor.store.save, camera, frame.pixels
    )
    h, w = frame.pixels.shape[:2]
    return {"camera": camera, "width": w, "height": h}
