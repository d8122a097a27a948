"""`veilcam verify`: is everything committed intact? (database, media files, audit chain)."""

from __future__ import annotations

import getpass
import sqlite3
import time
from pathlib import Path

from sqlite_utils import Database

from veilcam.errors import MediaIntegrityError, StoreError
from veilcam.retention import CLASSES
from veilcam.store import audit
from veilcam.store.database import db_path, opened
from veilcam.store.keys import KeyRing, read_media
from veilcam.store.media import MediaStore


def _record(conn: sqlite3.Connection, db: Database, actor: str, detail: str, keep: float) -> None:
    # BEGIN IMMEDIATE takes the write lock first, so the daemon's writer and this process
    # append to the chain one after the other and it cannot fork.
    now = time.time()
    conn.execute("BEGIN IMMEDIATE")
    try:
        audit.append(db, audit.Entry(actor, "media.verify", detail=detail), now, now + keep)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def verify(
    data_dir: Path, audit_keep: float | None = None, actor: str | None = None
) -> tuple[list[str], list[str]]:
    """Return (problems, summary lines). Decrypting every picture is an access: it is audited."""
    problems: list[str] = []
    try:
        ring = KeyRing(data_dir / "keys", create=not db_path(data_dir).exists())
    except StoreError as exc:
        return [str(exc)], []
    with opened(data_dir, readonly=False) as db:
        conn = db.conn
        check = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if check != ["ok"]:
            problems += [f"integrity_check: {c}" for c in check]
        media = MediaStore(data_dir / "media")
        rows = []
        for media_id, kid, dek, dek_next in conn.execute(
            "SELECT id, kid, dek, dek_next FROM media"
        ):
            rows.append(media_id)
            try:
                read_media(ring, media, media_id, kid, dek, dek_next)
            except MediaIntegrityError as exc:
                problems.append(str(exc))
        files, temps = media.list_ids()
        orphans = files - set(rows)
        if orphans:
            problems.append(f"{len(orphans)} media files have no row (swept at the next start)")
        ok, chain = audit.verify(db)
        if not ok:
            problems.append(f"audit log: {chain}")
        actor = actor or "cli:" + getpass.getuser()
        keep = CLASSES["audit_log"].default if audit_keep is None else audit_keep
        _record(conn, db, actor, f"{len(rows)} pictures checked, {len(problems)} problems", keep)
        summary = [
            f"database: integrity {'ok' if check == ['ok'] else 'FAILED'}",
            f"pictures: {len(rows)} rows, {len(files)} files, {len(temps)} temporary files",
            f"audit log: {chain}",
            f"media keys: current {ring.current}"
            + (f", rotation unfinished (old: {', '.join(ring.retired)})" if ring.retired else ""),
        ]
    return problems, summary
