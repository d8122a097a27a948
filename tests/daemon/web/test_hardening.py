"""Issue 14's findings against the web UI, one regression test each: every one of these
failed on the code the outside probe found them in."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from tests.support.web import PW, csrf_of, sign_in
from veilcam.clock import FakeClock
from veilcam.runtime.context import App
from veilcam.web.auth import safe_next

Client = Callable[..., Awaitable[TestClient]]
UI = tuple[App, FakeClock, Client]


@contextlib.asynccontextmanager
async def from_address(c: TestClient, address: str) -> AsyncIterator[aiohttp.ClientSession]:
    """A browser on another address (loopback has all of 127/8) to the same server."""
    base = str(c.make_url("/"))
    async with aiohttp.ClientSession(
        base_url=base,
        connector=aiohttp.TCPConnector(local_addr=(address, 0)),
        cookie_jar=aiohttp.CookieJar(unsafe=True),
    ) as session:
        yield session


async def sign_in_as(s: Any, username: str, password: str = PW) -> aiohttp.ClientResponse:
    page = await s.get("/login")
    token = csrf_of(await page.text())
    return await s.post(  # type: ignore[no-any-return]
        "/login",
        data={"username": username, "password": password, "csrf": token, "next": "/"},
        allow_redirects=False,
    )


async def audit_rows(app: App) -> list[tuple[str, str, str | None, str | None]]:
    rows = await app.store.db.read(
        lambda db: db.conn.execute(
            "SELECT actor, action, object, detail FROM audit_log ORDER BY id"
        ).fetchall()
    )
    return [tuple(r) for r in rows]


# -- 1: open redirect -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example",
        "/%09/evil.example",
        "/\r\n/evil.example",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "/\x00//evil.example",
        "/ä/",
    ],
)
def test_next_never_leaves_the_site(target: str) -> None:
    from urllib.parse import unquote

    for value in (target, unquote(target)):
        assert safe_next(value) in ("/", value)
        kept = safe_next(value)
        assert not re.match(r"^[/\\\s]*[/\\]", kept[1:] if kept.startswith("/") else kept)


def test_next_keeps_paths_on_the_site() -> None:
    assert safe_next("/alerts?open=1") == "/alerts?open=1"
    assert safe_next("/reports/2026-01-01.pdf") == "/reports/2026-01-01.pdf"


async def test_sign_in_with_a_tab_in_next_stays_on_the_site(ui: UI) -> None:
    _, _, client = ui
    c = await client()
    page = await c.get("/login?next=/%09/evil.example")
    r = await c.post(
        "/login",
        data={
            "username": "maria",
            "password": PW,
            "csrf": csrf_of(await page.text()),
            "next": "/\t/evil.example",
        },
        allow_redirects=False,
    )
    assert r.status == 302 and r.headers["Location"] == "/"


# -- 3: no lockout a stranger can trigger; the same answer for every failure --------------


async def test_a_guesser_cannot_lock_the_user_out_from_elsewhere(ui: UI) -> None:
    app, clock, client = ui
    c = await client()
    async with from_address(c, "127.0.0.2") as guesser, from_address(c, "127.0.0.3") as user:
        answers = set()
        for name in ("maria", "maria", "nosuchuser", "maria", "maria"):
            r = await sign_in_as(guesser, name, "wrong password!!")
            assert r.status == 401
            answers.add(re.search(r'role="alert">([^<]*)</p>', await r.text())[1])
        assert len(answers) == 1 and "locked" not in answers.pop()
        # The sixth guess waits a second (on the appliance's clock) before it is checked.
        sixth = asyncio.ensure_future(sign_in_as(guesser, "maria", "wrong password!!"))
        await asyncio.sleep(0.3)
        assert not sixth.done()
        # Meanwhile the real user, elsewhere, signs in at once.
        assert (await sign_in_as(user, "maria")).status == 302
        clock.advance(1.0)
        assert (await sixth).status == 401
        # Guesses that would wait past the longest delay are refused at once, with the wait.
        waiting = [
            asyncio.ensure_future(sign_in_as(guesser, "maria", "wrong password!!"))
            for _ in range(8)
        ]
        await asyncio.sleep(0.5)
        done = [t for t in waiting if t.done()]
        assert done and all(t.result().status == 429 for t in done)
        assert all("Retry-After" in t.result().headers for t in done)
        clock.advance(600)
        await asyncio.gather(*waiting)
    rows = await audit_rows(app)
    failed = [r for r in rows if r[1] == "login.failed"]
    assert ("(unknown name)", "login.failed", "(unknown name)", "unknown user") in failed
    assert not any("nosuchuser" in str(r) for r in rows)  # names typed are not written down


# -- 7: a password change ends the other sessions; events end with the session ------------


async def test_a_password_change_ends_every_other_session(ui: UI) -> None:
    _, _, client = ui
    laptop, phone = await client("manager"), await client("manager")
    old_cookie = laptop.session.cookie_jar.filter_cookies(laptop.make_url("/"))
    html = await (await laptop.get("/password")).text()
    r = await laptop.post(
        "/password",
        data={"old": PW, "new": "a brand new password", "csrf": csrf_of(html)},
        allow_redirects=False,
    )
    assert r.status == 302 and "veilcam_session" in r.cookies
    assert r.cookies["veilcam_session"].value != old_cookie["veilcam_session"].value
    assert (await laptop.get("/", allow_redirects=False)).status == 200
    assert (await phone.get("/", allow_redirects=False)).status == 302  # signed out


async def test_the_event_stream_ends_at_sign_out(ui: UI) -> None:
    _, clock, client = ui
    c = await client("manager")
    html = await (await c.get("/")).text()
    stream = await c.get("/events")
    assert stream.status == 200
    out = await c.post("/logout", data={"csrf": csrf_of(html)}, allow_redirects=False)
    assert out.status == 302
    clock.advance(10)  # the stream checks its session every few seconds of the clock
    body = await asyncio.wait_for(stream.content.read(), timeout=10)  # ends: no timeout
    assert b"event: signedout" in body


# -- 8: NUL in a user name -----------------------------------------------------------------


async def test_a_user_name_with_a_nul_byte_is_refused(ui: UI) -> None:
    app, _, client = ui
    c = await client("admin")
    html = await (await c.get("/users")).text()
    r = await c.post(
        "/users",
        data={"username": "admin\x00\x1b[2J", "role": "manager", "password": PW + "x"},
        headers={},
        allow_redirects=False,
    )
    assert r.status == 403  # no CSRF: refused before anything
    r = await c.post(
        "/users",
        data={
            "username": "tom2\x00\x1b[2J",
            "role": "manager",
            "password": PW + "x",
            "csrf": csrf_of(html),
        },
    )
    assert r.status == 400 and "user names are" in await r.text()
    names = await app.store.db.read(
        lambda db: [r[0] for r in db.conn.execute("SELECT username FROM users")]
    )
    assert not any("\x00" in n for n in names)


# -- 10: inputs that gave 500s -------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/reports?date=9999-12-31",
        "/reports?date=0001-01-01",
        "/reports/9999-12-31.csv",
        "/reports/0001-01-01.pdf",
    ],
)
async def test_calendar_ends_are_a_clear_400(ui: UI, url: str) -> None:
    _, _, client = ui
    c = await client("manager")
    r = await c.get(url)
    assert r.status == 400 and "reports cover" in await r.text()
    assert r.headers["X-Frame-Options"] == "DENY"


async def test_enabling_a_third_admin_is_a_clear_400(ui: UI) -> None:
    app, _, client = ui
    from veilcam.accounts import Accounts

    acc = Accounts(app.store)
    await acc.add("bea", "admin", PW, actor="test")
    await acc.set_disabled("bea", True, actor="test")
    await acc.add("cyd", "admin", PW, actor="test")
    c = await client("admin")
    html = await (await c.get("/users")).text()
    r = await c.post("/users/bea/enable", data={"csrf": csrf_of(html)}, allow_redirects=False)
    assert r.status == 400 and "two active administrators" in await r.text()
    assert r.headers["Content-Security-Policy"]


# -- 4: tokens list, revoke, expire, and go with their maker -------------------------------


async def _make_token(c: TestClient, name: str, days: int = 90) -> str:
    html = await (await c.get("/users")).text()
    r = await c.post(
        "/tokens",
        data={"name": name, "role": "auditor", "days": str(days), "csrf": csrf_of(html)},
    )
    m = re.search(r"(vc_[A-Za-z0-9_-]{20,})", await r.text())
    assert r.status == 200 and m
    return m.group(1)


async def test_tokens_are_listed_revoked_and_expire(ui: UI) -> None:
    app, clock, client = ui
    admin = await client("admin")
    revoked, expiring = await _make_token(admin, "screen"), await _make_token(admin, "office", 1)
    m = await client()

    async def status(token: str) -> int:
        r = await m.get("/api/status", headers={"Authorization": f"Bearer {token}"})
        return r.status

    assert await status(revoked) == 200 and await status(expiring) == 200
    listed = await (await admin.get("/api/tokens")).json()
    assert {t["name"]: t["state"] for t in listed} == {"screen": "live", "office": "live"}
    assert all("token" not in t and "token_hash" not in t for t in listed)
    html = await (await admin.get("/users")).text()
    r = await admin.post(
        "/tokens/screen/revoke", data={"csrf": csrf_of(html)}, allow_redirects=False
    )
    assert r.status == 302
    assert await status(revoked) == 401
    clock.advance(86400 + 1)
    assert await status(expiring) == 401
    admin = await client("admin")  # the old session idled out meanwhile
    listed = await (await admin.get("/api/tokens")).json()
    assert {t["name"]: t["state"] for t in listed} == {"screen": "revoked", "office": "expired"}
    assert ("ada", "token.revoke", "screen", None) in await audit_rows(app)
    html = await (await admin.get("/users")).text()
    too_long = await admin.post(
        "/tokens", data={"name": "x-ray", "role": "auditor", "days": "400", "csrf": csrf_of(html)}
    )
    assert too_long.status == 400 and "1 to 365 days" in await too_long.text()


async def test_a_token_goes_with_the_user_who_made_it(ui: UI) -> None:
    app, _, client = ui
    from veilcam.accounts import Accounts

    await Accounts(app.store).add("bea", "admin", PW, actor="test")
    bea = await client()
    assert (await sign_in(bea, "bea")).status == 302
    token = await _make_token(bea, "kiosk")
    m = await client()
    auth = {"Authorization": f"Bearer {token}"}
    assert (await m.get("/api/status", headers=auth)).status == 200
    await Accounts(app.store).set_disabled("bea", True, actor="ada")
    assert (await m.get("/api/status", headers=auth)).status == 401


# -- 13: what a stranger learns ------------------------------------------------------------


async def test_the_server_header_names_no_versions(ui: UI) -> None:
    _, _, client = ui
    c = await client()
    for url in ("/login", "/nosuch", "/static/style.css", "/api/status"):
        r = await c.get(url, allow_redirects=False)
        assert r.headers.get("Server") == "veilcam", url


async def test_a_bug_still_answers_with_the_security_headers(
    ui: UI, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _, client = ui
    c = await client("manager")

    def broken() -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(app, "live_status", broken)
    r = await c.get("/api/status")
    assert r.status == 500 and (await r.json())["error"].startswith("internal error")
    assert r.headers["X-Frame-Options"] == "DENY" and "a bug" not in await r.text()
