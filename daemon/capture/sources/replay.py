"""Folder replay: pictures from a directory, in name order, round and round."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from veilcam.capture.sources.base import Frame, check_frame
from veilcam.errors import SourceError

log = logging.getLogger(__name__)

EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


def decode_image(path: Path) -> np.ndarray:
    """Decode to RGB with EXIF orientation applied; clear error for anything unreadable."""
    try:
        with Image.open(path) as img:
            upright = ImageOps.exif_transpose(img)
            return np.asarray(upright.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise SourceError(f"{path}: not a readable image ({exc})") from exc


class ReplaySource:
    def __init__(self, name: str, folder: str | Path, *, loop: bool = True) -> None:
        self.name = name
        self.folder = Path(folder)
        self.loop = loop
        self._files: list[Path] = []
        self._next = 0

    def open(self) -> None:
        try:
            files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in EXTENSIONS)
        except OSError as exc:
            raise SourceError(f"{self.folder}: cannot list replay folder ({exc.strerror})") from exc
        if not files:
            raise SourceError(
                f"{self.folder}: no pictures to replay ({', '.join(sorted(EXTENSIONS))})"
            )
        self._files = files
        self._next = 0

    def grab(self) -> Frame:
        if not self._files:
            self.open()
        if self._next >= len(self._files):
            if not self.loop:
                raise SourceError(f"{self.folder}: replay finished")
            self._next = 0
        path = self._files[self._next]
        self._next += 1
        # A corrupt file is reported; the next grab moves on to the next picture.
        return Frame(check_frame(decode_image(path), str(path)), str(path))

    def close(self) -> None:
        self._files = []
