"""The web UI over HTTP on loopback: every route for every role, sign-in, session
expiry, CSRF, administrators, password expiry, and the audit entry of each access."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.support.web import PW, csrf_of, sign_in
from veilcam.clock import FakeClock
from veilcam.runtime.context import App

Client = Callable[..., Awaitable[TestClient]]
ROLES = (None, "admin", "manager", "technician", "auditor")
PIC = "0" * 32  # a media id that does not exist: access is decided before the lookup

# (method, canonical path) -> the status for: no session, admin, manager, technician, auditor
EXPECTED: dict[tuple[str, str], tuple[int, ...]] = {
    ("GET", "/login"): (200, 200, 200, 200, 200),
    ("POST", "/login"): (403, 403, 403, 403, 403),  # no sign-in CSRF cookie: refused
    ("GET", "/healthz"): (200, 200, 200, 200, 200),
    ("GET", "/privacy"): (200, 200, 200, 200, 200),  # the notice to shoppers: no sign-in
    ("GET", "/privacy/notice.pdf"): (200, 200, 200, 200, 200),
    ("GET", "/gates"): (302, 200, 200, 403, 200),
    ("GET", "/studies"): (302, 200, 200, 403, 200),
    ("POST", "/studies"): (302, 403, 403, 403, 403),
    ("POST", "/studies/{study_id}/stop"): (302, 403, 403, 403, 403),
    ("GET", "/clips/{clip_id}"): (302, 404, 404, 403, 404),
    ("GET", "/clips/{clip_id}.mp4"): (302, 404, 404, 403, 404),
    ("POST", "/gates"): (302, 403, 403, 403, 403),
    ("GET", "/watchlist"): (302, 200, 403, 403, 403),
    ("POST", "/watchlist"): (302, 403, 403, 403, 403),
    ("POST", "/watchlist/share"): (302, 403, 403, 403, 403),
    ("POST", "/watchlist/rekey"): (302, 403, 403, 403, 403),
    ("POST", "/watchlist/import"): (302, 403, 403, 403, 403),
    ("POST", "/watchlist/{entry_id}/{action}"): (302, 403, 403, 403, 403),
    ("GET", "/watchlist/evidence/{evidence_id}.jpg"): (302, 403, 403, 403, 403),
    ("GET", "/watchlist/{entry_id}/photos/{n}.jpg"): (302, 403, 403, 403, 403),
    ("POST", "/gates/{gate_id}/{action}"): (302, 403, 403, 403, 403),
    ("GET", "/api/privacy/gates"): (401, 200, 200, 403, 200),
    ("POST", "/api/privacy/gates"): (401, 403, 403, 403, 403),
    ("POST", "/api/privacy/gates/{gate_id}/{action}"): (401, 403, 403, 403, 403),
    ("POST", "/logout"): (302, 403, 403, 403, 403),  # signed in but no CSRF token: refused
    ("GET", "/password"): (302, 200, 200, 200, 200),
    ("POST", "/password"): (302, 403, 403, 403, 403),
    ("GET", "/"): (302, 200, 200, 200, 200),
    ("GET", "/events"): (302, 200, 200, 200, 200),
    ("GET", "/pictures"): (302, 200, 200, 403, 200),
    ("GET", "/pictures/{media_id}"): (302, 404, 404, 403, 404),
    ("GET", "/pictures/{media_id}.jpg"): (302, 404, 404, 403, 404),
    ("GET", "/history"): (302, 200, 200, 200, 200),
    ("GET", "/history.csv"): (302, 200, 200, 200, 200),
    ("GET", "/alerts"): (302, 200, 200, 200, 200),
    ("GET", "/reports"): (302, 200, 200, 200, 200),
    ("GET", "/reports/{day}.{fmt}"): (302, 200, 200, 200, 200),
    ("POST", "/alarms/{alarm_id}/ack"): (302, 403, 403, 403, 403),
    ("GET", "/health"): (302, 200, 200, 200, 200),
    ("POST", "/health/certificate"): (302, 403, 403, 403, 403),
    ("GET", "/users"): (302, 200, 403, 403, 403),
    ("POST", "/users"): (302, 403, 403, 403, 403),
    ("POST", "/users/{username}/{action}"): (302, 403, 403, 403, 403),
    ("POST", "/tokens"): (302, 403, 403, 403, 403),
    ("POST", "/tokens/{name}/revoke"): (302, 403, 403, 403, 403),
    ("GET", "/settings"): (302, 200, 403, 403, 403),
    ("POST", "/settings"): (302, 403, 403, 403, 403),
    ("GET", "/audit"): (302, 200, 403, 403, 200),
    ("GET", "/api/status"): (401, 200, 200, 200, 200),
    ("GET", "/api/pictures"): (401, 200, 200, 403, 200),
    ("GET", "/api/temperatures"): (401, 200, 200, 200, 200),
    ("GET", "/api/doors"): (401, 200, 200, 200, 200),
    ("GET", "/api/alarms"): (401, 200, 200, 200, 200),
    ("GET", "/api/counts"): (401, 200, 200, 200, 200),
    ("GET", "/api/tokens"): (401, 200, 403, 403, 403),
    ("POST", "/api/tokens"): (401, 403, 403, 403, 403),  # a session's POST needs its CSRF
    ("POST", "/api/tokens/{name}/revoke"): (401, 403, 403, 403, 403),
    ("GET", "/api/openapi.json"): (200, 200, 200, 200, 200),
    ("GET", "/stock"): (302, 200, 200, 200, 200),
    ("GET", "/stock/catalogue"): (302, 200, 200, 200, 200),
    ("POST", "/stock/catalogue"): (302, 403, 403, 403, 403),
    ("GET", "/stock/catalogue.json"): (302, 200, 200, 200, 200),
    ("GET", "/stock/products.csv"): (302, 200, 200, 200, 200),
    ("GET", "/stock/products/{sku}.jpg"): (302, 404, 404, 404, 404),
    ("POST", "/stock/products/{sku}/image"): (302, 403, 403, 403, 403),
    ("GET", "/stock/{camera}"): (302, 200, 200, 200, 200),
    ("GET", "/stock/{camera}/restock"): (302, 200, 200, 200, 200),
    ("GET", "/stock/{camera}/states.csv"): (302, 200, 200, 200, 200),
    ("GET", "/stock/{camera}/planogram"): (302, 200, 200, 200, 200),
    ("POST", "/stock/{camera}/planogram"): (302, 403, 403, 403, 403),
    ("GET", "/stock/{camera}/planogram.csv"): (302, 200, 200, 200, 200),
    ("GET", "/stock/{camera}/calibration.jpg"): (302, 404, 404, 404, 404),  # not calibrated
    ("POST", "/stock/{camera}/calibrate"): (302, 403, 403, 403, 403),
    ("GET", "/api/stock"): (401, 200, 200, 200, 200),
    ("GET", "/api/stock/catalogue"): (401, 200, 200, 200, 200),
    ("POST", "/api/stock/catalogue"): (401, 403, 403, 403, 403),
    ("GET", "/api/stock/{camera}"): (401, 200, 200, 200, 200),
    ("GET", "/api/stock/{camera}/restock"): (401, 200, 200, 200, 200),
    # Exports: refused without a disclosure record, even to an administrator.
    ("GET", "/pictures/{media_id}/download"): (302, 403, 403, 403, 403),
    ("GET", "/requests"): (302, 200, 200, 403, 200),
    ("POST", "/requests"): (302, 403, 403, 403, 403),
    ("GET", "/requests/{request_id}"): (302, 404, 404, 403, 404),
    ("POST", "/requests/{request_id}/act"): (302, 403, 403, 403, 403),
    ("POST", "/requests/{request_id}/lift"): (302, 403, 403, 403, 403),
    ("POST", "/requests/{request_id}/answer"): (302, 403, 403, 403, 403),
    ("GET", "/requests/{request_id}/export.zip"): (302, 403, 403, 403, 403),
    ("GET", "/disclosures"): (302, 200, 403, 403, 200),
    ("POST", "/disclosures"): (302, 403, 403, 403, 403),
    ("GET", "/holds"): (302, 200, 200, 403, 200),
    ("POST", "/holds"): (302, 403, 403, 403, 403),
    ("POST", "/holds/{hold_id}/lift"): (302, 403, 403, 403, 403),
    ("GET", "/retention"): (302, 200, 200, 403, 200),
    ("GET", "/breaches"): (302, 200, 200, 200, 200),
    ("POST", "/breaches"): (302, 403, 403, 403, 403),
    ("POST", "/breaches/{breach_id}/{action}"): (302, 403, 403, 403, 403),
    ("GET", "/api/privacy/requests"): (401, 200, 200, 403, 200),
    ("POST", "/api/privacy/requests"): (401, 403, 403, 403, 403),
    ("GET", "/api/privacy/requests/{request_id}"): (401, 404, 404, 403, 404),
    ("POST", "/api/privacy/requests/{request_id}/act"): (401, 403, 403, 403, 403),
    ("POST", "/api/privacy/requests/{request_id}/answer"): (401, 403, 403, 403, 403),
    ("GET", "/api/privacy/requests/{request_id}/export.zip"): (401, 403, 403, 403, 403),
    ("GET", "/api/privacy/disclosures"): (401, 200, 403, 403, 200),
    ("POST", "/api/privacy/disclosures"): (401, 403, 403, 403, 403),
    ("GET", "/api/privacy/holds"): (401, 200, 200, 403, 200),
    ("GET", "/api/privacy/retention"): (401, 200, 200, 403, 200),
    ("GET", "/api/privacy/breaches"): (401, 200, 200, 200, 200),
    ("GET", "/static"): (200, 200, 200, 200, 200),
    ("HEAD", "/static"): (200, 200, 200, 200, 200),
}
CONCRETE = {
    "/pictures/{media_id}": f"/pictures/{PIC}",
    "/pictures/{media_id}.jpg": f"/pictures/{PIC}.jpg",
    "/users/{username}/{action}": "/users/tom/disable",
    "/tokens/{name}/revoke": "/tokens/nosuch/revoke",
    "/api/tokens/{name}/revoke": "/api/tokens/nosuch/revoke",
    "/static": "/static/style.css",
    "/alarms/{alarm_id}/ack": "/alarms/1/ack",
    "/reports/{day}.{fmt}": "/reports/2026-01-01.pdf",
    "/stock/products/{sku}.jpg": "/stock/products/VC-NONE.jpg",
    "/stock/products/{sku}/image": "/stock/products/VC-NONE/image",
    "/stock/{camera}": "/stock/fridge-1",
    "/stock/{camera}/restock": "/stock/fridge-1/restock",
    "/stock/{camera}/states.csv": "/stock/fridge-1/states.csv",
    "/stock/{camera}/planogram": "/stock/fridge-1/planogram",
    "/stock/{camera}/planogram.csv": "/stock/fridge-1/planogram.csv",
    "/stock/{camera}/calibration.jpg": "/stock/fridge-1/calibration.jpg",
    "/stock/{camera}/calibrate": "/stock/fridge-1/calibrate",
    "/api/stock/{camera}": "/api/stock/fridge-1",
    "/api/stock/{camera}/restock": "/api/stock/fridge-1/restock",
    "/pictures/{media_id}/download": f"/pictures/{PIC}/download",
    "/requests/{request_id}": "/requests/1",
    "/requests/{request_id}/act": "/requests/1/act",
    "/requests/{request_id}/lift": "/requests/1/lift",
    "/requests/{request_id}/answer": "/requests/1/answer",
    "/requests/{request_id}/export.zip": "/requests/1/export.zip",
    "/holds/{hold_id}/lift": "/holds/1/lift",
    "/breaches/{breach_id}/{action}": "/breaches/1/decide",
    "/api/privacy/requests/{request_id}": "/api/privacy/requests/1",
    "/api/privacy/requests/{request_id}/act": "/api/privacy/requests/1/act",
    "/gates/{gate_id}/{action}": "/gates/1/approve",
    "/studies/{study_id}/stop": "/studies/1/stop",
    "/watchlist/{entry_id}/{action}": "/watchlist/1/approve",
    "/watchlist/evidence/{evidence_id}.jpg": f"/watchlist/evidence/{PIC}.jpg",
    "/watchlist/{entry_id}/photos/{n}.jpg": "/watchlist/1/photos/1.jpg",
    "/clips/{clip_id}": f"/clips/{PIC}",
    "/clips/{clip_id}.mp4": f"/clips/{PIC}.mp4",
    "/api/privacy/gates/{gate_id}/{action}": "/api/privacy/gates/1/approve",
    "/api/privacy/requests/{request_id}/answer": "/api/privacy/requests/1/answer",
    "/api/privacy/requests/{request_id}/export.zip": "/api/privacy/requests/1/export.zip",
}


async def audit_rows(app: App) -> list[tuple[str, str, str | None]]:
    rows = await app.store.db.read(
        lambda db: db.conn.execute(
            "SELECT actor, action, object FROM audit_log ORDER BY id"
        ).fetchall()
    )
    return [tuple(r) for r in rows]


async def test_every_route_for_every_role(ui: tuple[App, FakeClock, Client]) -> None:
    app, _, client = ui
    clients = {role: await client(role) for role in ROLES}
    routes = {
        (r.method, r.resource.canonical)
        for r in clients[None].server.app.router.routes()
        if r.resource is not None
    }
    assert routes == set(EXPECTED), "a route without an expected status for every role"
    for (method, path), statuses in EXPECTED.items():
        url = CONCRETE.get(path, path)
        for role, want in zip(ROLES, statuses, strict=True):
            got = await clients[role].request(method, url, allow_redirects=False)
            got.close()  # /events streams forever: headers are all this needs
            assert got.status == want, f"{method} {url} as {role or 'nobody'}: {got.status}"


async def test_sign_in_and_out_with_audit(ui: tuple[App, FakeClock, Client]) -> None:
    app, _, client = ui
    c = await client()
    r = await c.get("/", allow_redirects=False)
    assert r.status == 302 and r.headers["Location"].startswith("/login")
    bad = await sign_in(c, "maria", "not the password")
    assert bad.status == 401 and "not accepted" in await bad.text()
    ok = await sign_in(c, "maria")
    assert ok.status == 302 and ok.headers["Location"] == "/"
    cookie = ok.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    page = await c.get("/")
    html = await page.text()
    assert page.status == 200 and "fridge-1" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script anywhere
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    out = await c.post("/logout", data={"csrf": csrf_of(html)}, allow_redirects=False)
    assert out.status == 302
    assert (await c.get("/", allow_redirects=False)).status == 302
    actions = [(actor, action) for actor, action, _ in await audit_rows(app)]
    assert ("maria", "login.failed") in actions and ("maria", "login") in actions
    assert ("maria", "logout") in actions


async def test_sessions_expire_when_idle_and_at_the_absolute_limit(
    ui: tuple[App, FakeClock, Client],
) -> None:
    app, clock, client = ui
    c = await client("manager")
    clock.advance(29 * 60)
    assert (await c.get("/", allow_redirects=False)).status == 200  # active: idle timer resets
    clock.advance(31 * 60)
    assert (await c.get("/", allow_redirects=False)).status == 302  # idle for 31 minutes
    c2 = await client("manager")
    for _ in range(13):  # busy all day, never idle: the 12-hour limit still ends it
        clock.advance(59 * 60)
        await c2.get("/")
    assert (await c2.get("/", allow_redirects=False)).status == 302


async def test_csrf_is_required_on_every_form(ui: tuple[App, FakeClock, Client]) -> None:
    app, _, client = ui
    c = await client("admin")
    r = await c.post("/settings", data={"temperature_unit": "F"}, allow_redirects=False)
    assert r.status == 403
    r = await c.post(
        "/settings", data={"temperature_unit": "F", "csrf": "forged"}, allow_redirects=False
    )
    assert r.status == 403
    assert ("ada", "csrf.refused", "/settings") in await audit_rows(app)
    html = await (await c.get("/settings")).text()
    ok = await c.post(
        "/settings", data={"temperature_unit": "F", "alert_email": "", "csrf": csrf_of(html)}
    )
    assert ok.status == 200 and "saved: temperature_unit" in await ok.text()
    assert ("ada", "setting.change", "temperature_unit") in await audit_rows(app)


async def test_a_third_admin_is_refused_in_the_ui(ui: tuple[App, FakeClock, Client]) -> None:
    app, _, client = ui
    c = await client("admin")
    html = await (await c.get("/users")).text()
    form = {"role": "admin", "password": "another long password", "csrf": csrf_of(html)}
    assert (await c.post("/users", data={"username": "bea", **form})).status == 200
    r = await c.post("/users", data={"username": "cyd", **form})
    assert r.status == 400 and "at most two administrators" in await r.text()
    actions = {(a, o) for _, a, o in await audit_rows(app)}
    assert ("user.add", "bea") in actions and ("user.add.refused", "cyd") in actions
    # the new user chooses their own password at first sign-in
    c2 = await client()
    r = await sign_in(c2, "bea", "another long password")
    assert r.headers["Location"] == "/password"


async def test_expired_passwords_must_be_changed_first(ui: tuple[App, FakeClock, Client]) -> None:
    app, clock, client = ui
    clock.advance(91 * 86400)
    c = await client()
    r = await sign_in(c, "maria")
    assert r.status == 302 and r.headers["Location"] == "/password"
    assert (await c.get("/history", allow_redirects=False)).headers["Location"] == "/password"
    html = await (await c.get("/password")).text()
    r = await c.post(
        "/password",
        data={"old": PW, "new": "a fresh long password", "csrf": csrf_of(html)},
        allow_redirects=False,
    )
    assert r.status == 302
    assert (await c.get("/history")).status == 200


async def test_pictures_are_served_only_through_the_audited_handler(
    ui: tuple[App, FakeClock, Client],
) -> None:
    app, _, client = ui
    media_id = await app.pipeline.capture("fridge-1", "manual")
    c = await client("manager")
    page = await c.get(f"/pictures/{media_id}")
    assert page.status == 200 and f"/pictures/{media_id}.jpg" in await page.text()
    jpeg = await c.get(f"/pictures/{media_id}.jpg")
    assert jpeg.status == 200 and (await jpeg.read())[:2] == b"\xff\xd8"
    assert ("maria", "picture.view", media_id) in await audit_rows(app)
    gallery = await (await c.get("/pictures?camera=fridge-1")).text()
    assert media_id in gallery
    assert (await c.get("/pictures?camera=../../etc")).status == 400
    assert (await c.get("/pictures?from=yesterday")).status == 400
    tech = await client("technician")
    assert (await tech.get(f"/pictures/{media_id}.jpg", allow_redirects=False)).status == 403
    assert ("tom", "access.denied", f"/pictures/{media_id}.jpg") in await audit_rows(app)
    api = await (await c.get("/api/pictures")).json()
    assert api[0]["id"] == media_id
    # The dashboard says under the latest picture what was found and covered.
    dashboard = await (await c.get("/")).text()
    assert re.search(r"· (covered: \d+ \w+|nobody found|blanked: could not be redacted)", dashboard)


@pytest.mark.parametrize(
    ("summary", "shown"),
    [
        ({"status": "redacted", "regions": {"person": 1, "face": 2}}, "covered: 1 person, 2 face"),
        ({"status": "redacted", "regions": {}}, "nobody found"),
        ({"status": "blanked", "regions": {}}, "blanked: could not be redacted"),
    ],
)
def test_a_pictures_redaction_summary_reads_plainly(summary: dict[str, Any], shown: str) -> None:
    from veilcam.web.display import picture_row

    row = {"created_at": 0.0, "expires_at": 1.0, "redaction": json.dumps(summary)}
    assert picture_row(row)["covered"] == shown


async def test_hostile_requests_get_clear_errors(ui: tuple[App, FakeClock, Client]) -> None:
    app, _, client = ui
    c = await client("manager")
    assert (await c.get("/pictures/not-an-id.jpg")).status == 404
    big = await c.post("/login", data={"username": "x" * 200_000, "password": "y", "csrf": "z"})
    assert big.status == 413
    assert (await c.get("/api/temperatures?hours=lots")).status == 400
    nosuch = await c.get("/etc/passwd")
    assert nosuch.status == 404 and "X-Frame-Options" in nosuch.headers


async def test_machines_use_bearer_tokens_with_their_role(
    ui: tuple[App, FakeClock, Client],
) -> None:
    app, _, client = ui
    c = await client("admin")
    html = await (await c.get("/users")).text()
    r = await c.post(
        "/tokens", data={"name": "head-office", "role": "technician", "csrf": csrf_of(html)}
    )
    text = await r.text()
    token = re.search(r"(vc_[A-Za-z0-9_-]{20,})", text)
    assert r.status == 200 and token
    stored = await app.store.db.read(
        lambda db: db.conn.execute("SELECT token_hash FROM api_tokens").fetchone()[0]
    )
    assert token.group(1) not in stored  # only its hash is kept
    m = await client()
    auth = {"Authorization": f"Bearer {token.group(1)}"}
    assert (await m.get("/api/status", headers=auth)).status == 200
    assert (await m.get("/api/pictures", headers=auth)).status == 403  # a technician's token
    assert (await m.get("/api/status", headers={"Authorization": "Bearer vc_forged"})).status == 401
    assert (
        await m.get("/", headers=auth, allow_redirects=False)
    ).status == 302  # pages need a person
    assert ("ada", "token.create", "head-office") in await audit_rows(app)
    again = await c.post(
        "/tokens", data={"name": "head-office", "role": "auditor", "csrf": csrf_of(html)}
    )
    assert again.status == 400 and "already exists" in await again.text()


async def test_history_export_is_audited(ui: tuple[App, FakeClock, Client]) -> None:
    app, clock, client = ui
    now = clock.now()

    def rows(db):  # type: ignore[no-untyped-def]
        db.conn.execute(
            "INSERT INTO temperature_readings (received_at, seq, uptime_ms, probe, centi_c,"
            " expires_at) VALUES (?, 1, 1, 'p1', 412, ?)",
            (now - 60, now + 86400),
        )

    await app.store.db.write(rows)
    c = await client("technician")
    r = await c.get("/history.csv")
    text = await r.text()
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert (
        text.splitlines()[0] == "time,kind,probe_or_door,value" and ",temperature,p1,4.12" in text
    )
    assert ("tom", "export", "history.csv") in await audit_rows(app)
    assert "svg" in await (await c.get("/history")).text()


async def test_health_page_shows_models_disk_and_clock(ui: tuple[App, FakeClock, Client]) -> None:
    app, _, client = ui
    html = await (await (await client("technician")).get("/health")).text()
    assert "models" in html and "GiB" in html and "(clock " in html


async def test_acknowledging_an_alarm_needs_a_comment(ui: tuple[App, FakeClock, Client]) -> None:
    app, clock, client = ui
    now = clock.now()

    def alarm(db):  # type: ignore[no-untyped-def]
        db.conn.execute(
            "INSERT INTO alarms (subject, rule, level, opened_at, updated_at, message, expires_at)"
            " VALUES ('dairy', 'temperature', 'alarm', ?, ?, 'above 8.0 °C for 30 min', ?)",
            (now, now, now + 86400),
        )

    await app.store.db.write(alarm)
    c = await client("manager")
    html = await (await c.get("/alerts")).text()
    assert "above 8.0 °C for 30 min" in html and "Acknowledge" in html
    r = await c.post("/alarms/1/ack", data={"comment": "  ", "csrf": csrf_of(html)})
    assert r.status == 400 and "needs a comment" in await r.text()
    r = await c.post(
        "/alarms/1/ack",
        data={"comment": "stock moved", "csrf": csrf_of(html)},
        allow_redirects=False,
    )
    assert r.status == 302
    assert "maria: stock moved" in await (await c.get("/alerts")).text()
    assert ("maria", "alarm.ack", "1") in await audit_rows(app)
    tech = await (await client("technician")).get("/alerts")
    assert "Acknowledge" not in await tech.text()
