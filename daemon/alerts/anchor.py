"""The audit log's head, e-mailed once a day to the store's contact through the notification
outbox: a copy off the box that `veilcam audit verify --against` checks the log against, so
deleting the newest entries or rebuilding the whole log shows (``store.anchor``).

The first head goes out a day after the appliance first runs, not at start-up: the first
message a store's contact gets from a new box should be about the box's job (an alarm), and
a head of a day-old log says more than the head of an empty one."""

from __future__ import annotations

import asyncio
import logging

from sqlite_utils import Database

from veilcam.alerts.outbox import Notice, enqueue_job
from veilcam.durations import DAY, HOUR
from veilcam.store import Store
from veilcam.store.anchor import head_job

log = logging.getLogger(__name__)

SETTING = "audit_head_mailed_at"  # when the last head went out, kept across restarts


def _mailed_at(db: Database) -> float | None:
    row = db.conn.execute("SELECT value FROM settings WHERE key = ?", (SETTING,)).fetchone()
    return float(row[0]) if row else None


def _mark(db: Database, now: float) -> None:
    db.conn.execute(
        "INSERT INTO settings (key, value, changed_at, changed_by) VALUES (?, ?, ?, 'system')"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
        " changed_at = excluded.changed_at",
        (SETTING, repr(now), now),
    )


def _enqueue(db: Database, notice: Notice, now: float, expires: float) -> None:
    enqueue_job(db, None, [notice], now, expires)
    _mark(db, now)


class AuditAnchor:
    def __init__(self, store: Store, site: str, outbox_wake: asyncio.Event | None) -> None:
        self.store, self.site, self.wake = store, site, outbox_wake

    async def mail_if_due(self) -> bool:
        """The head into the outbox if a day has passed since the last; whether it was."""
        now = self.store.clock.now()
        last = await self.store.db.read(_mailed_at)
        if last is None:  # the first run: the clock starts, the first head goes out a day on
            await self.store.db.write(_mark, now)
            return False
        if now - last < DAY:
            return False
        head = await self.store.db.read(head_job)
        if head is None:
            return False
        body = "\n".join(
            [
                f"The head of the audit log at {self.site}: keep this message.",
                "",
                head.line(self.site),
                "",
                "If the log on the appliance is ever cut short or rebuilt, checking it with",
                "`veilcam audit verify --against FILE` (this line in FILE) will say where.",
            ]
        )
        notice = Notice("email", f"[veilcam {self.site}] audit log head {head.id}", body)
        expires = self.store.expires("audit_log", now)
        await self.store.db.write(_enqueue, notice, now, expires)
        if self.wake is not None:
            self.wake.set()
        log.info("audit head %d mailed", head.id)
        return True

    async def run(self) -> None:
        while True:
            await self.mail_if_due()
            await self.store.clock.sleep(HOUR)
