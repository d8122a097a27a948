"""Alert notifications by email and webhook, from a persistent outbox.

A notice is written to the ``outbox`` table in the same transaction as the alarm change it
reports, so a crash cannot lose one; the :class:`Outbox` service delivers what is due and,
when the mail server or webhook receiver is down, tries again with a doubling back-off
(``retry_min`` to ``retry_max``) until it succeeds or ``give_up_after`` has passed, which
leaves the notice in the table as failed and the ``notifications`` health in error.

In digest mode, email notices wait as ``digest`` rows and are sent together, one message
per period. Webhooks get every change at or above the notify level as JSON, signed with
HMAC-SHA256 when a secret is configured.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import aiosmtplib
from sqlite_utils import Database

from veilcam.alerts.episodes import LEVELS, Source, Transition, duration_text
from veilcam.clock import sleep_or_wake
from veilcam.durations import is_on
from veilcam.errors import ConfigError, NotifyError

if TYPE_CHECKING:
    from veilcam.clock import Clock
    from veilcam.config import NotifyConfig
    from veilcam.health import Health
    from veilcam.store import Store

log = logging.getLogger(__name__)

POLL = 5.0  # seconds between looks at the outbox
BATCH = 20  # notices delivered per look


@dataclass(frozen=True, slots=True)
class Notice:
    channel: str  # email | webhook | digest
    subject: str
    body: str


def _when(t: float) -> str:
    return dt.datetime.fromtimestamp(t).astimezone().strftime("%Y-%m-%d %H:%M %Z")


def _reaches(level: str, floor: str) -> bool:
    return LEVELS.index(level) >= LEVELS.index(floor)


def notices_for(
    tr: Transition, source: Source, cfg: NotifyConfig, site: str, began: float | None
) -> list[Notice]:
    """What to send about one alert change; ``began`` is when its condition started."""
    if not _reaches(tr.level, cfg.level):
        return []
    title = source.title(tr.rule)
    verb = {"open": "", "level": "", "close": "cleared: "}[tr.change]
    subject = f"[veilcam {site}] {verb}{tr.level.upper()}: {tr.subject} {title}"
    label = f"{source.subject_label}:"
    lines = [
        f"Site:      {site}",
        f"{label:<10} {tr.subject}",
        f"Alarm:     {title} ({tr.rule}), level {tr.level}",
        f"Status:    {'cleared' if tr.change == 'close' else 'open'} at {_when(tr.at)}",
    ]
    if began is not None:
        lines.append(f"Since:     {_when(began)}")
        lines.append(f"Duration:  {duration_text(tr.at - began)}")
    if (value := source.value_text(tr)) is not None:
        lines.append(value)
    lines += ["", tr.message, ""]
    if tr.change != "close":
        lines.append("Acknowledge it in the veilcam web UI, with what was done about it.")
    body = "\n".join(lines)
    out: list[Notice] = []
    if cfg.email is not None:
        if is_on(cfg.email.digest):
            out.append(Notice("digest", subject, body))
        elif tr.change != "close" or cfg.email_on_close:
            out.append(Notice("email", subject, body))
    if cfg.webhook is not None:
        payload = {
            "site": site,
            "source": tr.source,
            "subject": tr.subject,
            "rule": tr.rule,
            "change": tr.change,
            "level": tr.level,
            "at": tr.at,
            "began": began,
            "value": tr.value,
            "message": tr.message,
        }
        out.append(Notice("webhook", subject, json.dumps(payload, sort_keys=True)))
    return out


def enqueue_job(
    db: Database, alarm_id: int | None, notices: list[Notice], now: float, expires_at: float
) -> None:
    db.conn.executemany(
        "INSERT INTO outbox (channel, alarm_id, created_at, subject, body, next_attempt_at,"
        " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(n.channel, alarm_id, now, n.subject, n.body, now, expires_at) for n in notices],
    )


def due_job(db: Database, now: float, limit: int = BATCH) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in db.conn.execute(
            "SELECT * FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL"
            " AND channel != 'digest' AND next_attempt_at <= ? ORDER BY id LIMIT ?",
            (now, limit),
        )
    ]


def digest_job(db: Database, site: str, now: float, expires_at: float) -> int:
    """Bundle the waiting digest items into one email; returns how many went in."""
    rows = db.conn.execute(
        "SELECT id, subject, body FROM outbox WHERE channel = 'digest' AND sent_at IS NULL"
        " ORDER BY id"
    ).fetchall()
    if not rows:
        return 0
    parts = [f"{len(rows)} alarm change(s) at {site}:", ""]
    parts += [f"- {r['subject']}" for r in rows]
    for r in rows:
        parts += ["", "-" * 60, r["subject"], "", r["body"]]
    cur = db.conn.execute(
        "INSERT INTO outbox (channel, created_at, subject, body, next_attempt_at, expires_at)"
        " VALUES ('email', ?, ?, ?, ?, ?)",
        (
            now,
            f"[veilcam {site}] digest: {len(rows)} alarm change(s)",
            "\n".join(parts),
            now,
            expires_at,
        ),
    )
    db.conn.executemany(
        "UPDATE outbox SET sent_at = ?, digest_id = ? WHERE id = ?",
        [(now, cur.lastrowid, r["id"]) for r in rows],
    )
    return len(rows)


def settle_job(
    db: Database, notice_id: int, now: float, error: str | None, next_at: float, give_up: bool
) -> None:
    if error is None:
        db.conn.execute(
            "UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL"
            " WHERE id = ?",
            (now, notice_id),
        )
    else:
        db.conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?,"
            " failed_at = ? WHERE id = ?",
            (error[:500], next_at, now if give_up else None, notice_id),
        )


def summary_job(db: Database) -> dict[str, Any]:
    """Counts for the health page. A notice given up on counts as failed until a later one
    gets through: the old failure stays in the table (and the logs), the health turns back
    to ok once delivery works again."""
    row = db.conn.execute(
        "SELECT sum(sent_at IS NULL AND failed_at IS NULL AND channel != 'digest'),"
        " sum(channel = 'digest' AND sent_at IS NULL),"
        " sum(sent_at IS NOT NULL AND channel != 'digest'),"
        " max(CASE WHEN channel != 'digest' THEN sent_at END) FROM outbox"
    ).fetchone()
    failed = db.conn.execute(
        "SELECT count(*) FROM outbox WHERE failed_at > ?", (row[3] or 0.0,)
    ).fetchone()[0]
    last = db.conn.execute(
        "SELECT last_error FROM outbox WHERE last_error IS NOT NULL AND sent_at IS NULL"
        " ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return {
        "waiting": row[0] or 0,
        "in_digest": row[1] or 0,
        "failed": failed,
        "sent": row[2] or 0,
        "last_error": last[0] if last else None,
    }


def _alert_email(db: Database) -> str | None:
    """The store contact's address set in the web UI's settings, if any."""
    row = db.conn.execute("SELECT value FROM settings WHERE key = 'alert_email'").fetchone()
    return row[0] if row and row[0] else None


def read_secret(path: str | None, what: str) -> str | None:
    """A password or key kept in its own file (never in the config), stripped; ``what``
    names the setting in the error."""
    if path is None:
        return None
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise ConfigError(f"{what}: cannot read {path}: {exc.strerror}") from None


class Outbox:
    """Delivers due notices; one instance per daemon."""

    def __init__(
        self, cfg: NotifyConfig, site: str, store: Store, clock: Clock, health: Health
    ) -> None:
        self.cfg, self.site, self.store, self.clock, self.health = cfg, site, store, clock, health
        self.retry_min, self.retry_max = cfg.retry_min, cfg.retry_max
        self.give_up_after = cfg.give_up_after
        email = cfg.email
        self.password = read_secret(email.password_file if email else None, "notify.email")
        self.webhook_secret = read_secret(
            cfg.webhook.secret_file if cfg.webhook else None, "notify.webhook"
        )
        self.digest = email.digest if email is not None and is_on(email.digest) else None
        self.wake = asyncio.Event()  # set when a notice is queued, to send it without waiting

    def backoff(self, attempts: int) -> float:
        return float(min(self.retry_min * 2 ** max(0, attempts - 1), self.retry_max))

    async def send_email(self, subject: str, body: str) -> None:
        email = self.cfg.email
        if email is None:
            raise ConfigError("no [notify.email] configured")
        to = list(email.to)
        extra = await self.store.db.read(_alert_email)
        if extra and extra not in to:
            to.append(extra)
        if not to:
            raise NotifyError("no recipients: set notify.email.to, or the alert e-mail in Settings")
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = email.sender, ", ".join(to), subject
        msg.set_content(body)
        await aiosmtplib.send(
            msg,
            hostname=email.host,
            port=email.port,
            username=email.username,
            password=self.password,
            use_tls=email.security == "tls",
            start_tls=True if email.security == "starttls" else False,
            timeout=30,
        )

    async def send_webhook(self, body: str) -> None:
        hook = self.cfg.webhook
        if hook is None:
            raise ConfigError("no [notify.webhook] configured")
        data = body.encode()
        headers = {"Content-Type": "application/json", "User-Agent": "veilcam"}
        if self.webhook_secret is not None:
            sig = hmac.new(self.webhook_secret.encode(), data, hashlib.sha256).hexdigest()
            headers["X-Veilcam-Signature"] = f"sha256={sig}"
        timeout = aiohttp.ClientTimeout(total=15)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(hook.url, data=data, headers=headers) as resp,
        ):
            if resp.status >= 300:
                raise NotifyError(f"webhook answered HTTP {resp.status}")

    async def deliver(self, notice: dict[str, Any]) -> None:
        if notice["channel"] == "email":
            await self.send_email(notice["subject"], notice["body"])
        else:
            await self.send_webhook(notice["body"])

    async def run_once(self) -> int:
        """Send what is due; returns how many were delivered."""
        now = self.clock.now()
        delivered = 0
        due = await self.store.db.read(due_job, now)
        for notice in due:
            error: str | None = None
            try:
                await self.deliver(notice)
            except (
                OSError,  # refused, unreachable, timed out
                aiosmtplib.SMTPException,
                aiohttp.ClientError,
                NotifyError,
                ConfigError,  # e.g. its channel was removed from the config since
            ) as exc:
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            now = self.clock.now()
            give_up = error is not None and now - notice["created_at"] >= self.give_up_after
            next_at = now + self.backoff(notice["attempts"] + 1)
            await self.store.db.write(settle_job, notice["id"], now, error, next_at, give_up)
            if error is None:
                delivered += 1
                log.info(
                    "notice %d sent by %s: %s", notice["id"], notice["channel"], notice["subject"]
                )
            elif give_up:
                log.error(
                    "notice %d given up after %d attempts: %s",
                    notice["id"],
                    notice["attempts"] + 1,
                    error,
                )
            else:
                log.warning(
                    "notice %d by %s not sent (%s); next try in %.0fs",
                    notice["id"],
                    notice["channel"],
                    error,
                    next_at - now,
                )
        if due:
            await self._health()
        return delivered

    async def _health(self) -> None:
        s = await self.store.db.read(summary_job)
        if s["failed"]:
            self.health.set(
                "notifications", "error", f"{s['failed']} notice(s) could not be delivered"
            )
        elif s["waiting"] and s["last_error"]:
            self.health.set(
                "notifications", "warning", f"{s['waiting']} waiting: {s['last_error']}"
            )
        else:
            self.health.set("notifications", "ok", f"{s['sent']} sent, {s['waiting']} waiting")

    async def run(self) -> None:
        next_digest = None if self.digest is None else self.clock.now() + self.digest
        await self._health()  # what an earlier run left: failures, notices still waiting
        while True:
            now = self.clock.now()
            if next_digest is not None and now >= next_digest:
                expires = self.store.expires("sensor_records", now)
                await self.store.db.write(digest_job, self.site, now, expires)
                next_digest = now + (self.digest or 0)
            # Cleared before looking, not after: a notice queued while this round delivers
            # sets it again and is sent at once (cleared after, it waited for the next poll,
            # which a clock that stands still never brings).
            self.wake.clear()
            await self.run_once()
            await sleep_or_wake(self.clock, POLL, self.wake)
