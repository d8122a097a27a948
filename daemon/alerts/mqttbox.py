"""The MQTT outbox: what goes to the chain's broker, written to SQLite before it is sent.

The same design as the notification outbox (``outbox``): a message is a row first (an
alarm's in the same transaction as the alarm change, by the ``Recorder``), and the
publisher (``veilcam.fleet.publisher``) sends rows in id order with QoS 1 and settles
each only when the broker has acknowledged it. Telemetry rows are deleted then; alarms and
audit heads stay, marked sent, until they expire: the record of what left and when.

While the broker is away the table grows up to the configured limit; past it the oldest
telemetry goes first, counted in ``mqtt_dropped``. Alarms and audit heads never do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from veilcam.alerts.episodes import Transition

KINDS = ("telemetry", "alarm", "audit", "state")
DROPPABLE = "telemetry"


@dataclass(frozen=True, slots=True)
class Message:
    kind: str  # telemetry | alarm | audit | state
    topic: str  # below the device's base topic, e.g. "cabinet/dairy/temperature"
    payload: bytes
    retain: bool = False


def payload(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class Mirror:
    """Turns alert changes into MQTT messages for one device's base topic."""

    base: str  # <prefix>/<site>/<device>
    limit: int = 100_000  # the outbox's waiting messages, past which telemetry is dropped

    def alarm(self, tr: Transition, alarm_id: int | None = None) -> Message:
        doc = {
            "id": alarm_id,
            "source": tr.source,
            "subject": tr.subject,
            "rule": tr.rule,
            "change": tr.change,
            "level": tr.level,
            "state": "off" if tr.change == "close" else "on",
            "at": tr.at,
            "value": tr.value,
            "message": tr.message,
        }
        return Message("alarm", f"alarm/{tr.source}/{tr.subject}/{tr.rule}", payload(doc), True)

    def ack(self, source: str, subject: str, rule: str, alarm_id: int, at: float) -> Message:
        """An acknowledgement: which alarm and when (who is the store's business)."""
        doc = {"id": alarm_id, "change": "ack", "at": at}
        return Message("alarm", f"alarm/{source}/{subject}/{rule}/ack", payload(doc))


def enqueue_job(
    db: Database, base: str, messages: list[Message], now: float, expires_at: float, limit: int
) -> int:
    """Queue ``messages`` under ``base``; drops the oldest waiting telemetry past ``limit``
    and returns how many it dropped."""
    db.conn.executemany(
        "INSERT INTO mqtt_outbox (kind, topic, payload, retain, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            (m.kind, f"{base}/{m.topic}", m.payload, int(m.retain), now, max(expires_at, now + 1))
            for m in messages
        ],
    )
    (waiting,) = db.conn.execute(
        "SELECT count(*) FROM mqtt_outbox WHERE sent_at IS NULL"
    ).fetchone()
    over = waiting - limit
    if over <= 0:
        return 0
    cur = db.conn.execute(
        "DELETE FROM mqtt_outbox WHERE id IN (SELECT id FROM mqtt_outbox WHERE kind = ?"
        " AND sent_at IS NULL ORDER BY id LIMIT ?)",
        (DROPPABLE, over),
    )
    dropped = cur.rowcount
    if dropped:
        db.conn.execute(
            "INSERT INTO mqtt_dropped (kind, dropped, last_at) VALUES (?, ?, ?)"
            " ON CONFLICT (kind) DO UPDATE SET dropped = dropped + excluded.dropped,"
            " last_at = excluded.last_at",
            (DROPPABLE, dropped, now),
        )
    return dropped


def due_job(db: Database, limit: int) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in db.conn.execute(
            "SELECT id, kind, topic, payload, retain, attempts FROM mqtt_outbox"
            " WHERE sent_at IS NULL ORDER BY id LIMIT ?",
            (limit,),
        )
    ]


def acked_job(db: Database, ids: list[int], now: float) -> None:
    """The broker has these: telemetry goes, the rest is marked sent."""
    marks = [(i,) for i in ids]
    db.conn.executemany(f"DELETE FROM mqtt_outbox WHERE id = ? AND kind = '{DROPPABLE}'", marks)
    db.conn.executemany(
        "UPDATE mqtt_outbox SET sent_at = ?, attempts = attempts + 1 WHERE id = ?",
        [(now, i) for i in ids],
    )


def tried_job(db: Database, ids: list[int]) -> None:
    db.conn.executemany(
        "UPDATE mqtt_outbox SET attempts = attempts + 1 WHERE id = ?", [(i,) for i in ids]
    )


def summary_job(db: Database) -> dict[str, Any]:
    waiting, oldest = db.conn.execute(
        "SELECT count(*), min(created_at) FROM mqtt_outbox WHERE sent_at IS NULL"
    ).fetchone()
    (sent,) = db.conn.execute(
        "SELECT count(*) FROM mqtt_outbox WHERE sent_at IS NOT NULL"
    ).fetchone()
    dropped = db.conn.execute("SELECT coalesce(sum(dropped), 0) FROM mqtt_dropped").fetchone()[0]
    return {"waiting": waiting, "oldest": oldest, "kept_sent": sent, "dropped": dropped}
