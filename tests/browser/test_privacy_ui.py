"""The privacy operations in a real browser: a shopper's request recorded at the counter and
found in the register; a feature proposed by one administrator that only the other can
approve; a breach's 72-hour countdown on every page, running down by itself; and the
public notice read on a phone without signing in. Screenshots in test-artifacts/."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_ui import CHROMIUM, REQUIRED, SHOTS, served, signed_in
from tests.support.daemon import DEMO_ASSETS, config_for
from tests.support.web import CABINET
from veilcam.runtime.context import App

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM and not REQUIRED, reason="no chromium here (CI installs it and requires it)"
    ),
]
FLOOR = (
    '[[cameras]]\nname = "floor-1"\npurpose = "floor"\n'
    f'source = {{ kind = "replay", path = "{DEMO_ASSETS / "floor"}" }}\n'
    '[privacy]\ncontroller = "Bakkerij Jansen B.V., Dorpsstraat 12, Ergens"\n'
    'contact = "privacy@jansen.example"\n'
)


@pytest.fixture
async def site(data_dir: Path) -> AsyncIterator[tuple[App, str]]:
    users = (("ada", "admin"), ("ben", "admin"), ("maria", "manager"))
    async with served(config_for(data_dir, CABINET + FLOOR), users, "floor-1") as out:
        yield out


async def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def test_a_request_taken_at_the_counter_is_in_the_register(
    site: tuple[App, str], browser: Any
) -> None:
    app, base = site
    page = await signed_in(browser, base, "maria")
    await page.goto(base + "/requests")
    await page.select_option("select[name=kind]", "erasure")
    await page.select_option("select[name=channel]", "counter")
    await page.fill("input[name=identity_check]", "showed the receipt of the visit")
    await page.fill("textarea[name=description]", "green coat, at the bread shelf at noon")
    await page.check("input[name=cameras][value=floor-1]")
    now = app.clock.now()
    await page.fill("input[name=from]", _local(now - 1800))
    await page.fill("input[name=to]", _local(now + 60))
    await page.click("form[action='/requests'] button[type=submit]")
    await page.wait_for_url(re.compile(r"/requests/\d+$"))
    text = await page.inner_text("main")
    assert "erasure" in text and "green coat" in text
    await page.goto(base + "/requests")
    row = await page.inner_text("table tr:nth-child(2)")
    assert "erasure" in row and "counter" in row and "open" in row
    await shot(page, "privacy-requests-desktop")


async def test_the_other_administrator_approves(site: tuple[App, str], browser: Any) -> None:
    app, base = site
    ada = await signed_in(browser, base, "ada")
    await ada.goto(base + "/gates")
    await ada.select_option("select[name=feature]", "research")
    await ada.fill("input[name=legal_basis]", "consent of the study's participants")
    await ada.fill("input[name=purpose]", "how shoppers reach at the bread shelf")
    await ada.fill("input[name=dpia_ref]", "DPIA-2026-07")
    await ada.fill("input[name=signage]", "A4 notices at both entrances")
    await ada.check("input[name=signage_posted]")
    await ada.click("form[action='/gates'] button[type=submit]")
    await ada.wait_for_selector("text=gate #1 proposed")
    assert await ada.locator("form[action='/gates/1/approve']").count() == 0
    assert "Waiting for the other administrator" in await ada.inner_text("main")
    # Even a forged form from the proposer's own session is refused.
    await ada.evaluate(
        """() => { const f = document.createElement('form'); f.method = 'post';
        f.action = '/gates/1/approve'; const c = document.createElement('input');
        c.name = 'csrf'; c.value = document.querySelector('input[name=csrf]').value;
        f.appendChild(c); document.body.appendChild(f); f.submit(); }"""
    )
    await ada.wait_for_selector("text=cannot approve it")
    assert app.privacy is not None and "research" not in app.privacy.open_gates

    ben = await signed_in(browser, base, "ben")
    await ben.goto(base + "/gates")
    await shot(ben, "privacy-gates-desktop")
    await ben.click("form[action='/gates/1/approve'] button")
    await ben.wait_for_selector("text=research approved")
    assert "research" in app.privacy.open_gates
    await ada.goto(base + "/gates")
    assert "approved" in await ada.inner_text("section.gate") and "by ben" in await ada.inner_text(
        "section.gate"
    )
    await ada.goto(base + "/privacy")
    assert "Research study: proposed by ada, approved by ben" in await ada.inner_text("main")


async def test_the_breach_countdown_runs_on_every_page(site: tuple[App, str], browser: Any) -> None:
    app, base = site
    page = await signed_in(browser, base, "maria")
    await page.clock.install()
    await page.goto(base + "/breaches")
    await page.fill("input[name=discovered]", _local(app.clock.now() - 70 * 3600))
    await page.fill("input[name=summary]", "a USB stick with an export went missing")
    await page.fill("textarea[name=affected]", "12 captioned floor pictures, people redacted")
    await page.click("form[action='/breaches'] button[type=submit]")
    for path in ("/", "/pictures", "/history", "/requests"):
        await page.goto(base + path)
        banner = page.locator("p.breach .countdown")
        assert re.fullmatch(r"(1|2) h \d+ min left", await banner.inner_text()), path
    before = _minutes(await banner.inner_text())
    # The page's own clock, an hour on: the countdown's timer fires, no reload. (Polling
    # a predicate in the page would need eval, which the UI's CSP rightly refuses.)
    await page.clock.fast_forward("01:00:00")
    after = _minutes(await banner.inner_text())
    assert 55 <= before - after <= 65, (before, after)
    await page.clock.fast_forward("03:00:00")
    assert _minutes(await banner.inner_text()) < 0
    assert "state-error" in (await banner.get_attribute("class") or "")
    await shot(page, "privacy-breach-countdown-desktop")

    ada = await signed_in(browser, base, "ada")
    await ada.goto(base + "/breaches")
    await ada.fill("input[name=reference]", "AP-2026-0042")
    await ada.click("form[action$='/notified'] button")
    await ada.goto(base + "/")
    assert await ada.locator("p.breach").count() == 0


async def test_the_public_notice_on_a_phone(site: tuple[App, str], browser: Any) -> None:
    _, base = site
    ctx = await browser.new_context(
        ignore_https_errors=True, viewport={"width": 390, "height": 844}, locale="nl-NL"
    )
    page = await ctx.new_page()
    await page.goto(base + "/privacy")
    assert "/login" not in page.url
    text = await page.inner_text("main")
    assert "Camera's in deze winkel" in text and "Bakkerij Jansen B.V." in text
    assert "binnen 7 dagen" in text
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the notice is {overflow}px wider than a phone"
    await shot(page, "privacy-notice-phone-nl")
    await page.click("a[hreflang=en]")
    assert "Your rights" in await page.inner_text("main")
    await shot(page, "privacy-notice-phone-en")
    async with page.expect_download() as dl:
        await page.evaluate(
            "() => { const a = document.createElement('a'); a.href = '/privacy/notice.pdf';"
            " a.download = 'notice.pdf'; document.body.appendChild(a); a.click(); }"
        )
    path = await (await dl.value).path()
    assert (await asyncio.to_thread(Path(path).read_bytes))[:5] == b"%PDF-"


def _minutes(countdown: str) -> int:
    """Minutes left in "H h MM min left" (negative when overdue)."""
    m = re.fullmatch(r"(\d+) h (\d+) min (left|overdue)", countdown)
    assert m, countdown
    minutes = int(m[1]) * 60 + int(m[2])
    return minutes if m[3] == "left" else -minutes


def _local(t: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(t).astimezone().strftime("%Y-%m-%dT%H:%M")
