"""The ``alarms`` table: each alarm's opening, level changes, closing and acknowledgement, and
the limits set in the web UI. Writer- and reader-thread jobs, shared by the alarm service,
the reports, the web UI and the CLI."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from veilcam.coldchain.notify import Notice, enqueue_job
from veilcam.coldchain.rules import Transition
from veilcam.errors import AccountError


def record_job(
    db: Database, tr: Transition, expires_at: float, notices: list[Notice] | None = None
) -> int:
    """Write one transition and the notices about it, together; returns the alarm's id."""
    alarm_id = _record(db, tr, expires_at)
    if notices:
        enqueue_job(db, alarm_id or None, notices, tr.at, expires_at)
    return alarm_id


def _record(db: Database, tr: Transition, expires_at: float) -> int:
    if tr.change == "open":
        cur = db.conn.execute(
            "INSERT INTO alarms (cabinet, rule, level, opened_at, updated_at, peak, message,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (tr.cabinet, tr.rule, tr.level, tr.at, tr.at, tr.value, tr.message, expires_at),
        )
        return int(cur.lastrowid or 0)
    row = db.conn.execute(
        "SELECT id FROM alarms WHERE cabinet = ? AND rule = ? AND closed_at IS NULL"
        " ORDER BY id DESC LIMIT 1",
        (tr.cabinet, tr.rule),
    ).fetchone()
    if row is None:
        return 0
    if tr.change == "level":
        db.conn.execute(
            "UPDATE alarms SET level = ?, updated_at = ?, message = ? WHERE id = ?",
            (tr.level, tr.at, tr.message, row[0]),
        )
    else:
        db.conn.execute(
            "UPDATE alarms SET closed_at = ?, updated_at = ?, peak = coalesce(?, peak),"
            " message = ? WHERE id = ?",
            (tr.at, tr.at, tr.value, tr.message, row[0]),
        )
    return int(row[0])


def opened_at_job(db: Database, cabinet: str, rule: str) -> float | None:
    row = db.conn.execute(
        "SELECT opened_at FROM alarms WHERE cabinet = ? AND rule = ? AND closed_at IS NULL"
        " ORDER BY id DESC LIMIT 1",
        (cabinet, rule),
    ).fetchone()
    return None if row is None else float(row[0])


LIMIT_KEYS = ("warn_above", "alarm_above")


def overrides_job(db: Database) -> dict[str, dict[str, float]]:
    """Limits set in the UI, by cabinet: settings ``cabinet.NAME.warn_above`` and so on."""
    out: dict[str, dict[str, float]] = {}
    for key, value in db.conn.execute("SELECT key, value FROM settings WHERE key LIKE 'cabinet.%'"):
        _, name, what = key.split(".", 2)
        if what in LIMIT_KEYS:
            out.setdefault(name, {})[what] = float(value)
    return out


def list_job(db: Database, open_only: bool = False, limit: int = 500) -> list[dict[str, Any]]:
    sql = "SELECT * FROM alarms"
    if open_only:
        sql += " WHERE closed_at IS NULL"
    sql += " ORDER BY opened_at DESC LIMIT ?"
    return [dict(r) for r in db.conn.execute(sql, (limit,))]


def ack_job(db: Database, alarm_id: int, by: str, comment: str, now: float) -> None:
    cur = db.conn.execute(
        "UPDATE alarms SET acked_at = ?, acked_by = ?, ack_comment = ? WHERE id = ?"
        " AND acked_at IS NULL",
        (now, by, comment, alarm_id),
    )
    if cur.rowcount == 0:
        raise AccountError(f"no unacknowledged alarm {alarm_id}")
