"""Media keys: each picture has its own data key, kept wrapped in its row.

A key-encryption key (KEK) on disk wraps the data keys. Deleting a picture's row
deletes its data key with it (the database runs with ``secure_delete``), so a
copy of the file that lives on in flash wear-levelling or a backup can no longer
be read: crypto-erase. Rows from before per-picture keys (``dek`` NULL) are
encrypted directly under the first KEK, ``media.key``; a rotation moves them.

Rotating the KEK (``veilcam.store.rotation``) writes a new key file and points
``media.current`` at it; the old key files stay until every picture is
re-encrypted, then they are overwritten and removed.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from veilcam.errors import MediaIntegrityError, StoreError
from veilcam.store.media import MediaStore, _fsync_dir, load_or_create_key

log = logging.getLogger(__name__)

FIRST = "0"  # the key id of media.key
CURRENT_FILE = "media.current"
_NAME = re.compile(r"^media-([0-9a-f]{16})\.key$")


def key_file(keys_dir: Path, kid: str) -> Path:
    return keys_dir / ("media.key" if kid == FIRST else f"media-{kid}.key")


class KeyRing:
    """The media KEKs present on disk and the one new pictures use."""

    def __init__(self, keys_dir: Path, *, create: bool = True) -> None:
        self.dir = keys_dir
        self._create = create
        self._keys: dict[str, bytes] = {}
        self.current = FIRST
        self.reload()

    def reload(self) -> None:
        pointer = self.dir / CURRENT_FILE
        if pointer.exists():
            self.current = pointer.read_text().strip()
            if self.current != FIRST and not re.fullmatch(r"[0-9a-f]{16}", self.current):
                raise StoreError(f"{pointer}: not a key id: {self.current[:40]!r}")
        keys: dict[str, bytes] = {}
        first = key_file(self.dir, FIRST)
        if first.exists() or (self.current == FIRST and self._create):
            # Created on first start, when no rotation has ever happened.
            keys[FIRST] = load_or_create_key(key_file(self.dir, FIRST))
        for f in sorted(self.dir.glob("media-*.key")):
            m = _NAME.match(f.name)
            if m:
                keys[m.group(1)] = load_or_create_key(f)
        if self.current not in keys:
            raise StoreError(
                f"{key_file(self.dir, self.current)} is missing: the current media key is gone, "
                "pictures cannot be read; restore it from backup"
            )
        self._keys = keys

    @property
    def retired(self) -> list[str]:
        """Key ids still on disk that new pictures no longer use: a rotation is unfinished."""
        return sorted(k for k in self._keys if k != self.current)

    def has(self, kid: str) -> bool:
        return kid in self._keys

    def wrap(self, media_id: str, dek: bytes) -> tuple[str, bytes]:
        """(kid, wrapped data key) under the current KEK; the media id is associated data."""
        nonce = secrets.token_bytes(12)
        aad = f"{media_id}:{self.current}".encode()
        return self.current, nonce + AESGCM(self._keys[self.current]).encrypt(nonce, dek, aad)

    def unwrap(self, media_id: str, kid: str, wrapped: bytes) -> bytes:
        key = self._keys.get(kid)
        if key is None:
            raise MediaIntegrityError(f"picture {media_id}: its key {kid} was destroyed")
        try:
            return AESGCM(key).decrypt(wrapped[:12], wrapped[12:], f"{media_id}:{kid}".encode())
        except InvalidTag:
            raise MediaIntegrityError(f"picture {media_id}: its data key does not unwrap") from None

    def data_key(self, media_id: str, kid: str | None, wrapped: bytes | None) -> bytes:
        """The key a picture's file is encrypted under (the first KEK for old rows)."""
        if wrapped is None:
            if FIRST not in self._keys:
                raise MediaIntegrityError(f"picture {media_id}: the first media key was destroyed")
            return self._keys[FIRST]
        return self.unwrap(media_id, kid or FIRST, wrapped)

    def new_key(self) -> str:
        """Write a new KEK and make it current; the old ones stay until destroyed."""
        kid = secrets.token_hex(8)
        load_or_create_key(key_file(self.dir, kid))
        tmp = self.dir / (CURRENT_FILE + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, kid.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.dir / CURRENT_FILE)
        _fsync_dir(self.dir)
        self.reload()
        log.info("media key %s is now current", kid)
        return kid

    def destroy(self, kid: str) -> None:
        """Overwrite the key file, then remove it; pictures still under it become unreadable."""
        if kid == self.current:
            raise StoreError("the current media key cannot be destroyed")
        path = key_file(self.dir, kid)
        fd = os.open(path, os.O_WRONLY)
        try:
            os.write(fd, secrets.token_bytes(32))
            os.fsync(fd)
        finally:
            os.close(fd)
        path.unlink()
        _fsync_dir(self.dir)
        self._keys.pop(kid, None)
        log.info("media key %s destroyed", kid)


def read_media(
    ring: KeyRing,
    media: MediaStore,
    media_id: str,
    kid: str | None,
    dek: bytes | None,
    dek_next: bytes | None,
) -> bytes:
    """A picture's plaintext under its row's key, or under ``dek_next`` when a rotation
    rewrote the file and stopped before its row said so."""
    try:
        return media.read(media_id, ring.data_key(media_id, kid, dek))
    except MediaIntegrityError:
        if dek_next is None:
            raise
        return media.read(media_id, ring.unwrap(media_id, ring.current, dek_next))
