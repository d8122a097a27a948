"""What needs attention now: parts not healthy, sensor-line faults, alarms to acknowledge."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from veilcam.alerts.records import acknowledge, list_job
from veilcam.errors import AccountError
from veilcam.web import display, queries
from veilcam.web.common import (
    ACKERS,
    ACTOR,
    app_of,
    client_ip,
    render,
    session_of,
)


async def alerts_page(request: web.Request, **extra: Any) -> web.Response:
    """What needs attention now: parts not healthy, and the sensor line's recent faults."""
    app = app_of(request)
    problems = {
        k: v for k, v in app.health.snapshot().items() if v["state"] not in ("ok", "stopped")
    }

    alarms = [
        dict(
            a,
            opened=display.when(a["opened_at"]),
            closed=display.when(a["closed_at"]) if a["closed_at"] else "",
        )
        for a in await app.store.db.read(list_job, False, 200)
    ]
    can_ack = session_of(request).user.role in ACKERS
    return render(
        request,
        "alerts.html",
        problems=problems,
        faults=await app.store.db.read(queries.faults_job),
        alarms=alarms,
        can_ack=can_ack,
        **extra,
    )


async def alarm_ack(request: web.Request) -> web.StreamResponse:
    """Acknowledge an alarm: the comment says what was done; audited."""
    form = await request.post()
    app = app_of(request)
    try:
        await acknowledge(
            app.store,
            int(request.match_info["alarm_id"]),
            request[ACTOR],
            str(form.get("comment", "")),
            client_ip(request),
            app.mirror,
        )
    except AccountError as exc:
        page = await alerts_page(request, error=str(exc))
        page.set_status(400)
        return page
    if app.publisher is not None:
        app.publisher.wake.set()
    raise web.HTTPFound("/alerts")
