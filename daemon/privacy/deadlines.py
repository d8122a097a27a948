"""The deadlines of the privacy registers as alerts: a shopper's request due within the
warning time (warning) or overdue (alarm), a breach not yet notified to the authority
(warning from discovery, alarm in its last 24 hours and after). Through the shared alerts
machinery, so they show on the dashboard and the alerts page and are mailed like any
other; and once a day, while any is open, one reminder email lists them all."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from veilcam.alerts.episodes import Episode, Episodes, Source, Transition
from veilcam.alerts.outbox import Notice, enqueue_job
from veilcam.alerts.recorder import Recorder
from veilcam.alerts.records import open_job
from veilcam.clock import sleep_or_wake
from veilcam.durations import DAY, HOUR
from veilcam.errors import StoreError
from veilcam.health import Health
from veilcam.privacy import breaches, requests
from veilcam.privacy.service import Privacy

log = logging.getLogger(__name__)

SOURCE = Source(
    "privacy",
    "Register",
    {"request_due": "request due", "breach_deadline": "breach notification deadline"},
)
POLL = 300.0
REMINDER_EVERY = DAY


def _when(t: float) -> str:
    return dt.datetime.fromtimestamp(t).astimezone().strftime("%Y-%m-%d %H:%M")


def _left(seconds: float) -> str:
    if seconds <= 0:
        return f"{(-seconds) / HOUR:.0f} h overdue"
    return f"{seconds / HOUR:.0f} h left"


class Deadlines:
    def __init__(
        self,
        privacy: Privacy,
        health: Health,
        *,
        mail: bool = False,
        outbox_wake: asyncio.Event | None = None,
    ) -> None:
        self.privacy = privacy
        cfg = privacy.config
        self.warn_before = cfg.privacy.warn_before
        self.mail = mail and cfg.notify.email is not None
        self.outbox_wake = outbox_wake
        self.recorder = Recorder(
            SOURCE,
            privacy.store,
            health,
            cfg.notify if mail else None,
            cfg.site,
            outbox_wake,
            retention="requests",
            health_key="privacy_records",
        )
        self.episodes: dict[str, Episodes] = {}
        self.last_reminder: float | None = None

    def _ep(self, subject: str) -> Episodes:
        return self.episodes.setdefault(subject, Episodes("privacy", subject))

    async def restore(self) -> None:
        self.last_reminder = await self.privacy.store.db.read(_last_reminder)
        await self.privacy.refresh()
        for row in await self.privacy.store.db.read(open_job, "privacy"):
            self._ep(row["subject"]).open[row["rule"]] = Episode(
                row["level"], row["opened_at"], row["peak"]
            )

    async def check(self) -> list[dict[str, Any]]:
        """Raise and close the deadline alerts; return what is open (for the reminder)."""
        db, now = self.privacy.store.db, self.privacy.clock.now()
        due = await db.read(requests.due_job)
        open_breaches = await db.read(breaches.unsettled_job)
        seen: set[str] = set()
        out: list[Transition] = []
        pending: list[dict[str, Any]] = []
        for r in due:
            subject = f"request-{r['id']}"
            seen.add(subject)
            left = r["due_at"] - now
            msg = f"{r['kind']} request {r['id']} is due {_when(r['due_at'])} ({_left(left)})"
            if left <= 0:
                out += self._ep(subject).raise_to("request_due", "alarm", now, None, msg)
            elif left <= self.warn_before:
                out += self._ep(subject).raise_to("request_due", "warning", now, None, msg)
            else:
                continue
            pending.append({"what": msg, "due": r["due_at"]})
        for b in open_breaches:
            subject = f"breach-{b['id']}"
            seen.add(subject)
            left = b["deadline"] - now
            msg = (
                f"breach {b['id']} ({b['summary'][:60]}): notify the authority by "
                f"{_when(b['deadline'])} ({_left(left)})"
            )
            level = "alarm" if left <= DAY else "warning"
            out += self._ep(subject).raise_to("breach_deadline", level, now, None, msg)
            pending.append({"what": msg, "due": b["deadline"]})
        for subject, eps in self.episodes.items():
            if subject in seen:
                continue
            for rule in list(eps.open):
                kind = "request answered" if rule == "request_due" else "breach settled"
                out += eps.close(rule, now, f"{subject}: {kind}")
        if out:
            await self.recorder.apply(out)
        elif self.recorder.waiting:
            await self.recorder.apply([])
        return sorted(pending, key=lambda p: p["due"])

    async def remind(self, pending: list[dict[str, Any]]) -> None:
        """One email a day listing every privacy deadline that is near or passed."""
        now = self.privacy.clock.now()
        if not self.mail or not pending:
            return
        if self.last_reminder is not None and now - self.last_reminder < REMINDER_EVERY:
            return
        site = self.privacy.config.site
        body = "\n".join(
            [f"Privacy deadlines at {site}, {_when(now)}:", ""]
            + [f"- {p['what']}" for p in pending]
            + ["", "Answer them in the veilcam web UI under Privacy."]
        )
        notice = Notice("email", f"[veilcam {site}] privacy: {len(pending)} deadline(s)", body)
        expires = self.privacy.store.expires("requests", now)
        await self.privacy.store.db.write(enqueue_job, None, [notice], now, expires)
        self.last_reminder = now
        if self.outbox_wake is not None:
            self.outbox_wake.set()

    async def run(self) -> None:
        await self.restore()
        while True:
            self.privacy.changed.clear()
            try:
                await self.remind(await self.check())
            except StoreError as exc:
                log.error("privacy deadlines not stored, trying again: %s", exc)
            await sleep_or_wake(self.privacy.clock, POLL, self.privacy.changed)


def _last_reminder(db: Any) -> float | None:
    row = db.conn.execute(
        "SELECT max(created_at) FROM outbox WHERE alarm_id IS NULL AND subject LIKE ?",
        ("%] privacy: % deadline(s)",),
    ).fetchone()
    return None if row[0] is None else float(row[0])
