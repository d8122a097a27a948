"""`veilcam verify`: is everything committed intact? (database, media files, audit chain)."""

from __future__ import annotations

import getpass
import sqlite3
import time
from pathlib import Path

from sqlite_utils import Database

from veilcam.errors import MediaIntegrityError
from veilcam.retention import CLASSES
from veilcam.store import audit
from veilcam.store.database import db_path, opened
from veilcam.store.media import MediaStore, load_or_create_key


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


def verify(data_dir: Path, audit_keep: float | None = None) -> tuple[list[str], list[str]]:
    """Return (problems, summary lines). Decrypting every picture is an access: it is audited."""
    key_path = data_dir / "keys" / "media.key"
    if db_path(data_dir).exists() and not key_path.exists():
        return [f"{key_path} is missing: pictures cannot be decrypted"], []
    problems: list[str] = []
    with opened(data_dir, readonly=False) as db:
        conn = db.conn
        check = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if check != ["ok"]:
            problems += [f"integrity_check: {c}" for c in check]
        media = MediaStore(data_dir / "media", load_or_create_key(key_path))
        rows = [r[0] for r in conn.execute("SELECT id FROM media")]
        for media_id in rows:
            try:
                media.read(media_id)
            except MediaIntegrityError as exc:
                problems.append(str(exc))
        files, temps = media.list_ids()
        orphans = files - set(rows)
        if orphans:
            problems.append(f"{len(orphans)} media files have no row (swept at the next start)")
        ok, chain = audit.verify(db)
        if not ok:
            problems.append(f"audit log: {chain}")
        actor = "cli:" + getpass.getuser()
        keep = CLASSES["audit_log"].default if audit_keep is None else audit_keep
        _record(conn, db, actor, f"{len(rows)} pictures checked, {len(problems)} problems", keep)
        summary = [
            f"database: integrity {'ok' if check == ['ok'] else 'FAILED'}",
            f"pictures: {len(rows)} rows, {len(files)} files, {len(temps)} temporary files",
            f"audit log: {chain}",
        ]
    return problems, summary
