"""Research uploads: each finished clip and its events, encrypted on the board with the
study's key, sent to the chain's S3-compatible object storage, deleted there 30 days after
the clip was recorded, and the local copy deleted once the upload is confirmed.

The ``uploads`` table is both the outbox and the ledger: a row is written for every clip and
part before anything is sent (so a restart or an outage loses nothing), the object key is
fixed by the clip (so a retry after a crash replaces the same object: a clip arrives once),
and the row records what was sent (size, SHA-256 of the object, when) and when it was
deleted. The uploads feature gate must be open as well as the research one.

Objects are ``VCE1 | nonce (12) | AES-256-GCM(plaintext, associated data = object key)``,
with the key id, the plaintext's SHA-256 and the study in the object's metadata. The study
key (``keys/study-<id>.key``) is handed to the data team by the administrator, out of band.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlite_utils import Database

from veilcam.clock import Clock, sleep_or_wake
from veilcam.config import UploadsConfig
from veilcam.durations import DAY
from veilcam.errors import ConfigError, MediaIntegrityError, StoreError
from veilcam.health import Health
from veilcam.privacy.service import Privacy
from veilcam.research import tables
from veilcam.store import Store, audit
from veilcam.store.reaper import count_deletions

log = logging.getLogger(__name__)
MAGIC = b"VCE1"
KEEP_LEDGER = 365 * DAY
CLIP_DAYS = 30 * DAY
POLL = 5.0
BATCH = 8
REFUSED = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken"}


def credentials(path: str) -> tuple[str, str]:
    """``access_key_id`` and ``secret_access_key`` from a TOML file only veilcam reads."""
    p = Path(path)
    try:
        mode = p.stat().st_mode
        data = tomllib.loads(p.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"uploads.credentials_file {path}: cannot read it ({exc})") from None
    if mode & 0o077:
        raise ConfigError(f"uploads.credentials_file {path} is readable by others: chmod 600")
    try:
        return str(data["access_key_id"]), str(data["secret_access_key"])
    except KeyError as exc:
        raise ConfigError(f"uploads.credentials_file {path} lacks {exc.args[0]}") from None


def study_key(keys_dir: Path, study_id: int) -> tuple[str, bytes]:
    """The study's upload key (made on first use, 0600) and its id."""
    path = keys_dir / f"study-{study_id}.key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
            f.flush()
            os.fsync(f.fileno())
    key = path.read_bytes()
    return f"study-{study_id}-{hashlib.sha256(key).hexdigest()[:12]}", key


def seal(key: bytes, object_key: str, plaintext: bytes) -> bytes:
    nonce = secrets.token_bytes(12)
    return MAGIC + nonce + AESGCM(key).encrypt(nonce, plaintext, object_key.encode())


def unseal(key: bytes, object_key: str, blob: bytes) -> bytes:
    if blob[:4] != MAGIC:
        raise ValueError("not a veilcam research object")
    return AESGCM(key).decrypt(blob[4:16], blob[16:], object_key.encode())


# Jobs (the store's threads)


def enqueue_job(db: Database, now: float, prefix: str, events_format: str = "jsonl") -> int:
    """A ledger row per part of every clip not yet in it (restricted clips wait)."""
    rows = db.conn.execute(
        "SELECT id, study_id, created_at, trigger FROM media WHERE kind = 'clip'"
        " AND restricted_by IS NULL AND id NOT IN (SELECT media_id FROM uploads)"
    ).fetchall()
    for r in rows:
        delete_at = r["created_at"] + CLIP_DAYS
        parts = (
            (("clip", "depth.mkv"),)  # a clip's depth: events go with its colour clip
            if r["trigger"] == "depth"
            else (("clip", "mp4"), ("events", f"events.{events_format}"))
        )
        for part, ext in parts:
            db.conn.execute(
                "INSERT INTO uploads (media_id, part, study_id, object_key, recorded_at,"
                " delete_at, next_attempt_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    r["id"],
                    part,
                    r["study_id"],
                    f"{prefix}study-{r['study_id']}/{r['id']}.{ext}.enc",
                    r["created_at"],
                    delete_at,
                    now,
                    delete_at + KEEP_LEDGER,
                ),
            )
    return len(rows)


def due_job(db: Database, now: float) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in db.conn.execute(
            "SELECT * FROM uploads WHERE uploaded_at IS NULL AND deleted_at IS NULL"
            " AND next_attempt_at <= ? AND delete_at > ? AND media_id NOT IN"
            " (SELECT id FROM media WHERE restricted_by IS NOT NULL)"  # a restriction holds it
            " ORDER BY id LIMIT ?",
            (now, now, BATCH),
        )
    ]


