"""Reference pictures of fridge cameras, against which every later picture is compared so
that an arm or hand the models miss is still redacted.

The reference is the one unredacted frame the appliance keeps, so it is only accepted when
the detectors find no face, person or hand in it (``veilcam.capture.calibration``), it is
stored encrypted (AES-256-GCM, its own key, the camera name as associated data) and
replaced by the next calibration. It is the fridge stocked; a second one, named
``CAMERA.empty`` (see ``empty_name``), is the same fridge empty, for stock monitoring.
"""

from __future__ import annotations

import io
import os
import secrets
import threading
from pathlib import Path

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from PIL import Image

from veilcam.errors import MediaIntegrityError
from veilcam.store.media import load_or_create_key

MAGIC = b"VCR1"


def empty_name(camera: str) -> str:
    """The name the empty fridge's picture is kept under (camera names hold no dot)."""
    return f"{camera}.empty"


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

    def stamp(self, camera: str) -> int | None:
        """Changes when the camera's reference does (its file's modification time)."""
        try:
            return self._path(camera).stat().st_mtime_ns
        except FileNotFoundError:
            return None

    def load(self, camera: str, *, keep: bool = True) -> np.ndarray | None:
        """The camera's reference, or None if it was never calibrated; ``keep=False``
        reads it without holding it in memory afterwards (a picture used once)."""
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
        if keep:
            with self._lock:
                self._cache[camera] = pixels
        return pixels
