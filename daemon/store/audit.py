"""Append-only audit log, hash-chained so that editing or deleting a middle entry shows.

Each entry's hash covers its fields and the previous entry's hash. The reaper
removes entries only from the old end, so the chain is verified from the oldest
entry that remains.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

GENESIS = "0" * 64
_FIELDS = ("at", "actor", "ip", "agent", "action", "object", "detail")


@dataclass(frozen=True, slots=True)
class Entry:
    actor: str  # user name, "console", "cli:<unix user>", or "system"
    action: str  # e.g. "picture.view", "capture.request", "config.change"
    object: str | None = None
    detail: str | None = None
    ip: str | None = None
    agent: str | None = None


def _digest(prev_hash: str, row: dict[str, Any]) -> str:
    payload = json.dumps([prev_hash, *(row[k] for k in _FIELDS)], separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def append(db: Database, entry: Entry, at: float, expires_at: float) -> str:
    """Writer-thread job: add one entry chained to the newest one; return its hash."""
    last = db.conn.execute("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    prev = last[0] if last else GENESIS
    row: dict[str, Any] = {
        "at": at,
        "actor": entry.actor,
        "ip": entry.ip,
        "agent": entry.agent,
        "action": entry.action,
        "object": entry.object,
        "detail": entry.detail,
    }
    digest = _digest(prev, row)
    db.conn.execute(
        "INSERT INTO audit_log (at, actor, ip, agent, action, object, detail,"
        " prev_hash, hash, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (*(row[k] for k in _FIELDS), prev, digest, expires_at),
    )
    return digest


def verify(db: Database) -> tuple[bool, str]:
    """Walk the chain from its oldest surviving entry; say where it breaks, if it does."""
    prev: str | None = None
    count = 0
    cursor = db.conn.execute("SELECT * FROM audit_log ORDER BY id")
    columns = [d[0] for d in cursor.description]
    for values in cursor:
        row = dict(zip(columns, values, strict=True))
        if prev is not None and row["prev_hash"] != prev:
            return False, f"entry {row['id']}: previous-hash link broken (entry removed?)"
        if _digest(row["prev_hash"], row) != row["hash"]:
            return False, f"entry {row['id']}: contents do not match their hash (edited?)"
        prev = row["hash"]
        count += 1
    return True, f"{count} entries, chain intact"
