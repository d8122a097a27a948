"""Encrypted picture files: AES-256-GCM, written atomically before their row commits.

File layout: ``MAGIC | nonce (12) | ciphertext+tag``; the media id is the
associated data, so a file renamed onto another id fails to decrypt.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from veilcam.errors import MediaIntegrityError, StoreError

log = logging.getLogger(__name__)

MAGIC = b"VCM1"
SUFFIX = ".vcm"
TMP_SUFFIX = ".tmp"


def load_or_create_key(path: Path) -> bytes:
    """The 256-bit media key, created 0600 on first start (and never overwritten)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) != 32:
            raise StoreError(
                f"{path}: media key is {len(key)} bytes, expected 32; "
                "restore it from backup (pictures cannot be read without it)"
            ) from None
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise StoreError(
                f"{path}: media key is readable by others (mode {mode:o}); chmod 600"
            ) from None
        return key
    key = AESGCM.generate_key(bit_length=256)
    try:
        os.write(fd, key)
        os.fsync(fd)
    finally:
        os.close(fd)
    _fsync_dir(path.parent)
    log.info("created media key %s", path)
    return key


def new_media_id() -> str:
    return secrets.token_hex(16)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class MediaStore:
    """Blocking file operations; callers run them in an executor."""

    def __init__(self, root: Path, key: bytes | None = None) -> None:
        self.root = root
        self._default = key  # for callers that keep one key for every file
        root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def path_for(self, media_id: str) -> Path:
        if len(media_id) != 32 or not all(c in "0123456789abcdef" for c in media_id):
            raise ValueError(f"not a media id: {media_id!r}")
        return self.root / media_id[:2] / (media_id + SUFFIX)

    def _aead(self, key: bytes | None) -> AESGCM:
        key = key if key is not None else self._default
        if key is None:
            raise StoreError("no key given for a media file")
        return AESGCM(key)

    def write(self, media_id: str, plaintext: bytes, key: bytes | None = None) -> int:
        """Encrypt and write atomically (temp file, fsync, rename, fsync dir); return size."""
        path = self.path_for(media_id)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        nonce = secrets.token_bytes(12)
        blob = MAGIC + nonce + self._aead(key).encrypt(nonce, plaintext, media_id.encode())
        tmp = path.with_suffix(TMP_SUFFIX)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(blob)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError as exc:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise StoreError(f"cannot write picture {media_id}: {exc.strerror or exc}") from exc
        os.close(fd)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        return len(blob)

    def read(self, media_id: str, key: bytes | None = None) -> bytes:
        path = self.path_for(media_id)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            raise MediaIntegrityError(f"picture {media_id} has no file") from None
        if blob[:4] != MAGIC or len(blob) < 4 + 12 + 16:
            raise MediaIntegrityError(f"picture {media_id}: not a veilcam media file")
        try:
            return self._aead(key).decrypt(blob[4:16], blob[16:], media_id.encode())
        except InvalidTag:
            raise MediaIntegrityError(
                f"picture {media_id}: file was altered or truncated"
            ) from None

    def delete(self, media_ids: Iterable[str]) -> int:
        gone = 0
        for media_id in media_ids:
            try:
                self.path_for(media_id).unlink()
                gone += 1
            except FileNotFoundError:
                pass
        return gone

    def list_ids(self) -> tuple[set[str], list[Path]]:
        """Ids of every media file, and leftover temporary files."""
        ids: set[str] = set()
        temps: list[Path] = []
        for sub in self.root.iterdir():
            if not sub.is_dir():
                continue
            for f in sub.iterdir():
                if f.suffix == SUFFIX:
                    ids.add(f.stem)
                elif f.suffix == TMP_SUFFIX:
                    temps.append(f)
        return ids, temps

    def sweep_orphans(self, known_ids: set[str]) -> int:
        """Delete files with no row (a crash between file and commit) and stray temp files."""
        ids, temps = self.list_ids()
        orphans = ids - known_ids
        for tmp in temps:
            tmp.unlink(missing_ok=True)
        self.delete(orphans)
        return len(orphans) + len(temps)
