"""Every query of the web pages and the API: reader- and writer-thread jobs (``store.db.read``
and ``store.db.write``), so that no handler holds SQL of its own."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from veilcam.web.display import picture_row, when

SETTINGS_DEFAULTS = {"temperature_unit": "C", "alert_email": ""}


def pictures_job(
    db: Database, camera: str | None, since: float | None, until: float | None, limit: int = 60
) -> list[dict[str, Any]]:
    # Restricted pictures are left out of every list (a restriction request holds them).
    # Clips are on their study's page, with a player; a watchlist match's evidence (a face,
    # unredacted) only on the watchlist's page, for its two administrators.
    sql = "SELECT * FROM media WHERE restricted_by IS NULL AND kind NOT IN ('clip', 'evidence')"
    args: list[Any] = []
    if camera:
        sql += " AND camera = ?"
        args.append(camera)
    if since is not None:
        sql += " AND created_at >= ?"
        args.append(since)
    if until is not None:
        sql += " AND created_at < ?"
        args.append(until)
    sql += " ORDER BY created_at DESC LIMIT ?"
    args.append(limit)
    return [picture_row(r) for r in db.conn.execute(sql, args)]


def picture_job(db: Database, media_id: str) -> dict[str, Any] | None:
    r = db.conn.execute("SELECT * FROM media WHERE id = ?", (media_id,)).fetchone()
    return picture_row(r) if r else None


def latest_per_camera_job(db: Database) -> dict[str, dict[str, Any]]:
    rows = db.conn.execute(
        "SELECT m.* FROM media m JOIN (SELECT camera, max(created_at) AS t FROM media"
        " WHERE restricted_by IS NULL AND kind NOT IN ('clip', 'evidence') GROUP BY camera) l"
        " ON l.camera = m.camera AND l.t = m.created_at"
    )
    return {r["camera"]: picture_row(r) for r in rows}


def temperatures_job(db: Database, since: float) -> dict[str, list[tuple[float, int]]]:
    out: dict[str, list[tuple[float, int]]] = {}
    for r in db.conn.execute(
        "SELECT probe, received_at, centi_c FROM temperature_readings WHERE received_at >= ?"
        " ORDER BY received_at",
        (since,),
    ):
        out.setdefault(r["probe"], []).append((r["received_at"], r["centi_c"]))
    return out


def doors_job(db: Database, since: float, limit: int = 200) -> list[dict[str, Any]]:
    rows = db.conn.execute(
        "SELECT received_at, door, state FROM door_events WHERE received_at >= ?"
        " ORDER BY received_at DESC LIMIT ?",
        (since, limit),
    )
    return [dict(r, when=when(r["received_at"])) for r in rows]


def door_summary_job(db: Database, midnight: float) -> tuple[int, str]:
    n = db.conn.execute(
        "SELECT count(*) FROM door_events WHERE state = 'open' AND received_at >= ?", (midnight,)
    ).fetchone()[0]
    last = db.conn.execute(
        "SELECT state FROM door_events ORDER BY received_at DESC, id DESC LIMIT 1"
    ).fetchone()
    return int(n), last[0] if last else "unknown"


def audit_job(db: Database, limit: int = 300) -> list[dict[str, Any]]:
    rows = db.conn.execute("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", (limit,))
    return [dict(r, when=when(r["at"])) for r in rows]


def settings_job(db: Database) -> dict[str, str]:
    out = dict(SETTINGS_DEFAULTS)
    for r in db.conn.execute("SELECT key, value FROM settings"):
        out[r["key"]] = r["value"]
    return out


def put_setting_job(db: Database, key: str, value: str, now: float, by: str) -> None:
    db.conn.execute(
        "INSERT INTO settings (key, value, changed_at, changed_by) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
        " changed_at = excluded.changed_at, changed_by = excluded.changed_by",
        (key, value, now, by),
    )


def faults_job(db: Database, limit: int = 100) -> list[dict[str, Any]]:
    """The sensor line's latest faults, newest first."""
    rows = db.conn.execute(
        "SELECT at, kind, detail FROM sensor_faults ORDER BY at DESC LIMIT ?", (limit,)
    ).fetchall()
    return [dict(r, when=when(r["at"])) for r in rows]
