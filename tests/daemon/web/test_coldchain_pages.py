"""The cold-chain pages: a day's report on screen and as audited CSV/PDF downloads, and
per-cabinet limits on the settings page, refused beyond the profile's ceiling."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient

from tests.support.web import csrf_of
from veilcam.clock import FakeClock
from veilcam.coldchain.report import day_bounds
from veilcam.runtime.context import App

UI = tuple[App, FakeClock, Callable[..., Awaitable[TestClient]]]


async def _readings(app: App, day: Any, values: list[float]) -> None:
    start, _ = day_bounds(day)

    def insert(db: Any) -> None:
        db.conn.executemany(
            "INSERT INTO temperature_readings (received_at, seq, uptime_ms, probe, centi_c,"
            " expires_at) VALUES (?, ?, 0, '1', ?, ?)",
            [
                (start + 3600 + 60 * i, i, round(v * 100), start + 10**8)
                for i, v in enumerate(values)
            ],
        )

    await app.store.db.write(insert)


async def _audits(app: App, action: str) -> list[Any]:
    return await app.store.db.read(
        lambda db: db.conn.execute(
            "SELECT actor, object FROM audit_log WHERE action = ?", (action,)
        ).fetchall()
    )


async def test_report_page_and_audited_downloads(ui: UI) -> None:
    import datetime as dt

    app, _, client = ui
    day = dt.date(2025, 12, 30)
    await _readings(app, day, [4.0] * 10 + [6.5] * 12 + [3.0] * 5)  # 12 minutes warm
    c = await client("technician")
    page = await c.get("/reports", params={"date": "2025-12-30"})
    html = await page.text()
    assert page.status == 200 and "dairy" in html
    assert "6.5 °C" in html and "12 min" in html and "01:10" in html  # max, excursion start
    csv_resp = await c.get("/reports/2025-12-30.csv")
    assert csv_resp.status == 200 and csv_resp.content_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO(await csv_resp.text())))
    summary = next(r for r in rows if r["record"] == "summary")
    assert summary["max_c"] == "6.50" and summary["out_of_range_s"] == "720"
    pdf = await c.get("/reports/2025-12-30.pdf")
    assert pdf.status == 200 and (await pdf.read()).startswith(b"%PDF")
    assert 'filename="coldchain-store-2025-12-30.pdf"' in pdf.headers["Content-Disposition"]
    exports = await _audits(app, "export")
    assert ("tom", "coldchain-store-2025-12-30.csv") in [tuple(r) for r in exports]
    assert ("tom", "coldchain-store-2025-12-30.pdf") in [tuple(r) for r in exports]
    bad = await c.get("/reports", params={"date": "30/12/2025"})
    assert bad.status == 400 and "not a date like" in await bad.text()


async def test_cabinet_limits_are_set_in_settings_within_the_ceiling(ui: UI) -> None:
    app, _, client = ui
    assert app.alarms is not None
    c = await client("admin")
    page = await c.get("/settings")
    html = await page.text()
    assert 'name="cabinet.dairy.warn_above" value="5"' in html

    async def post(**fields: str) -> Any:
        token = csrf_of(await (await c.get("/settings")).text())
        data = {"temperature_unit": "C", "alert_email": "", "csrf": token}
        return await c.post("/settings", data=data | fields)

    r = await post(**{"cabinet.dairy.warn_above": "4", "cabinet.dairy.alarm_above": "7,5"})
    assert (
        r.status == 200
        and "saved: cabinet.dairy.warn_above, cabinet.dairy.alarm_above" in await r.text()
    )
    lim = app.alarms.limits("dairy")
    assert (lim.warn_above, lim.alarm_above) == (4.0, 7.5)
    changes = await _audits(app, "setting.change")
    assert ("ada", "cabinet.dairy.alarm_above") in [tuple(x) for x in changes]
    # A chiller's alarm above the 8 °C legal limit is refused, and nothing changes.
    r = await post(**{"cabinet.dairy.warn_above": "3", "cabinet.dairy.alarm_above": "9"})
    assert r.status == 400 and "may not be above 8.0 °C" in await r.text()
    r = await post(**{"cabinet.dairy.warn_above": "warm"})
    assert r.status == 400 and "is not a number" in await r.text()
    lim = app.alarms.limits("dairy")
    assert (lim.warn_above, lim.alarm_above) == (4.0, 7.5)
    # Kept: a new alarm service (a restart) starts from the limits set here.
    stored = await app.store.db.read(
        lambda db: dict(
            db.conn.execute("SELECT key, value FROM settings WHERE key LIKE 'cabinet.%'")
        )
    )
    assert stored == {"cabinet.dairy.warn_above": "4", "cabinet.dairy.alarm_above": "7.5"}


async def test_alarms_in_the_json_api(ui: UI) -> None:
    from veilcam.alerts.episodes import Transition
    from veilcam.alerts.records import record_job

    app, clock, client = ui
    now = clock.now()
    opened = Transition(
        "coldchain", "dairy", "door_open", "open", "warning", now, 200.0, "door open for 3 min"
    )
    closed = Transition(
        "coldchain", "dairy", "door_open", "close", "warning", now + 60, None, "door closed"
    )
    await app.store.db.write(record_job, opened, now + 86400)
    await app.store.db.write(record_job, closed, now + 86400)
    await app.store.db.write(
        record_job,
        Transition("coldchain", "dairy", "sensor_silent", "open", "alarm", now, None, "silent"),
        now + 86400,
    )
    c = await client("auditor")
    every = await (await c.get("/api/alarms")).json()
    assert {a["rule"] for a in every} == {"door_open", "sensor_silent"}
    still = await (await c.get("/api/alarms", params={"open": "1"})).json()
    assert [a["rule"] for a in still] == ["sensor_silent"] and still[0]["level"] == "alarm"
