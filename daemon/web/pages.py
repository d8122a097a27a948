"""The pages a store manager reads: dashboard, pictures (served only by the handler that
audits them), history and its CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

from aiohttp import web

from veilcam.durations import format_duration
from veilcam.errors import MediaIntegrityError
from veilcam.faces import counting
from veilcam.privacy import requests as privacy_requests
from veilcam.web import display, queries
from veilcam.web.common import (
    READERS,
    app_of,
    audit_request,
    render,
    session_of,
)
from veilcam.web.stock import fridge_names, fridge_view

MEDIA_ID = re.compile(r"^[0-9a-f]{32}$")


async def _visitors_today(app: Any, now: float) -> list[dict[str, Any]]:
    """Per counting camera: in, out and staff since local midnight (numbers only)."""
    names = [c.name for c in app.config.cameras if c.counting is not None]
    if not names:
        return []
    rows = await app.store.db.read(counting.counts_job, None, display.local_midnight(now))
    out = []
    for name in names:
        mine = [r for r in rows if r["camera"] == name]
        out.append(
            {
                "camera": name,
                "entered": sum(r["entered"] for r in mine),
                "exited": sum(r["exited"] for r in mine),
                "staff": sum(r["staff"] for r in mine),
                "unique": sum(r["unique_visitors"] or 0 for r in mine),
                "repeat": sum(r["repeat_visitors"] or 0 for r in mine),
                "dedup": any(r["unique_visitors"] is not None for r in mine),
            }
        )
    return out


async def dashboard(request: web.Request) -> web.Response:
    app = app_of(request)
    now = app.clock.now()
    latest = await app.store.db.read(queries.latest_per_camera_job)
    temps = await app.store.db.read(queries.temperatures_job, now - 86400)
    doors_today, door_state = await app.store.db.read(
        queries.door_summary_job, display.local_midnight(now)
    )
    settings = await app.store.db.read(queries.settings_job)
    health = app.health.snapshot()
    role = session_of(request).user.role
    cameras = [
        {
            "name": c.name,
            "purpose": c.purpose,
            "latest": latest.get(c.name) if role in READERS else None,
            "health": health.get(f"camera:{c.name}", {}).get("state", "unknown"),
        }
        for c in app.config.cameras
    ]
    probes = [
        {
            "name": probe,
            "now": display.show_temp(points[-1][1], settings["temperature_unit"]),
            "sparkline": display.svg_line(points[-300:], 200, 40, "spark"),
        }
        for probe, points in sorted(temps.items())
    ]
    return render(
        request,
        "dashboard.html",
        cameras=cameras,
        probes=probes,
        doors_today=doors_today,
        door_state=door_state,
        overall=app.health.overall(),
        stock=await stock_tiles(request),
        visitors=await _visitors_today(app, now),
        privacy=await privacy_tile(request) if role in READERS else None,
    )


async def privacy_tile(request: web.Request) -> dict[str, Any] | None:
    """Open shoppers' requests, and those due within the warning time or overdue."""
    app = app_of(request)
    if app.privacy is None:
        return None
    now, warn = app.clock.now(), app.config.privacy.warn_before
    due = await app.store.db.read(privacy_requests.due_job)
    urgent = [
        dict(r, due=display.when(r["due_at"]), overdue=r["due_at"] <= now)
        for r in due
        if r["due_at"] - now <= warn
    ]
    return {
        "open": len(due),
        "overdue": sum(r["overdue"] for r in urgent),
        "soon": sum(not r["overdue"] for r in urgent),
        "urgent": urgent,
        "warn": format_duration(warn),
    }


async def stock_tiles(request: web.Request) -> list[dict[str, Any]]:
    """Each fridge with a planogram: what its latest accepted still says, in one line."""
    out = []
    for camera in fridge_names(request):
        v = await fridge_view(request, camera)
        if not v["facings"]:
            continue
        latest = v["latest"] or {}
        counts = latest.get("summary", {}).get("counts", {})
        out.append(
            {
                "camera": camera,
                "compliance": latest.get("compliance"),
                "empty": counts.get("empty", 0),
                "wrong": counts.get("wrong_product", 0),
                "restock": len(v["restock"]),
                "why": v["restock_why"],
            }
        )
    return out


