"""Numbered migrations (``migrations/NNNN-*.sql``, applied in order); ``PRAGMA
user_version`` records how far a database has come.

Caps are literal numbers there on purpose: a migration is history and must not
change when code does. ``tests/daemon/store/test_schema.py`` checks they match
``veilcam.retention``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from veilcam.errors import StoreError

FOLDER = Path(__file__).parent / "migrations"
MIGRATIONS: list[str] = [p.read_text() for p in sorted(FOLDER.glob("[0-9][0-9][0-9][0-9]-*.sql"))]


def _newer(version: int) -> StoreError:
    return StoreError(
        f"database schema version {version} is newer than this veilcam "
        f"({len(MIGRATIONS)}); upgrade veilcam instead of downgrading"
    )


def check_version(conn: sqlite3.Connection) -> None:
    """For a process that reads beside the daemon: the schema must be this veilcam's."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise _newer(version)
    if version < len(MIGRATIONS):
        raise StoreError(
            f"database schema version {version} is older than this veilcam "
            f"({len(MIGRATIONS)}); start the daemon once (veilcam run) to upgrade it"
        )


def migrate(conn: sqlite3.Connection) -> int:
    """Apply pending migrations, each in its own transaction; return the new version."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise _newer(version)
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        # executescript commits first; BEGIN..COMMIT inside makes each migration atomic.
        conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    return len(MIGRATIONS)