def sent_job(
    db: Database, row: dict[str, Any], key_id: str, size: int, digest: str, now: float, to: str
) -> None:
    """The object is confirmed stored: the ledger says so, and the study's disclosure record
    (one per study and destination, approved by the administrator who started the study)
    lists the clip as disclosed."""
    db.conn.execute(
        "UPDATE uploads SET uploaded_at = ?, key_id = ?, size = ?, sha256 = ?, attempts ="
        " attempts + 1, last_error = NULL WHERE id = ?",
        (now, key_id, size, digest, row["id"]),
    )
    items = json.dumps([f"study:{row['study_id']}"])
    found = db.conn.execute(
        "SELECT id FROM disclosures WHERE items = ? AND recipient = ?", (items, to)
    ).fetchone()
    if found is None:
        study = db.conn.execute(
            "SELECT legal_basis, purpose, created_by, ends_at FROM studies WHERE id = ?",
            (row["study_id"],),
        ).fetchone()
        found = db.conn.execute(
            "INSERT INTO disclosures (at, recipient, legal_basis, purpose, items, approved_by,"
            " valid_until, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                now,
                to,
                study["legal_basis"],
                f"research study {row['study_id']}: {study['purpose']}"[:500],
                items,
                study["created_by"],
                max(study["ends_at"], now) + CLIP_DAYS,
                now + 3 * 365 * DAY,
            ),
        ).fetchone()
    db.conn.execute(
        "INSERT OR IGNORE INTO disclosed (disclosure_id, item, at) VALUES (?, ?, ?)",
        (found[0], f"media:{row['media_id']}", now),
    )


def failed_job(db: Database, upload_id: int, error: str, retry_at: float) -> None:
    db.conn.execute(
        "UPDATE uploads SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?"
        " WHERE id = ?",
        (error[:500], retry_at, upload_id),
    )


def abandon_job(db: Database, upload_id: int, why: str, now: float) -> None:
    """The clip is gone locally before it was sent (erased, expired): nothing to send."""
    db.conn.execute(
        "UPDATE uploads SET deleted_at = ?, last_error = ? WHERE id = ?", (now, why, upload_id)
    )


def delivered_job(db: Database, now: float) -> list[str]:
    """Clips whose every part is confirmed sent: their local copies may go. Deletes the
    rows (their files are the caller's) and counts them for the retention report."""
    ids = [
        r[0]
        for r in db.conn.execute(
            "SELECT m.id FROM media m WHERE m.kind = 'clip' AND m.hold_id IS NULL"
            " AND EXISTS (SELECT 1 FROM uploads u WHERE u.media_id = m.id)"
            " AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.media_id = m.id"
            " AND u.uploaded_at IS NULL)"
        )
    ]
    db.conn.executemany("DELETE FROM media WHERE id = ?", [(i,) for i in ids])
    count_deletions(db, now, {"research_clips": len(ids)}, "uploaded")
    return ids


def expired_job(db: Database, now: float) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in db.conn.execute(
            "SELECT * FROM uploads WHERE deleted_at IS NULL"
            " AND delete_at <= ? ORDER BY delete_at LIMIT ?",
            (now, BATCH * 4),
        )
    ]


def deleted_job(db: Database, upload_id: int, now: float) -> None:
    db.conn.execute("UPDATE uploads SET deleted_at = ? WHERE id = ?", (now, upload_id))


def ledger_job(db: Database, limit: int = 500) -> list[dict[str, Any]]:
    return [
        dict(r) for r in db.conn.execute("SELECT * FROM uploads ORDER BY id DESC LIMIT ?", (limit,))
    ]


@dataclass
class Progress:
    sent: int = 0
    deleted: int = 0
    failed: int = 0
    bytes: int = 0


