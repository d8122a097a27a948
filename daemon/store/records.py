"""Row-level operations, each a plain function run in the writer thread or a reader."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database

COUNTED_TABLES = {
    "temperature_readings": "temperature_readings",
    "door_events": "door_events",
    "captures": "media",
    "faults": "sensor_faults",
}


def insert_temperatures(db: Database, rows: Sequence[tuple[Any, ...]]) -> int:
    """rows: (received_at, seq, uptime_ms, probe, centi_c, expires_at)."""
    db.conn.executemany(
        "INSERT INTO temperature_readings"
        " (received_at, seq, uptime_ms, probe, centi_c, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    return len(rows)


def insert_doors(db: Database, rows: Sequence[tuple[Any, ...]]) -> int:
    """rows: (received_at, seq, uptime_ms, door, state, expires_at)."""
    db.conn.executemany(
        "INSERT INTO door_events (received_at, seq, uptime_ms, door, state, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    return len(rows)


def insert_faults(db: Database, rows: Sequence[tuple[Any, ...]]) -> int:
    """rows: (at, kind, detail, expires_at)."""
    db.conn.executemany(
        "INSERT INTO sensor_faults (at, kind, detail, expires_at) VALUES (?, ?, ?, ?)", rows
    )
    return len(rows)


def insert_media(db: Database, row: dict[str, Any]) -> None:
    row = dict(row, redaction=json.dumps(row["redaction"], sort_keys=True))
    db.table("media").insert(row)


def media_ids(db: Database) -> set[str]:
    return {r[0] for r in db.conn.execute("SELECT id FROM media")}


def get_media(db: Database, media_id: str) -> dict[str, Any] | None:
    row = db.conn.execute("SELECT * FROM media WHERE id = ?", (media_id,)).fetchone()
    if row is None:
        return None
    out = dict(row)
    out["redaction"] = json.loads(out["redaction"])
    return out


# Processing a shopper may object to (``veilcam.privacy.requests.PROCESSING``); internal names.
SKIPPABLE = ("storage", "stock_analysis")


def skipped_clause(processing: str, alias: str = "m") -> str:
    """SQL true for a picture ``processing`` must skip: restricted by a request, or in the
    window of an objection to it. For the queries of every view, export and analysis."""
    if processing not in SKIPPABLE:
        raise ValueError(f"unknown processing {processing!r}")
    return (
        f"({alias}.restricted_by IS NOT NULL OR EXISTS (SELECT 1 FROM objections o"
        f" WHERE o.processing = '{processing}' AND (o.camera IS NULL OR o.camera = {alias}.camera)"
        f" AND {alias}.created_at >= o.window_from AND {alias}.created_at < o.window_to))"
    )


def media_keys(db: Database, media_id: str) -> dict[str, Any] | None:
    row = db.conn.execute(
        "SELECT kid, dek, dek_next FROM media WHERE id = ?", (media_id,)
    ).fetchone()
    return None if row is None else dict(row)


def counts(db: Database) -> dict[str, int]:
    # Table names come from COUNTED_TABLES, never from input.
    out = {
        name: db.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for name, table in COUNTED_TABLES.items()
    }
    out["clips"] = db.conn.execute("SELECT count(*) FROM media WHERE kind = 'clip'").fetchone()[0]
    out["research_events"] = db.conn.execute("SELECT count(*) FROM research_events").fetchone()[0]
    out["research_poses"] = db.conn.execute("SELECT count(*) FROM research_poses").fetchone()[0]
    return out


def fault_counts(db: Database) -> dict[str, int]:
    return dict(db.conn.execute("SELECT kind, count(*) FROM sensor_faults GROUP BY kind"))


def put_health(db: Database, rows: Sequence[tuple[str, str, str, float, float]]) -> None:
    db.conn.execute("DELETE FROM health")
    db.conn.executemany(
        "INSERT INTO health (component, state, message, since, updated_at) VALUES (?, ?, ?, ?, ?)",
        rows,
    )


def get_health(db: Database) -> dict[str, dict[str, Any]]:
    return {
        r["component"]: {k: r[k] for k in ("state", "message", "since", "updated_at")}
        for r in db.conn.execute("SELECT * FROM health ORDER BY component")
    }


def latest_temperatures(db: Database) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in db.conn.execute(
            "SELECT probe, centi_c, max(received_at) AS received_at"
            " FROM temperature_readings GROUP BY probe ORDER BY probe"
        )
    ]
