"""Rotating the media key: every picture re-encrypted under a new data key, the old KEK
destroyed at the end.

Resumable by construction: each picture moves in three steps, each of which a kill
may interrupt without losing it.

1. its row gets ``dek_next``, a fresh data key wrapped under the new KEK;
2. its file is rewritten under that key (atomically: temp file, fsync, rename);
3. its row takes ``dek_next`` as its key and names the new KEK.

Between 2 and 3 the file no longer opens with ``dek``, so readers (and the next run)
fall back to ``dek_next``. Only when no row names an old KEK are the old key files
overwritten and removed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlite_utils import Database

from veilcam.errors import MediaIntegrityError, StoreError
from veilcam.store import audit
from veilcam.store.keys import KeyRing
from veilcam.store.store import Store

log = logging.getLogger(__name__)

BATCH = 32


@dataclass(slots=True)
class Progress:
    state: str = "idle"  # idle | running | done
    key: str = ""
    total: int = 0
    moved: int = 0
    damaged: int = 0
    started_at: float | None = None
    finished_at: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _pending(db: Database, current: str, limit: int) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in db.conn.execute(
            "SELECT id, kid, dek, dek_next FROM media WHERE kid IS NULL OR kid != ?"
            " ORDER BY id LIMIT ?",
            (current, limit),
        )
    ]


def count_job(db: Database, current: str) -> tuple[int, int]:
    """(pictures still under an old key, all pictures)."""
    row = db.conn.execute(
        "SELECT sum(kid IS NULL OR kid != ?), count(*) FROM media", (current,)
    ).fetchone()
    return int(row[0] or 0), int(row[1])


def _prepare(db: Database, media_id: str, wrapped: bytes) -> None:
    db.conn.execute(
        "UPDATE media SET dek_next = ? WHERE id = ? AND dek_next IS NULL", (wrapped, media_id)
    )


def _commit(db: Database, media_id: str, kid: str) -> int:
    return db.conn.execute(
        "UPDATE media SET kid = ?, dek = dek_next, dek_next = NULL"
        " WHERE id = ? AND dek_next IS NOT NULL",
        (kid, media_id),
    ).rowcount


class Rotation:
    """Runs in the daemon (or in ``veilcam keys rotate`` when no daemon runs)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.progress = Progress()
        self.wake = asyncio.Event()

    @property
    def _ring(self) -> KeyRing:
        if self.store.keys is None:
            raise StoreError("store is not open")
        return self.store.keys

    async def start(self, actor: str) -> str:
        """Make a new key current; refused while an earlier rotation is unfinished."""
        ring = self._ring
        if ring.retired:
            left, _ = await self.store.db.read(count_job, ring.current)
            raise StoreError(
                f"a key rotation is still running ({left} pictures left under the old key); "
                "wait for it to finish (veilcam keys status)"
            )
        kid = await asyncio.to_thread(ring.new_key)
        await self.store.audit(audit.Entry(actor, "keys.rotate.start", kid))
        self.wake.set()
        return kid

    async def status(self) -> dict[str, Any]:
        ring = self._ring
        left, total = await self.store.db.read(count_job, ring.current)
        return {
            **self.progress.as_dict(),
            "current": ring.current,
            "old_keys": ring.retired,
            "left": left,
            "pictures": total,
        }

    async def run(self) -> None:
        """The daemon's service: finish any rotation now and whenever one starts."""
        while True:
            if self._ring.retired:
                await self.finish()
            await self.wake.wait()
            self.wake.clear()

    async def finish(self, report: Any = None) -> Progress:
        """Move every picture still under an old key, then destroy the old keys."""
        ring = self._ring
        current = ring.current
        left, _ = await self.store.db.read(count_job, current)
        p = self.progress = Progress(
            "running", current, total=left, started_at=self.store.clock.now()
        )
        while rows := await self.store.db.read(_pending, current, BATCH):
            for row in rows:
                if await self._move(row, current):
                    p.moved += 1
                else:
                    p.damaged += 1
            if report is not None:
                report(p)
            await asyncio.sleep(0)  # let pictures and pages through between batches
        for kid in ring.retired:
            await asyncio.to_thread(ring.destroy, kid)
            await self.store.audit(audit.Entry("system", "keys.destroy", kid))
        p.state, p.finished_at = "done", self.store.clock.now()
        detail = f"{p.moved} pictures re-encrypted" + (
            f", {p.damaged} damaged files could not be read" if p.damaged else ""
        )
        await self.store.audit(audit.Entry("system", "keys.rotate.done", current, detail))
        log.info("key rotation to %s done: %s", current, detail)
        return p

    async def _move(self, row: dict[str, Any], current: str) -> bool:
        store, ring = self.store, self._ring
        media_id = row["id"]
        if row["dek_next"] is None:
            new = AESGCM.generate_key(bit_length=256)
            _, wrapped = ring.wrap(media_id, new)
            await store.db.write(_prepare, media_id, wrapped)
        else:
            new = ring.unwrap(media_id, current, row["dek_next"])
        ok = await asyncio.to_thread(self._rewrite, row, new)
        if await store.db.write(_commit, media_id, current) == 0:
            # Erased or expired while it moved: the file just written must not outlive it.
            await store.delete_media_files([media_id])
            return True
        return ok

    def _rewrite(self, row: dict[str, Any], new: bytes) -> bool:
        media, ring = self.store.media, self._ring
        assert media is not None
        media_id = row["id"]
        try:
            plain = media.read(media_id, ring.data_key(media_id, row["kid"], row["dek"]))
        except MediaIntegrityError:
            try:
                media.read(media_id, new)
                return True  # moved before a kill; only its row was behind
            except MediaIntegrityError as exc:
                log.error("key rotation: %s", exc)
                return False
        media.write(media_id, plain, new)
        return True
