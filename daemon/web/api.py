"""The JSON API under /api/ (a session or a bearer token; the same role rules as pages)."""

from __future__ import annotations

import json

from aiohttp import web

from veilcam.alerts.records import list_job
from veilcam.errors import AccountError
from veilcam.faces import counting
from veilcam.store import status
from veilcam.tokens import DEFAULT_DAYS, Tokens
from veilcam.web import queries
from veilcam.web.common import ACTOR, app_of, client_ip


async def api_status(request: web.Request) -> web.Response:
    app = app_of(request)
    data = await app.store.db.read(lambda db: status.collect(db, app.data_dir, count_files=True))
    data["live"] = app.live_status()
    if served := app_of(request).tls:
        data["web_certificate_sha256"] = served.fingerprint
    return web.json_response(data)


async def api_pictures(request: web.Request) -> web.Response:
    camera = request.query.get("camera") or None
    rows = await app_of(request).store.db.read(queries.pictures_job, camera, None, None, 200)
    keep = (
        "id",
        "camera",
        "kind",
        "trigger",
        "created_at",
        "expires_at",
        "width",
        "height",
        "blank_reason",
    )
    return web.json_response([{k: r[k] for k in keep} for r in rows])


async def api_temperatures(request: web.Request) -> web.Response:
    try:
        hours = min(24 * 31, max(1, int(request.query.get("hours", "24"))))
    except ValueError:
        raise web.HTTPBadRequest(
            text='{"error": "hours must be a whole number"}', content_type="application/json"
        ) from None
    app = app_of(request)
    temps = await app.store.db.read(queries.temperatures_job, app.clock.now() - hours * 3600)
    return web.json_response(
        {p: [{"at": t, "centi_c": v} for t, v in pts] for p, pts in temps.items()}
    )


async def api_doors(request: web.Request) -> web.Response:
    app = app_of(request)
    return web.json_response(await app.store.db.read(queries.doors_job, app.clock.now() - 86400))


async def api_alarms(request: web.Request) -> web.Response:
    """Cold-chain alarms, newest first (?open=1: only those not closed)."""
    open_only = request.query.get("open", "") in ("1", "true", "yes")
    return web.json_response(await app_of(request).store.db.read(list_job, open_only))


async def api_counts(request: web.Request) -> web.Response:
    """Visitor counts per camera and 15 minutes (?camera=NAME, ?hours=N up to 744: the last
    N hours, 24 by default): in, out and staff not counted; numbers only."""
    app = app_of(request)
    camera = request.query.get("camera") or None
    names = [c.name for c in app.config.cameras if c.counting is not None]
    if camera is not None and camera not in names:
        raise _json_error(web.HTTPBadRequest, f"no counting camera named {camera[:40]!r}")
    try:
        hours = int(request.query.get("hours", "24"))
    except ValueError:
        raise _json_error(web.HTTPBadRequest, "hours must be a whole number") from None
    if not 1 <= hours <= 744:
        raise _json_error(web.HTTPBadRequest, "hours must be 1 to 744 (31 days)")
    since = app.clock.now() - hours * 3600
    rows = await app.store.db.read(counting.counts_job, camera, since)
    return web.json_response({"bucket_seconds": counting.BUCKET, "counts": rows})


def _json_error(status: type[web.HTTPException], text: str) -> web.HTTPException:
    return status(text=json.dumps({"error": text}), content_type="application/json")


async def api_tokens(request: web.Request) -> web.Response:
    """Machine tokens: name, role, maker, expiry, last use and state (never the token)."""
    return web.json_response(await Tokens(app_of(request).store).list())


async def api_tokens_add(request: web.Request) -> web.Response:
    """A new machine token (form: name, role, days); the token is in this answer only."""
    form = await request.post()
    try:
        days = int(str(form.get("days", DEFAULT_DAYS)))
        name, role = str(form.get("name", "")), str(form.get("role", ""))
        token = await Tokens(app_of(request).store).add(
            name, role, request[ACTOR], days, client_ip(request)
        )
    except (ValueError, AccountError) as exc:
        raise _json_error(web.HTTPBadRequest, str(exc)) from None
    return web.json_response({"name": name, "role": role, "days": days, "token": token})


async def api_tokens_revoke(request: web.Request) -> web.Response:
    """Revoke a machine token by name: it stops working at once."""
    name = request.match_info["name"]
    try:
        await Tokens(app_of(request).store).revoke(name, request[ACTOR], client_ip(request))
    except AccountError as exc:
        raise _json_error(web.HTTPNotFound, str(exc)) from None
    return web.json_response({"name": name, "revoked": True})
