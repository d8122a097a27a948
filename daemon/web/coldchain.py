"""Cold-chain pages: daily reports (on screen, and as audited CSV and PDF downloads) and
per-cabinet limits on the settings page, checked against each profile's ceiling."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from aiohttp import web

from veilcam.alerts.episodes import duration_text
from veilcam.coldchain import report
from veilcam.config import check_limits
from veilcam.errors import ConfigError
from veilcam.web.common import app_of, audit_request, render
from veilcam.web.queries import put_setting_job


def _day(text: str | None, now: float) -> dt.date:
    try:
        return report.parse_day(text, now)
    except ValueError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None


async def _build(request: web.Request, day: dt.date) -> report.Report:
    app = app_of(request)
    return await app.store.db.read(report.build, app.config.site, app.config.cabinets, day)


async def reports_page(request: web.Request) -> web.Response:
    app = app_of(request)
    day = _day(request.query.get("date"), app.clock.now())
    rep = await _build(request, day)
    cabinets = [
        {
            "name": c.cabinet,
            "profile": c.profile,
            "limit": f"{c.limit:.1f} °C",
            "readings": c.readings,
            "min": "" if c.minimum is None else f"{c.minimum:.1f} °C",
            "max": "" if c.maximum is None else f"{c.maximum:.1f} °C",
            "mean": "" if c.mean is None else f"{c.mean:.1f} °C",
            "out_of_range": duration_text(c.out_of_range),
            "brief": c.brief_excursions,
            "doors": "no switch"
            if c.door_openings is None
            else f"{c.door_openings} ({duration_text(c.door_open_time)} open)",
            "excursions": [report.excursion_text(e) for e in c.excursions],
        }
        for c in rep.cabinets
    ]
    return render(request, "reports.html", day=day.isoformat(), cabinets=cabinets)


async def report_file(request: web.Request) -> web.Response:
    """The day's report as CSV or PDF: an audited export."""
    app = app_of(request)
    day = _day(request.match_info["day"], app.clock.now())
    fmt = request.match_info["fmt"]
    rep = await _build(request, day)
    if fmt == "csv":
        body, ctype = report.to_csv(rep).encode(), "text/csv"
    else:
        # fpdf2 loads with the first PDF asked for, not with the daemon (report_pdf says why).
        from veilcam.coldchain.report_pdf import to_pdf

        body, ctype = await asyncio.to_thread(to_pdf, rep), "application/pdf"
    name = f"coldchain-{app.config.site}-{day.isoformat()}.{fmt}"
    await audit_request(request, "export", name, f"{len(rep.cabinets)} cabinet(s)")
    return web.Response(
        body=body,
        content_type=ctype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def cabinet_limits(request: web.Request) -> list[dict[str, Any]]:
    """Each cabinet's limits as the alarm service applies them now, for the settings page."""
    app = app_of(request)
    if app.alarms is None:
        return []
    out = []
    for cab in app.config.cabinets:
        lim = app.alarms.limits(cab.name)
        out.append(
            {
                "name": cab.name,
                "profile": cab.profile,
                "warn_above": f"{lim.warn_above:g}",
                "alarm_above": f"{lim.alarm_above:g}",
            }
        )
    return out


async def save_limits(request: web.Request, form: Any, actor: str) -> list[str]:
    """Apply and keep the limits posted from the settings page; returns the changed keys.
    Raises ConfigError naming the first refused value; nothing is changed then."""
    app = app_of(request)
    if app.alarms is None:
        return []
    wanted: list[tuple[str, float, float]] = []
    for cab in app.config.cabinets:
        lim = app.alarms.limits(cab.name)
        values = []
        for key, current in (("warn_above", lim.warn_above), ("alarm_above", lim.alarm_above)):
            raw = str(form.get(f"cabinet.{cab.name}.{key}", current)).strip().replace(",", ".")
            try:
                values.append(float(raw))
            except ValueError:
                raise ConfigError(
                    f"cabinet {cab.name}: {key} {raw[:20]!r} is not a number"
                ) from None
        if values != [lim.warn_above, lim.alarm_above]:
            wanted.append((cab.name, values[0], values[1]))
    for name, warn, alarm in wanted:  # check them all before changing any
        profile = next(c.profile for c in app.config.cabinets if c.name == name)
        if (why := check_limits(profile, warn, alarm)) is not None:
            raise ConfigError(f"cabinet {name}: {why}")
    changed = []
    now = app.clock.now()
    for name, warn, alarm in wanted:
        old = app.alarms.limits(name)
        app.alarms.set_limits(name, warn, alarm)
        for key, value, before in (
            ("warn_above", warn, old.warn_above),
            ("alarm_above", alarm, old.alarm_above),
        ):
            if value != before:
                k = f"cabinet.{name}.{key}"
                await app.store.db.write(put_setting_job, k, f"{value:g}", now, actor)
                await audit_request(request, "setting.change", k, f"{before:g} -> {value:g}")
                changed.append(k)
    return changed
