"""Legal holds keep pictures past their limit and lapse by themselves; the retention report
counts what is held and deleted; a breach's 72-hour deadline shows on every page until the
notification is recorded; request deadlines become alerts and a daily reminder mail."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from aiohttp.test_utils import TestClient
from PIL import Image

from tests.daemon.web.test_privacy_requests import local, new_request, post
from tests.support.aio import settle, until
from veilcam.alerts.records import open_job
from veilcam.clock import FakeClock
from veilcam.config import EmailConfig
from veilcam.durations import DAY, HOUR
from veilcam.health import Health
from veilcam.privacy.deadlines import Deadlines
from veilcam.privacy.service import Privacy
from veilcam.runtime.context import App
from veilcam.store import Picture
from veilcam.store.reaper import Reaper

EMAIL = EmailConfig(host="127.0.0.1", port=2525, security="none", to=["dpo@store.example"])
UI = tuple[App, FakeClock, Callable[..., Awaitable[TestClient]]]


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 200, 40)).save(buf, "JPEG")
    return buf.getvalue()


async def floor_pictures(app: App, clock: FakeClock, n: int) -> list[str]:
    out = []
    for _ in range(n):
        clock.advance(60)
        out.append(await app.store.add_picture(Picture("fridge-1", "floor", "t", jpeg(), 32, 24)))
    return out


def rows(app: App, sql: str, *args: Any) -> list[Any]:
    with sqlite3.connect(app.data_dir / "veilcam.db") as conn:
        return conn.execute(sql, args).fetchall()


async def reap(app: App) -> None:
    reaper = Reaper(app.store, app.clock, Health(app.clock), interval=60, min_free_bytes=0)
    await reaper.reap_once()


async def test_a_hold_keeps_pictures_within_its_cap_and_lapses(ui: UI) -> None:
    app, clock, client = ui
    held = await floor_pictures(app, clock, 2)
    clock.advance(3600)
    free = await floor_pictures(app, clock, 1)
    admin, manager = await client("admin"), await client("manager")
    now = clock.now()
    form = {
        "class": "floor_stills",
        "camera": "fridge-1",
        "from": local(now - 2 * HOUR),
        "to": local(now - 30 * 60),
        "reason": "slip-and-fall claim",
        "reference": "CLAIM-2026-17",
    }
    r = await post(admin, "/holds", "/holds", {**form, "until": local(now + 40 * DAY)})
    assert "lasts at most 30d" in await r.text()  # beyond the class's cap
    r = await post(manager, "/holds", "/holds", {**form, "until": local(now + 10 * DAY)})
    assert r.status == 403  # administrators only
    r = await post(admin, "/holds", "/holds", {**form, "until": local(now + 10 * DAY)})
    assert "placed on 2 item(s)" in await r.text()
    # the floor limit (72 h) passes: the held pictures stay, the other goes
    clock.advance(4 * DAY)
    await reap(app)
    left = {r[0] for r in rows(app, "SELECT id FROM media")}
    assert left == set(held) and free[0] not in left
    manager = await client("manager")  # (a new session: the clock moved days on)
    resp = await manager.get("/api/privacy/retention")
    report = await resp.json()
    assert resp.status == 200, report
    floor = next(c for c in report["classes"] if c["class"] == "floor_stills")
    assert floor["under_hold"] == 2 and floor["deleted_30d"] == 1 and floor["count"] == 2
    # the hold ends by itself; its pictures go with it
    clock.advance(7 * DAY)
    await reap(app)
    assert rows(app, "SELECT count(*) FROM media") == [(0,)]
    assert rows(app, "SELECT lifted_by FROM legal_holds") == [("lapsed",)]
    page = await (await (await client("admin")).get("/retention")).text()
    assert "floor_stills" in page and "never stored" in page  # visitor templates
    actions = [r[0] for r in rows(app, "SELECT action FROM audit_log WHERE action LIKE 'hold.%'")]
    assert actions == ["hold.place"]


async def test_lifting_a_hold_returns_pictures_to_their_limit(ui: UI) -> None:
    app, clock, client = ui
    await floor_pictures(app, clock, 1)
    admin = await client("admin")
    now = clock.now()
    await post(
        admin,
        "/holds",
        "/holds",
        {
            "class": "floor_stills",
            "from": local(now - HOUR),
            "to": local(now + 60),
            "reason": "r",
            "reference": "ref",
            "until": local(now + 20 * DAY),
        },
    )
    clock.advance(5 * DAY)
    r = await post(await client("admin"), "/holds", "/holds/1/lift", {})
    assert "1 item(s) back to their limit" in await r.text()
    await reap(app)
    assert rows(app, "SELECT count(*) FROM media") == [(0,)]


async def test_a_breach_counts_down_on_every_page_until_settled(ui: UI) -> None:
    app, clock, client = ui
    manager, admin, tech = (
        await client("manager"),
        await client("admin"),
        await client("technician"),
    )
    found = clock.now() - 10 * HOUR
    r = await post(
        manager,
        "/breaches",
        "/breaches",
        {
            "discovered": local(found),
            "summary": "a USB stick with an export was lost",
            "affected": "12 redacted fridge pictures of 3 Dec",
        },
    )
    assert "breach 1 recorded" in await r.text()
    for page in ("/", "/stock", "/health"):
        html = await (await tech.get(page)).text()
        assert "Data breach 1" in html and "62 h" in html, page
    # the daemon's deadline watch makes it an alert (warning now, alarm in the last day)
    await until(lambda: levels(app, ["warning"]))
    opened = await app.store.db.read(open_job, "privacy")
    assert [(a["subject"], a["rule"]) for a in opened] == [("breach-1", "breach_deadline")]
    clock.advance(50 * HOUR)
    await until(lambda: levels(app, ["alarm"]))
    admin, tech = await client("admin"), await client("technician")
    r = await post(admin, "/breaches", "/breaches/1/not-required", {"reason": ""})
    assert r.status == 400
    r = await post(admin, "/breaches", "/breaches/1/decide", {"decision": "contacted the finder"})
    r = await post(
        admin,
        "/breaches",
        "/breaches/1/notified",
        {"notified_at": local(clock.now()), "reference": "AP-991"},
    )
    assert r.status == 302
    html = await (await tech.get("/")).text()
    assert "Data breach 1" not in html
    await until(lambda: levels(app, []))
    actions = [r[0] for r in rows(app, "SELECT action FROM audit_log WHERE action LIKE 'breach.%'")]
    assert actions == ["breach.record", "breach.decide", "breach.notified"]


def ticking(
    clock: FakeClock, check: Callable[[], Awaitable[bool]]
) -> Callable[[], Awaitable[bool]]:
    """``check``, with the fake clock a second on at each look: a service that was busy when
    the test moved the clock, and went to sleep after, still wakes (as real time would)."""

    async def looked() -> bool:
        clock.advance(1.0)
        return await check()

    return looked


async def test_request_deadlines_warn_two_days_ahead_then_alarm(ui: UI) -> None:
    app, clock, client = ui
    admin = await client("admin")
    n = await new_request(admin, clock, "erasure")
    await settle()
    assert await levels(app, [])  # 7 days left
    clock.advance(5 * DAY + HOUR)
    await until(ticking(clock, lambda: levels(app, ["warning"])))
    admin = await client("admin")
    html = await (await admin.get("/requests")).text()
    assert "due-soon" in html
    clock.advance(2 * DAY)
    await until(ticking(clock, lambda: levels(app, ["alarm"])))
    admin = await client("admin")
    assert "overdue" in await (await admin.get(f"/requests/{n}")).text()
    await post(
        admin,
        f"/requests/{n}",
        f"/requests/{n}/answer",
        {"status": "answered", "reply": "done late"},
    )
    await until(lambda: levels(app, []))


async def test_a_daily_reminder_mail_lists_the_deadlines(ui: UI) -> None:
    app, clock, client = ui
    admin = await client("admin")
    await new_request(admin, clock, "access")
    clock.advance(6 * DAY)
    cfg = msgspec.structs.replace(
        app.config, notify=msgspec.structs.replace(app.config.notify, email=EMAIL)
    )
    privacy = Privacy(app.store, cfg, clock)
    watch = Deadlines(privacy, Health(clock), mail=True)
    await watch.restore()
    await watch.remind(await watch.check())
    await watch.remind(await watch.check())  # the same day: no second mail
    mails = rows(app, "SELECT subject, body FROM outbox WHERE subject LIKE '%privacy%'")
    assert len(mails) == 1 and "access request 1 is due" in mails[0][1]
    clock.advance(DAY + 60)
    fresh = Deadlines(privacy, Health(clock), mail=True)  # after a restart too
    await fresh.restore()
    await fresh.remind(await fresh.check())
    assert len(rows(app, "SELECT id FROM outbox WHERE subject LIKE '%privacy%'")) == 2


async def levels(app: App, want: list[str]) -> bool:
    return [a["level"] for a in await app.store.db.read(open_job, "privacy")] == want