class Uploader:
    """Sends what the ledger says is due, deletes what is 30 days old, never anything else."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        health: Health,
        cfg: UploadsConfig,
        privacy: Privacy,
        site: str,
    ) -> None:
        self.store, self.clock, self.health, self.cfg = store, clock, health, cfg
        self.privacy = privacy
        self.prefix = cfg.prefix or f"{site}/"
        self.wake = asyncio.Event()
        self.progress = Progress()
        self._lifecycle_done = False
        self._retry: dict[int, float] = {}

    def _client(self) -> Any:
        from aiobotocore.config import AioConfig
        from aiobotocore.session import get_session

        access, secret = credentials(self.cfg.credentials_file)
        return get_session().create_client(
            "s3",
            endpoint_url=self.cfg.endpoint,
            region_name=self.cfg.region,
            aws_access_key_id=access,
            aws_secret_access_key=secret,
            config=AioConfig(
                retries={"max_attempts": 1},
                connect_timeout=5,
                read_timeout=60,
                s3={"addressing_style": "path"},
            ),
        )

    async def run(self) -> None:
        while True:
            if "uploads" not in self.privacy.open_gates:
                self.health.set("uploads", "warning", "off: the uploads feature gate is closed")
            else:
                try:
                    await self.once()
                except ConfigError as exc:
                    self.health.set("uploads", "error", str(exc))
            self.wake.clear()
            await sleep_or_wake(self.clock, POLL, self.wake)

    async def once(self) -> None:
        """One pass: enqueue new clips, send what is due, delete what is old."""
        now = self.clock.now()
        await self.store.db.write(enqueue_job, now, self.prefix, self.cfg.events_format)
        due = await self.store.db.read(due_job, now)
        old = await self.store.db.read(expired_job, now)
        if not due and not old and self._lifecycle_done:
            return
        async with self._client() as s3:
            if not self._lifecycle_done:
                await self._lifecycle(s3)
            for row in due:
                await self._send(s3, row)
            for row in old:
                await self._delete(s3, row)
        gone = await self.store.db.write(delivered_job, self.clock.now())
        if gone:
            await self.store.delete_media_files(gone)

    async def _lifecycle(self, s3: Any) -> None:
        if not self.cfg.lifecycle:
            self._lifecycle_done = True
            return
        from botocore.exceptions import BotoCoreError, ClientError

        rule = {
            "ID": "veilcam-research-30-days",
            "Filter": {"Prefix": self.prefix},
            "Status": "Enabled",
            "Expiration": {"Days": 30},
        }
        try:
            await s3.put_bucket_lifecycle_configuration(
                Bucket=self.cfg.bucket, LifecycleConfiguration={"Rules": [rule]}
            )
        except ClientError as exc:  # a server without lifecycle rules: the ledger deletes
            log.warning("bucket lifecycle rule not set: %s", exc)
        except BotoCoreError:
            return  # unreachable: try again next pass
        self._lifecycle_done = True

    async def _send(self, s3: Any, row: dict[str, Any]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            if row["part"] == "clip":
                plaintext = await self.store.read_picture(row["media_id"])
            else:
                rows = await self.store.db.read(tables.rows_job, row["media_id"])
                fmt = "parquet" if row["object_key"].endswith(".parquet.enc") else "jsonl"
                plaintext = await asyncio.to_thread(tables.encode, rows, fmt)
        except (MediaIntegrityError, StoreError) as exc:
            await self.store.db.write(abandon_job, row["id"], str(exc), self.clock.now())
            return
        key_id, key = await asyncio.to_thread(
            study_key, self.store.data_dir / "keys", row["study_id"]
        )
        blob = await asyncio.to_thread(seal, key, row["object_key"], plaintext)
        digest = hashlib.sha256(blob).hexdigest()
        try:
            await s3.put_object(
                Bucket=self.cfg.bucket,
                Key=row["object_key"],
                Body=blob,
                ContentType="application/octet-stream",
                Metadata={
                    "veilcam-key-id": key_id,
                    "veilcam-study": str(row["study_id"]),
                    "veilcam-plaintext-sha256": hashlib.sha256(plaintext).hexdigest(),
                },
            )
        except (ClientError, BotoCoreError) as exc:
            await self._failed(row, exc)
            return
        now = self.clock.now()
        to = f"research storage {self.cfg.endpoint}/{self.cfg.bucket}"
        await self.store.db.write(sent_job, row, key_id, len(blob), digest, now, to)
        await self.store.audit(
            audit.Entry("system", "upload.sent", row["object_key"], f"{len(blob)} bytes")
        )
        self._retry.pop(row["id"], None)
        self.progress.sent += 1
        self.progress.bytes += len(blob)
        self.health.set("uploads", "ok", f"{self.progress.sent} object(s) sent this run")

    async def _failed(self, row: dict[str, Any], exc: Exception) -> None:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        if code in REFUSED:
            why = f"credentials refused by the server ({code}): check uploads.credentials_file"
        elif code == "NoSuchBucket":
            why = f"no bucket {self.cfg.bucket!r} on {self.cfg.endpoint}"
        else:
            why = f"cannot reach {self.cfg.endpoint}: {exc}"
        wait = min(self.cfg.retry_max, max(self.cfg.retry_min, 2 * self._retry.get(row["id"], 0)))
        self._retry[row["id"]] = wait
        await self.store.db.write(failed_job, row["id"], why, self.clock.now() + wait)
        self.progress.failed += 1
        self.health.set("uploads", "error", f"{why}; retrying (nothing recorded is lost)")

    async def _delete(self, s3: Any, row: dict[str, Any]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            await s3.delete_object(Bucket=self.cfg.bucket, Key=row["object_key"])
        except (ClientError, BotoCoreError) as exc:
            self.health.set("uploads", "error", f"cannot delete {row['object_key']}: {exc}")
            return
        await self.store.db.write(deleted_job, row["id"], self.clock.now())
        await self.store.audit(
            audit.Entry(
                "system", "upload.deleted", row["object_key"], "due: 30 days, or objected to"
            )
        )
        self.progress.deleted += 1
