"""The web UI in a real browser (Debian's Chromium driven by Playwright) over HTTPS: sign in,
the dashboard updating live when a door opens, a picture, a setting, sign out; a manager kept
out of admin pages; an auditor unable to change anything; screenshots of the main pages at
phone and desktop width in test-artifacts/screenshots/."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.daemon import config_for, free_port
from tests.support.web import CABINET
from veilcam.accounts import Accounts
from veilcam.alerts.episodes import Transition
from veilcam.config import Config, WebConfig
from veilcam.runtime.context import App
from veilcam.runtime.supervisor import running
from veilcam.sensors.ingest import DoorEvent
from veilcam.web.app import serve

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PW = "correct horse battery"
REQUIRED = os.environ.get("VEILCAM_REQUIRE_BROWSER") == "1"  # CI installs Chromium

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM and not REQUIRED, reason="no chromium here (CI installs it and requires it)"
    ),
]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@contextlib.asynccontextmanager
async def served(
    config: Config, users: tuple[tuple[str, str], ...], camera: str
) -> AsyncIterator[tuple[App, str]]:
    """The daemon with ``users`` (name, role), one picture from ``camera``, and its web UI
    over HTTPS on a free port: (app, base URL)."""
    port = free_port()
    async with running(config) as app:
        acc = Accounts(app.store)
        for name, role in users:
            await acc.add(name, role, PW, actor="test")
        await app.pipeline.capture(camera, "manual")
        server = asyncio.create_task(serve(app, WebConfig(port=port)))
        for _ in range(200):
            try:
                _, w = await asyncio.open_connection("127.0.0.1", port)
                w.close()
                break
            except OSError:
                await asyncio.sleep(0.05)
        try:
            yield app, f"https://127.0.0.1:{port}"
        finally:
            server.cancel()
            await asyncio.gather(server, return_exceptions=True)


@pytest.fixture
async def site(data_dir: Path) -> AsyncIterator[tuple[App, str]]:
    users = (("ada", "admin"), ("maria", "manager"), ("aud", "auditor"))
    async with served(config_for(data_dir, CABINET), users, "fridge-1") as out:
        yield out


async def signed_in(
    browser: Any, base: str, user: str, width: int = 1280, height: int = 800
) -> Any:
    ctx = await browser.new_context(
        ignore_https_errors=True, viewport={"width": width, "height": height}
    )
    page = await ctx.new_page()
    await page.goto(base + "/")
    assert "/login" in page.url
    await page.fill("input[name=username]", user)
    await page.fill("input[name=password]", PW)
    await page.click("button[type=submit]")
    await page.wait_for_url(base + "/")
    return page


async def test_manager_day(site: tuple[App, str], browser: Any) -> None:
    app, base = site
    page = await signed_in(browser, base, "maria")
    assert await page.text_content("#door-state") == "unknown"
    # A door opens on the sensor board: the dashboard changes without a reload.
    now = app.clock.now()

    def door(db: Any) -> None:
        db.conn.execute(
            "INSERT INTO door_events (received_at, seq, uptime_ms, door, state, expires_at)"
            " VALUES (?, 1, 1, '1', 'open', ?)",
            (now, now + 86400),
        )

    await page.wait_for_timeout(500)  # the event stream is connected
    await app.store.db.write(door)
    app.doors.publish(DoorEvent("1", True, now))
    await page.wait_for_function("document.getElementById('door-state').textContent === 'open'")
    assert await page.text_content("#doors-today") == "1"
    # A cold-chain alarm opens: a banner says so at once, on whatever page is open.
    await page.click("nav >> text=History")
    await page.wait_for_timeout(500)
    assert await page.is_hidden("#live-alarm")
    app.alarm_changes.publish(
        Transition(
            "coldchain",
            "dairy",
            "temperature",
            "level",
            "alarm",
            now,
            9.1,
            "above 8.0 °C for 30 min",
        )
    )
    banner = page.locator("#live-alarm")
    await banner.wait_for(state="visible")
    text = await banner.text_content()
    assert text is not None and "ALARM: dairy temperature: above 8.0 °C for 30 min" in text
    # A picture, full size.
    await page.click("nav >> text=Pictures")
    await page.click(".gallery figure a")
    img = page.locator("img.full")
    await img.wait_for()
    assert await img.evaluate("i => i.complete && i.naturalWidth > 0")
    # Admin pages are not for a manager.
    response = await page.goto(base + "/users")
    assert response.status == 403 and "does not give access" in await page.content()
    # Sign out.
    await page.goto(base + "/")
    await page.click("text=Sign out")
    await page.wait_for_url(base + "/login")


async def test_admin_changes_a_setting(site: tuple[App, str], browser: Any) -> None:
    app, base = site
    page = await signed_in(browser, base, "ada")
    await page.goto(base + "/settings")
    await page.select_option("select[name=temperature_unit]", "F")
    await page.click("button:text('Save')")
    await page.wait_for_selector("text=saved: temperature_unit")
    rows = await app.store.db.read(
        lambda db: db.conn.execute(
            "SELECT action, object FROM audit_log WHERE actor = 'ada'"
        ).fetchall()
    )
    assert ("setting.change", "temperature_unit") in [tuple(r) for r in rows]


async def test_auditor_reads_but_cannot_change(site: tuple[App, str], browser: Any) -> None:
    app, base = site
    page = await signed_in(browser, base, "aud")
    await page.goto(base + "/audit")
    assert "chain intact" in await page.content()
    forms = await page.locator("main form").count()
    assert forms == 0  # nothing to submit on the auditor's pages
    for path in ("/settings", "/users"):
        response = await page.goto(base + path)
        assert response.status == 403


async def test_screenshots_at_phone_and_desktop_width(site: tuple[App, str], browser: Any) -> None:
    app, base = site
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, (w, h) in {"phone": (390, 844), "desktop": (1280, 800)}.items():
        page = await signed_in(browser, base, "ada", w, h)
        for name, path in (
            ("dashboard", "/"),
            ("pictures", "/pictures"),
            ("history", "/history"),
            ("alerts", "/alerts"),
            ("reports", "/reports"),
            ("health", "/health"),
            ("users", "/users"),
            ("settings", "/settings"),
        ):
            await page.goto(base + path)
            out = SHOTS / f"{name}-{label}.png"
            await page.screenshot(path=str(out), full_page=True)
            assert out.stat().st_size > 5000
            # Nothing wider than the screen on a phone.
            overflow = await page.evaluate(
                "document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 1, f"{name} at {label} width is {overflow}px wider than the screen"


async def test_technician_draws_a_facing_with_mouse_and_finger(
    site: tuple[App, str], browser: Any
) -> None:
    """The planogram editor: a facing drawn by dragging the mouse over the calibration
    picture, one by a finger (touch events), saved, and read back from the database."""
    from veilcam.demo import fridge
    from veilcam.stock import admin, queries
    from veilcam.stock.catalogue import Catalogue
    from veilcam.store.references import References

    app, base = site
    await Accounts(app.store).add("tom", "technician", PW, actor="test")
    await admin.import_catalogue(app.store, Catalogue(fridge.PRODUCTS, []), "test")
    References(app.data_dir).save("fridge-1", fridge.stocked())
    page = await signed_in(browser, base, "tom")
    await page.goto(base + "/stock/fridge-1/planogram")
    await page.select_option("#facing-sku", "VC-MILK-2")
    await page.fill("#facing-capacity", "3")
    canvas = page.locator("#planogram-canvas")
    await canvas.scroll_into_view_if_needed()
    box = await canvas.bounding_box()  # where it is now, after the form scrolled the page
    assert box is not None
    x, y = box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.1
    await page.mouse.move(x, y)
    await page.mouse.down()
    await page.mouse.move(x + box["width"] * 0.2, y + box["height"] * 0.15, steps=5)
    await page.mouse.up()
    assert await page.text_content("#planogram-count") == "1 facing(s)"
    # a finger, on a touch screen: pointer events from touches
    await page.evaluate(
        """([x0, y0, x1, y1]) => {
            const c = document.getElementById('planogram-canvas');
            const ev = (type, x, y) => c.dispatchEvent(new PointerEvent(type, {
                pointerId: 7, pointerType: 'touch', clientX: x, clientY: y, bubbles: true}));
            ev('pointerdown', x0, y0); ev('pointermove', (x0 + x1) / 2, y1);
            ev('pointermove', x1, y1); ev('pointerup', x1, y1);
        }""",
        [
            box["x"] + box["width"] * 0.5,
            box["y"] + box["height"] * 0.5,
            box["x"] + box["width"] * 0.7,
            box["y"] + box["height"] * 0.7,
        ],
    )
    assert await page.text_content("#planogram-count") == "2 facing(s)"
    await page.click("#planogram-form button[type=submit]")
    await page.wait_for_selector("text=saved 2 facing(s)")
    saved = await app.store.db.read(queries.facings_job, "fridge-1")
    assert [(f.sku, f.capacity, f.shelf) for f in saved] == [
        ("VC-MILK-2", 3, 1),
        ("VC-MILK-2", 3, 1),
    ]
    x0, y0 = saved[0].polygon[0]
    assert abs(x0 - 0.1) < 0.02 and abs(y0 - 0.1) < 0.02
    assert abs(saved[0].polygon[2][0] - 0.3) < 0.02
    assert [f.position for f in saved] == [1, 2]