def _day(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return dt.datetime.strptime(value, "%Y-%m-%d").timestamp()
    except ValueError:
        raise web.HTTPBadRequest(text=f"not a date (YYYY-MM-DD): {value[:20]!r}") from None


async def gallery(request: web.Request) -> web.Response:
    app = app_of(request)
    camera = request.query.get("camera") or None
    names = [c.name for c in app.config.cameras]
    if camera is not None and camera not in names:
        raise web.HTTPBadRequest(text=f"no camera named {camera[:40]!r}")
    since, until = _day(request.query.get("from")), _day(request.query.get("to"))
    until = until + 86400 if until is not None else None
    pictures = await app.store.db.read(queries.pictures_job, camera, since, until)
    return render(
        request,
        "gallery.html",
        pictures=pictures,
        camera_names=names,
        camera=camera,
        date_from=request.query.get("from", ""),
        date_to=request.query.get("to", ""),
    )


async def media_row(request: web.Request, key: str, clip: bool) -> dict[str, Any]:
    """The row of the picture (or, with ``clip``, the research clip) a route names; a
    restricted one is refused, and the refusal audited."""
    what = "clip" if clip else "picture"
    media_id = request.match_info[key]
    if not MEDIA_ID.match(media_id):
        raise web.HTTPNotFound(text=f"no such {what}")
    row = await app_of(request).store.db.read(queries.picture_job, media_id)
    if row is None or (row["kind"] == "clip") != clip or row["kind"] == "evidence":
        raise web.HTTPNotFound(text=f"no such {what} (it may have expired or been erased)")
    if row["restricted_by"] is not None:
        await audit_request(request, f"{what}.view.refused", row["id"], "restricted")
        raise web.HTTPForbidden(
            text=f"this {what} is restricted by request {row['restricted_by']}: "
            "it is kept, but not shown, exported or analysed until the restriction is lifted"
        )
    return row


async def served_media(
    request: web.Request, row: dict[str, Any], what: str, content_type: str
) -> web.Response:
    """A picture or clip decrypted for the signed-in reader: the only way one is shown,
    each time audited, never cached."""
    try:
        data = await app_of(request).store.read_picture(row["id"])
    except MediaIntegrityError as exc:
        await audit_request(request, f"{what}.view.failed", row["id"], str(exc))
        raise web.HTTPInternalServerError(text=f"the {what} file is damaged") from None
    await audit_request(request, f"{what}.view", row["id"], row["camera"])
    return web.Response(body=data, content_type=content_type, headers={"Cache-Control": "no-store"})


async def picture_page(request: web.Request) -> web.Response:
    return render(request, "picture.html", p=await media_row(request, "media_id", clip=False))


async def picture_jpeg(request: web.Request) -> web.Response:
    """The only way a picture leaves the appliance's store: decrypted here, audited."""
    row = await media_row(request, "media_id", clip=False)
    return await served_media(request, row, "picture", "image/jpeg")


async def history(request: web.Request) -> web.Response:
    app = app_of(request)
    hours = 24
    now = app.clock.now()
    temps = await app.store.db.read(queries.temperatures_job, now - hours * 3600)
    doors = await app.store.db.read(queries.doors_job, now - hours * 3600)
    settings = await app.store.db.read(queries.settings_job)
    unit = settings["temperature_unit"]
    probes = [
        {
            "name": probe,
            "min": display.show_temp(min(v for _, v in pts), unit),
            "max": display.show_temp(max(v for _, v in pts), unit),
            "chart": display.svg_line(pts[-2000:], 800, 200, "chart", axes=True),
        }
        for probe, pts in sorted(temps.items())
    ]
    return render(request, "history.html", probes=probes, doors=doors, hours=hours)


async def history_csv(request: web.Request) -> web.Response:
    """The last 24 hours of temperatures and door events as CSV (an audited export)."""
    app = app_of(request)
    since = app.clock.now() - 86400
    temps = await app.store.db.read(queries.temperatures_job, since)
    doors = await app.store.db.read(queries.doors_job, since, 100_000)
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(["time", "kind", "probe_or_door", "value"])
    rows = [
        (t, "temperature", probe, f"{v / 100:.2f}") for probe, pts in temps.items() for t, v in pts
    ]
    rows += [(d["received_at"], "door", d["door"], d["state"]) for d in doors]
    for t, kind, what, value in sorted(rows):
        out.writerow([display.when(t), kind, what, value])
    await audit_request(request, "export", "history.csv", f"{len(rows)} rows")
    return web.Response(
        text=buf.getvalue(),
        content_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="veilcam-history.csv"'},
    )
