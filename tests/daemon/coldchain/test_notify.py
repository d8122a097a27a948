"""Alarm notifications through a real SMTP server (aiosmtpd) and a real webhook receiver on
loopback: one email per alarm, retried from the outbox while the server is down, digests,
signed webhooks, and nothing lost across a restart."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.support.aio import settle, until
from tests.support.mail import Smtp
from veilcam.alerts.outbox import summary_job
from veilcam.alerts.records import list_job
from veilcam.clock import FakeClock
from veilcam.coldchain.service import TICK
from veilcam.config import loads
from veilcam.errors import ConfigError
from veilcam.runtime.context import App
from veilcam.runtime.supervisor import running
from veilcam.sensors.ingest import Reading


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    server = Smtp()
    yield server
    server.stop()


def config(data_dir: Path, notify: str) -> Any:
    return loads(
        f'site = "corner-shop"\ndata_dir = "{data_dir}"\n'
        '[storage]\nhealth_interval = "1s"\n'
        '[[cabinets]]\nname = "dairy"\nprofile = "chiller"\nprobe = "1"\ndoor = "1"\n'
        '[[cabinets]]\nname = "ice"\nprofile = "freezer"\nprobe = "2"\n' + notify
    )


def email_to(smtp: Smtp, extra: str = "") -> str:
    return (
        f'[notify]\nretry_min = "1m"\n{extra}\n'
        f'[notify.email]\nto = ["manager@shop.example"]\nhost = "127.0.0.1"\n'
        f'port = {smtp.port}\nsecurity = "none"\n'
    )


async def warm_night(app: App, clock: FakeClock, minutes: int, celsius: float = 9.5) -> None:
    """Minute readings: a warm chiller, a freezer holding -20 °C. The readings carry their
    times, so the alarm service may take them in any batches it likes."""
    for _ in range(minutes):
        now = clock.now()
        app.readings.publish(Reading("1", int(celsius * 100), None, now))
        app.readings.publish(Reading("2", -2000, None, now))
        clock.advance(60)
        await settle()


async def alarms(app: App, rule: str = "temperature") -> list[dict[str, Any]]:
    return [a for a in await app.store.db.read(list_job) if a["rule"] == rule]


async def closed(app: App, cabinet: str = "dairy") -> bool:
    return any(a["subject"] == cabinet and a["closed_at"] for a in await alarms(app))


async def outbox(app: App) -> dict[str, Any]:
    return await app.store.db.read(summary_job)


async def test_one_email_per_alarm_with_cabinet_peak_and_duration(
    data_dir: Path, smtp: Smtp
) -> None:
    smtp.start()
    clock = FakeClock()
    async with running(config(data_dir, email_to(smtp)), clock=clock) as app:
        await warm_night(app, clock, 31)  # the power-up grace: nothing counts yet
        await warm_night(app, clock, 40)  # 30 minutes above 8 °C: warning, then alarm
        await warm_night(app, clock, 30, celsius=10.2)  # warmer still: no second email

        async def one() -> bool:
            return len(smtp.inbox.messages) >= 1

        await until(one)
        await warm_night(app, clock, 20, celsius=3.0)  # back under: it clears, no email
        await until(lambda: closed(app))
        assert (await outbox(app))["waiting"] == 0
    [msg] = smtp.inbox.messages
    body = msg.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert msg["To"] == "manager@shop.example"
    assert "ALARM" in msg["Subject"] and "dairy" in msg["Subject"]
    assert "Cabinet:   dairy" in body
    assert "Peak:      9.5 °C" in body
    assert "Duration:  30 min" in body
    assert "corner-shop" in body


async def test_an_email_waits_for_the_mail_server_and_survives_a_restart(
    data_dir: Path, smtp: Smtp
) -> None:
    clock = FakeClock()
    cfg = config(data_dir, email_to(smtp))
    async with running(cfg, clock=clock) as app:  # no server listening
        await warm_night(app, clock, 31 + 31)

        async def failed_once() -> bool:
            s = await outbox(app)
            return s["waiting"] == 1 and s["last_error"] is not None

        await until(failed_once)
        assert "Connect" in (await outbox(app))["last_error"]
        await until(lambda: _health_is(app, "warning"))
    assert smtp.inbox.messages == []
    # Stopped with the notice undelivered; started again with the mail server back.
    smtp.start()
    clock2 = FakeClock(clock.now())
    async with running(cfg, clock=clock2) as app:
        clock2.advance(120)  # past the back-off

        async def delivered() -> bool:
            clock2.advance(5)
            return (await outbox(app))["sent"] == 1

        await until(delivered)
        assert (await outbox(app))["waiting"] == 0
        await until(lambda: _health_is(app, "ok"))
    [msg] = smtp.inbox.messages
    assert "dairy" in msg["Subject"]


async def test_backoff_doubles_and_delivers_once_the_server_is_back(
    data_dir: Path, smtp: Smtp
) -> None:
    clock = FakeClock()
    async with running(config(data_dir, email_to(smtp)), clock=clock) as app:
        await warm_night(app, clock, 62)
        await until(lambda: _attempts_at_least(app, 1))
        assert app.outbox is not None
        assert [app.outbox.backoff(n) for n in (1, 2, 3, 10)] == [60, 120, 240, 1800]
        smtp.start()
        clock.advance(5)  # the outbox looks again, before the back-off has passed
        app.outbox.wake.set()
        await settle()
        assert smtp.inbox.messages == [] and await _attempts_at_least(app, 1)
        assert not await _attempts_at_least(app, 2)
        clock.advance(60 * 4)

        async def arrived() -> bool:
            clock.advance(5)
            return len(smtp.inbox.messages) == 1

        await until(arrived)


async def test_digest_mode_sends_one_message_per_period(data_dir: Path, smtp: Smtp) -> None:
    smtp.start()
    clock = FakeClock()
    notify = email_to(smtp, 'level = "warning"') + 'digest = "6h"\n'
    async with running(config(data_dir, notify), clock=clock) as app:
        await warm_night(app, clock, 31 + 35)  # dairy: warning, then alarm
        for _ in range(8):  # the freezer's probe goes silent too
            app.readings.publish(Reading("1", 950, None, clock.now()))
            clock.advance(60)
            await settle()

        async def bundled() -> bool:  # the dairy's alarm and the silent freezer wait there
            clock.advance(TICK)  # time passes: the alarm service looks at the silent probe
            subjects = await app.store.db.read(
                lambda db: [
                    r[0]
                    for r in db.conn.execute("SELECT subject FROM outbox WHERE channel = 'digest'")
                ]
            )
            text = " ".join(subjects)
            return "ALARM: dairy temperature" in text and "ice probe silent" in text

        await until(bundled)
        assert smtp.inbox.messages == []  # nothing until the period is up
        clock.advance(5 * 3600)

        async def one() -> bool:
            clock.advance(5)
            return len(smtp.inbox.messages) >= 1

        await until(one)
        await until(lambda: _sent(app, 1))
    [msg] = smtp.inbox.messages
    body = msg.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "digest" in msg["Subject"]
    assert "dairy temperature" in body and "ice probe silent" in body
    assert body.count("WARNING") >= 2 and "ALARM" in body


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    got: list[tuple[dict[str, str], bytes]] = []
    answers = [500]  # the first call fails: the outbox must try again

    async def hook(request: web.Request) -> web.Response:
        got.append((dict(request.headers), await request.read()))
        return web.Response(status=answers.pop() if answers else 204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/hook", got
    await runner.cleanup()


async def test_webhook_is_signed_and_retried(
    data_dir: Path, tmp_path: Path, receiver: tuple[str, list[Any]]
) -> None:
    url, got = receiver
    secret = tmp_path / "hook.secret"
    secret.write_text("s3cret-shared-with-head-office\n")
    notify = (
        f'[notify]\nretry_min = "1m"\n[notify.webhook]\nurl = "{url}"\nsecret_file = "{secret}"\n'
    )
    clock = FakeClock()
    async with running(config(data_dir, notify), clock=clock) as app:
        await warm_night(app, clock, 62)

        async def twice() -> bool:
            clock.advance(30)
            return len(got) >= 2

        await until(twice)
        await until(lambda: _sent(app, 1))
    headers, body = got[-1]
    assert got[0][1] == body  # the same notice, again
    payload = json.loads(body)
    assert (
        payload["subject"] == "dairy"
        and payload["source"] == "coldchain"
        and payload["level"] == "alarm"
    )
    assert payload["rule"] == "temperature" and payload["value"] == 9.5
    expected = hmac.new(b"s3cret-shared-with-head-office", body, hashlib.sha256).hexdigest()
    assert headers["X-Veilcam-Signature"] == f"sha256={expected}"


async def test_undeliverable_notices_are_given_up_and_shown(data_dir: Path, smtp: Smtp) -> None:
    clock = FakeClock()
    notify = email_to(smtp).replace('retry_min = "1m"', 'retry_min = "1m"\ngive_up_after = "1h"')
    async with running(config(data_dir, notify), clock=clock) as app:
        await warm_night(app, clock, 62)

        async def failed() -> bool:
            clock.advance(300)
            return (await outbox(app))["failed"] >= 1

        await until(failed)
        await until(lambda: _health_is(app, "error"))
        # The mail server is back: the next alarm gets through, and the health with it.
        smtp.start()
        for _ in range(40):  # the freezer warms past its alarm limit
            app.readings.publish(Reading("1", 950, None, clock.now()))
            app.readings.publish(Reading("2", -1000, None, clock.now()))
            clock.advance(60)
            await settle()

        # Waited for inside the run: the test used to stop the daemon as soon as the health
        # recovered (the silent-probe notices of the long wait, delivered first), sometimes
        # before the freezer's alarm had been mailed.
        async def ice_alarm_mailed() -> bool:
            clock.advance(5)
            return any("ice temperature" in m["Subject"] for m in smtp.inbox.messages)

        async def recovered() -> bool:
            clock.advance(5)
            return await _health_is(app, "ok")

        await until(ice_alarm_mailed)
        await until(recovered)
        assert (await outbox(app))["failed"] == 0

        # The notices of the long wait (the silent probes) that were not given up go out too,
        # each at its own next attempt. Which ones were given up depends on how their
        # back-offs fell against the clock's steps; that the rest arrived does not.
        async def settled() -> bool:
            clock.advance(60)
            return all(r["sent_at"] or r["failed_at"] for r in await emails(app))

        await until(settled)
        rows = await emails(app)
    assert any(r["failed_at"] is not None for r in rows)
    sent = sorted(r["subject"] for r in rows if r["sent_at"] is not None)
    assert sent == sorted(m["Subject"] for m in smtp.inbox.messages)


async def emails(app: App) -> list[Any]:
    return await app.store.db.read(
        lambda db: db.conn.execute(
            "SELECT subject, sent_at, failed_at FROM outbox WHERE channel = 'email'"
        ).fetchall()
    )


def test_a_missing_password_file_is_named(data_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    cfg = config(
        data_dir,
        '[notify.email]\nto = ["a@b.example"]\nhost = "mail.example"\nusername = "shop"\n'
        f'password_file = "{missing}"\n',
    )

    async def start() -> None:
        async with running(cfg, clock=FakeClock()):
            pass

    with pytest.raises(ConfigError, match="notify.email: cannot read .*nope"):
        asyncio.run(start())


def test_config_refuses_unencrypted_mail_off_the_box() -> None:
    with pytest.raises(ConfigError, match="unencrypted SMTP is only allowed to loopback"):
        loads('[notify.email]\nto = ["a@b.example"]\nhost = "mail.example"\nsecurity = "none"\n')
    with pytest.raises(ConfigError, match="plain http is only allowed to loopback"):
        loads('[notify.webhook]\nurl = "http://hq.example/hook"\n')


async def _health_is(app: App, state: str) -> bool:
    h = app.health.get("notifications")
    return h is not None and h.state == state


async def _attempts_at_least(app: App, n: int) -> bool:
    rows = await app.store.db.read(
        lambda db: db.conn.execute("SELECT attempts FROM outbox WHERE channel = 'email'").fetchall()
    )
    return bool(rows) and rows[0][0] >= n


async def _sent(app: App, n: int) -> bool:
    return (await outbox(app))["sent"] >= n


async def test_a_notice_for_a_channel_no_longer_configured_is_kept_and_named(
    data_dir: Path, receiver: tuple[str, list[Any]]
) -> None:
    url, _ = receiver
    clock = FakeClock()
    notify = f'[notify.webhook]\nurl = "{url}"\n'
    async with running(config(data_dir, notify), clock=clock) as app:

        def pending_email(db: Any) -> None:
            db.conn.execute(
                "INSERT INTO outbox (channel, created_at, subject, body, next_attempt_at,"
                " expires_at) VALUES ('email', ?, 'old', 'from before', ?, ?)",
                (clock.now(), clock.now(), clock.now() + 86400),
            )

        await app.store.db.write(pending_email)
        assert app.outbox is not None
        app.outbox.wake.set()

        async def named() -> bool:
            clock.advance(5)
            return "no [notify.email] configured" in str((await outbox(app))["last_error"])

        await until(named)
        assert app.health.get("service:outbox") is None  # handled, not a crashed service
