"""The ``alarms`` table: every alert's opening, level changes, closing and acknowledgement,
for every source. Writer- and reader-thread jobs, shared by the recorder, the reports, the
web UI and the CLI; ``acknowledge`` is the one way to acknowledge, and is audited."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from veilcam.alerts import mqttbox
from veilcam.alerts.episodes import Transition
from veilcam.alerts.mqttbox import Mirror
from veilcam.alerts.outbox import Notice, enqueue_job
from veilcam.errors import AccountError
from veilcam.store import audit

if TYPE_CHECKING:
    from veilcam.store import Store


def record_job(
    db: Database,
    tr: Transition,
    expires_at: float,
    notices: list[Notice] | None = None,
    mirror: Mirror | None = None,
) -> int:
    """Write one transition, the notices about it and its MQTT message, together; returns
    the alarm's id."""
    alarm_id = _record(db, tr, expires_at)
    if notices:
        enqueue_job(db, alarm_id or None, notices, tr.at, expires_at)
    if mirror is not None:
        message = mirror.alarm(tr, alarm_id or None)
        mqttbox.enqueue_job(db, mirror.base, [message], tr.at, expires_at, mirror.limit)
    return alarm_id


def _record(db: Database, tr: Transition, expires_at: float) -> int:
    if tr.change == "open":
        cur = db.conn.execute(
            "INSERT INTO alarms (source, subject, rule, level, opened_at, updated_at, peak,"
            " message, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                tr.source,
                tr.subject,
                tr.rule,
                tr.level,
                tr.at,
                tr.at,
                tr.value,
                tr.message,
                expires_at,
            ),
        )
        return int(cur.lastrowid or 0)
    row = _open_row(db, tr.source, tr.subject, tr.rule)
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


def _open_row(db: Database, source: str, subject: str, rule: str) -> Any:
    return db.conn.execute(
        "SELECT id, opened_at FROM alarms WHERE source = ? AND subject = ? AND rule = ?"
        " AND closed_at IS NULL ORDER BY id DESC LIMIT 1",
        (source, subject, rule),
    ).fetchone()


def opened_at_job(db: Database, source: str, subject: str, rule: str) -> float | None:
    row = _open_row(db, source, subject, rule)
    return None if row is None else float(row[1])


def open_job(db: Database, source: str) -> list[dict[str, Any]]:
    """One source's open alerts, oldest first: what a restarted service carries on with."""
    return [
        dict(r)
        for r in db.conn.execute(
            "SELECT * FROM alarms WHERE source = ? AND closed_at IS NULL ORDER BY id", (source,)
        )
    ]


def list_job(
    db: Database, open_only: bool = False, limit: int = 500, source: str | None = None
) -> list[dict[str, Any]]:
    sql, args = "SELECT * FROM alarms WHERE 1", []
    if open_only:
        sql += " AND closed_at IS NULL"
    if source is not None:
        sql += " AND source = ?"
        args.append(source)
    sql += " ORDER BY opened_at DESC, id DESC LIMIT ?"
    return [dict(r) for r in db.conn.execute(sql, (*args, limit))]


def ack_job(
    db: Database, alarm_id: int, by: str, comment: str, now: float, mirror: Mirror | None = None
) -> None:
    cur = db.conn.execute(
        "UPDATE alarms SET acked_at = ?, acked_by = ?, ack_comment = ? WHERE id = ?"
        " AND acked_at IS NULL",
        (now, by, comment, alarm_id),
    )
    if cur.rowcount == 0:
        raise AccountError(f"no unacknowledged alarm {alarm_id}")
    if mirror is not None:
        row = db.conn.execute(
            "SELECT source, subject, rule, expires_at FROM alarms WHERE id = ?", (alarm_id,)
        ).fetchone()
        message = mirror.ack(row[0], row[1], row[2], alarm_id, now)
        mqttbox.enqueue_job(db, mirror.base, [message], now, row[3], mirror.limit)


async def acknowledge(
    store: Store,
    alarm_id: int,
    by: str,
    comment: str,
    ip: str | None = None,
    mirror: Mirror | None = None,
) -> None:
    """Acknowledge one alert; it needs a comment saying what was done, and is audited (and
    published to the chain's broker through ``mirror``, when there is one)."""
    comment = comment.strip()
    if not comment:
        raise AccountError("acknowledging an alarm needs a comment: what was done about it")
    await store.db.write(ack_job, alarm_id, by, comment[:500], store.clock.now(), mirror)
    await store.audit(audit.Entry(by, "alarm.ack", str(alarm_id), comment[:200], ip=ip))
