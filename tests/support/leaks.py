"""What the audit log must never hold: passwords, session ids and API tokens, picture content,
key material, biometric templates. Every test's data folders are scanned when it ends
(``tests/conftest.py``); secrets made in-process are recorded as they are made, and what a
subprocess makes is caught by its shape."""

from __future__ import annotations

import base64
import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path

# Shapes of content that never belongs in an audit entry.
PATTERNS = {
    "a JPEG": re.compile(r"\xff\xd8\xff|/9j/"),
    "a password hash": re.compile(r"\$argon2"),
    "an API token": re.compile(r"vc_[A-Za-z0-9_-]{40}"),
    "a long encoded blob": re.compile(r"[A-Za-z0-9+/=_-]{120,}"),
    "a feature vector": re.compile(r"(-?\d+\.\d+\s*,\s*){31,}"),
}


def leaks(db: Path, secrets: Iterable[str]) -> list[str]:
    """What in ``db``'s audit log is a secret or looks like one."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        try:
            rows = conn.execute(
                "SELECT id, actor, action, object, detail, agent FROM audit_log"
            ).fetchall()
        except sqlite3.OperationalError:
            return []  # not migrated far enough to have one
        keys = (
            [r[0] for r in conn.execute("SELECT dek FROM media WHERE dek IS NOT NULL")]
            if _has(conn, "media", "dek")
            else []
        )
    finally:
        conn.close()
    needles = {s for s in secrets if len(s) >= 8}
    for k in keys:
        needles |= {k.hex(), base64.b64encode(k).decode()}
    found = []
    for row in rows:
        text = " ".join(str(v) for v in row[1:] if v is not None)
        for needle in needles:
            if needle in text:
                found.append(f"{db}: audit entry {row[0]} holds a secret ({needle[:6]}...)")
        for what, pattern in PATTERNS.items():
            if pattern.search(text):
                found.append(f"{db}: audit entry {row[0]} holds {what}: {text[:80]!r}")
    return found


def _has(conn: sqlite3.Connection, table: str, column: str) -> bool:
    return any(r[1] == column for r in conn.execute(f"PRAGMA table_info({table})"))
