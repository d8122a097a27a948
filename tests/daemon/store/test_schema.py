"""Migrations, the caps written into them, and the version check of readers from outside."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from veilcam.errors import StoreError
from veilcam.retention import CLASSES
from veilcam.store.database import opened
from veilcam.store.schema import MIGRATIONS, migrate


@pytest.fixture
def conn() -> sqlite3.Connection:
    c = sqlite3.connect(":memory:", isolation_level=None)
    migrate(c)
    return c


def test_schema_caps_match_the_retention_classes() -> None:
    sql = "\n".join(MIGRATIONS)
    fridge = int(CLASSES["fridge_stills"].cap)  # type: ignore[arg-type]
    floor = int(CLASSES["floor_stills"].cap)  # type: ignore[arg-type]
    assert f"kind != 'fridge' OR expires_at <= created_at + {fridge}" in sql
    assert f"kind != 'floor' OR expires_at <= created_at + {floor}" in sql
    ev = CLASSES["face_evidence"]
    assert re.search(rf"legal_hold IS NULL THEN {int(ev.cap)} ELSE {int(ev.hold_cap)} END", sql)  # type: ignore[arg-type]
    assert f"expires_at <= at + {int(CLASSES['audit_log'].cap)}" in sql  # type: ignore[arg-type]


def _media(conn: sqlite3.Connection, kind: str, life: float, hold: str | None = None) -> None:
    conn.execute(
        "INSERT INTO media (id, camera, kind, trigger, created_at, expires_at, legal_hold, width,"
        " height, bytes, redaction) VALUES (hex(randomblob(16)), 'c', ?, 't', 1000, ?, ?, 1, 1, 1, '{}')",
        (kind, 1000 + life, hold),
    )


@pytest.mark.parametrize(
    ("kind", "cap"),
    [
        ("fridge", CLASSES["fridge_stills"].cap),
        ("floor", CLASSES["floor_stills"].cap),
        ("evidence", CLASSES["face_evidence"].cap),
    ],
)
def test_database_refuses_rows_that_outlive_their_cap(
    conn: sqlite3.Connection, kind: str, cap: float
) -> None:
    _media(conn, kind, cap)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        _media(conn, kind, cap + 1)


def test_evidence_may_live_longer_only_under_a_legal_hold(conn: sqlite3.Connection) -> None:
    _media(conn, "evidence", 10 * 86400, hold="case-17")
    with pytest.raises(sqlite3.IntegrityError):
        _media(conn, "evidence", 10 * 86400)
    with pytest.raises(sqlite3.IntegrityError):
        _media(conn, "fridge", 86400, hold="case-17")


def test_audit_rows_cannot_outlive_six_months(conn: sqlite3.Connection) -> None:
    cap = CLASSES["audit_log"].cap
    ins = "INSERT INTO audit_log (at, actor, action, prev_hash, hash, expires_at) VALUES (0, 'a', 'x', '', ?, ?)"
    conn.execute(ins, ("h1", cap))
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(ins, ("h2", cap + 1))


def test_temperature_range_is_checked(conn: sqlite3.Connection) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO temperature_readings (received_at, seq, uptime_ms, probe, centi_c, expires_at)"
            " VALUES (0, 0, 0, '1', 8501 * 2, 10)"
        )


@pytest.mark.parametrize(
    ("version", "message"),
    [
        (99, "schema version 99 is newer than this veilcam"),
        (1, "schema version 1 is older than this veilcam .* start the daemon once"),
    ],
)
def test_other_versions_are_refused_clearly_from_outside(
    data_dir: Path, version: int, message: str
) -> None:
    """The CLI reading beside (or without) the daemon: a database of another veilcam is a
    clear error, not a traceback about a missing table."""
    conn = sqlite3.connect(data_dir / "veilcam.db")
    conn.execute(f"PRAGMA user_version = {version}")
    conn.close()
    with pytest.raises(StoreError, match=message), opened(data_dir):
        pass


def test_a_missing_database_is_named(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no veilcam database in"), opened(tmp_path):
        pass


def test_clips_belong_to_a_study_and_live_30_days_at_most(conn: sqlite3.Connection) -> None:
    cap = int(CLASSES["research_clips"].cap)  # type: ignore[arg-type]
    assert f"kind != 'clip' OR expires_at <= created_at + {cap}" in "\n".join(MIGRATIONS)

    def clip(life: float, study: int | None) -> None:
        conn.execute(
            "INSERT INTO media (id, camera, kind, trigger, created_at, expires_at, width,"
            " height, bytes, redaction, study_id) VALUES (hex(randomblob(16)), 'c', 'clip',"
            " 'study', 1000, ?, 1, 1, 1, '{}', ?)",
            (1000 + life, study),
        )

    clip(cap, 1)
    for life, study in ((cap + 1, 1), (60, None)):
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            clip(life, study)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        _media(conn, "floor", 60)  # fine alone ...
        conn.execute("UPDATE media SET study_id = 1 WHERE kind = 'floor'")  # ... not in a study


def test_the_media_rebuild_keeps_every_row_and_key(tmp_path: Path) -> None:
    """Migration 11 rebuilds media to admit clips: pictures stored before keep every column."""
    c = sqlite3.connect(tmp_path / "v.db", isolation_level=None)
    for number, script in enumerate(MIGRATIONS[:10], start=1):
        c.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    c.execute(
        "INSERT INTO media (id, camera, kind, trigger, created_at, expires_at, width, height,"
        " bytes, redaction, kid, dek, note) VALUES ('a1', 'floor-1', 'floor', 'door', 1000,"
        " 2000, 640, 480, 1234, '{\"status\": \"redacted\"}', '0', x'0102', 'a correction')"
    )
    before = c.execute("SELECT * FROM media").fetchall()
    assert migrate(c) == len(MIGRATIONS)
    after = c.execute(
        "SELECT id, camera, kind, trigger, created_at, expires_at, legal_hold, width, height,"
        " bytes, redaction, blank_reason, kid, dek, dek_next, restricted_by, hold_id, note"
        " FROM media"
    ).fetchall()
    assert after == before
    names = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'media'")}
    assert {"media_expires", "media_camera_time", "media_kid", "media_clip_events"} <= names
