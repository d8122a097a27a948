"""The appliance's storage: database, encrypted media, audit, all under one data directory."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from veilcam.clock import Clock
from veilcam.config import RetentionConfig
from veilcam.errors import MediaIntegrityError, StoreError
from veilcam.retention import MEDIA_CLASS
from veilcam.store import audit, records
from veilcam.store.database import Database, db_path, private
from veilcam.store.keys import KeyRing, read_media
from veilcam.store.media import MediaStore, new_media_id

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Picture:
    """A redacted, encoded picture (or a research study's clip) ready to store; never a raw
    frame."""

    camera: str
    kind: str  # fridge | floor | evidence | clip
    trigger: str
    jpeg: bytes  # the encoded bytes: JPEG, or MP4 (H.264) for a clip
    width: int
    height: int
    redaction: dict[str, Any] = field(default_factory=dict)
    blank_reason: str | None = None
    # A clip's: its study, when its first frame was recorded (its retention counts from
    # then), its length and how many of its frames were blanked.
    study_id: int | None = None
    recorded_at: float | None = None
    duration: float | None = None
    frames: int | None = None
    blank_frames: int | None = None


class Store:
    def __init__(self, data_dir: Path, retention: RetentionConfig, clock: Clock) -> None:
        self.data_dir = Path(data_dir)
        self.retention = retention
        self.clock = clock
        self.db = Database(db_path(self.data_dir))
        self.media: MediaStore | None = None
        self.keys: KeyRing | None = None
        self._io = ThreadPoolExecutor(max_workers=2, thread_name_prefix="media-io")
        self._lock_fd: int | None = None
        self._adding: set[asyncio.Task[str]] = set()

    async def __aenter__(self) -> Store:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._io, self._prepare_dirs)
        try:
            await self.db.start()
            known = await self.db.read(records.media_ids)
            swept = await loop.run_in_executor(self._io, self._media().sweep_orphans, known)
        except BaseException:
            await self.db.close()  # a no-op if the writer never started
            self._unlock()
            raise
        if swept:
            log.warning("removed %d media files that had no committed row", swept)
        return self

    async def __aexit__(self, *exc: object) -> None:
        # Pictures on their way in finish first: a stop must not leave a file without its
        # row (or a row without its file).
        if self._adding:
            await asyncio.gather(*self._adding, return_exceptions=True)
        await self.db.close()
        self._io.shutdown(wait=True)
        self._unlock()

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _prepare_dirs(self) -> None:
        # Only the daemon's user may read anything here (password hashes, session tokens,
        # the audit log), whatever the umask it was started with.
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        private(self.data_dir, 0o700)
        for sub in ("keys", "media", "references"):
            if (self.data_dir / sub).is_dir():
                private(self.data_dir / sub, 0o700)
        # One daemon per data directory: a second one would sweep the first one's new files.
        # The kernel drops the lock when the process dies, even by SIGKILL.
        fd = os.open(self.data_dir / "daemon.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StoreError(f"another veilcam daemon is using {self.data_dir}") from None
        self._lock_fd = fd
        self.keys = KeyRing(self.data_dir / "keys")
        self.media = MediaStore(self.data_dir / "media")

    def _media(self) -> MediaStore:
        if self.media is None:
            raise StoreError("store is not open")
        return self.media

    def _keyring(self) -> KeyRing:
        if self.keys is None:
            raise StoreError("store is not open")
        return self.keys

    def expires(self, retention_class: str, at: float) -> float:
        return at + self.retention.seconds(retention_class)

    async def add_picture(self, pic: Picture) -> str:
        """Write the encrypted file, then commit its row; the file never outlives a failed row.

        Cancelling the caller does not cut this in two: the file write and the row commit
        run on as a task of their own, which closing the store waits for."""
        task = asyncio.ensure_future(self._add_picture(pic))
        self._adding.add(task)
        task.add_done_callback(self._added)
        return await asyncio.shield(task)

    def _added(self, task: asyncio.Task[str]) -> None:
        self._adding.discard(task)
        if not task.cancelled():
            task.exception()  # seen here too, should the cancelled caller not see it

    async def _add_picture(self, pic: Picture) -> str:
        loop = asyncio.get_running_loop()
        media_id = new_media_id()
        now = pic.recorded_at if pic.recorded_at is not None else self.clock.now()
        dek = AESGCM.generate_key(bit_length=256)
        kid, wrapped = self._keyring().wrap(media_id, dek)
        size = await loop.run_in_executor(self._io, self._media().write, media_id, pic.jpeg, dek)
        row = {
            "id": media_id,
            "camera": pic.camera,
            "kind": pic.kind,
            "trigger": pic.trigger,
            "created_at": now,
            "expires_at": self.expires(MEDIA_CLASS[pic.kind], now),
            "legal_hold": None,
            "width": pic.width,
            "height": pic.height,
            "bytes": size,
            "redaction": pic.redaction,
            "blank_reason": pic.blank_reason,
            "kid": kid,
            "dek": wrapped,
        }
        if pic.kind == "clip":
            row.update(
                study_id=pic.study_id,
                duration=pic.duration,
                frames=pic.frames,
                blank_frames=pic.blank_frames,
            )
        try:
            await self.db.write(records.insert_media, row)
        except Exception:
            await loop.run_in_executor(self._io, self._media().delete, [media_id])
            raise
        return media_id

    async def read_picture(self, media_id: str) -> bytes:
        """Decrypted JPEG bytes. Callers outside the daemon's own checks must audit first."""
        keys = await self.db.read(records.media_keys, media_id)
        if keys is None:
            raise MediaIntegrityError(f"picture {media_id} has no row (erased or expired)")
        return await asyncio.get_running_loop().run_in_executor(
            self._io, self._read, media_id, keys
        )

    def _read(self, media_id: str, keys: dict[str, Any]) -> bytes:
        return read_media(self._keyring(), self._media(), media_id, **keys)

    async def delete_media_files(self, media_ids: list[str]) -> int:
        return await asyncio.get_running_loop().run_in_executor(
            self._io, self._media().delete, media_ids
        )

    async def audit(self, entry: audit.Entry) -> str:
        now = self.clock.now()
        return await self.db.write(audit.append, entry, now, self.expires("audit_log", now))
