"""The web UI and JSON API: aiohttp, server-rendered pages, HTTPS by default.

Every route has an access rule in ``ACCESS`` (``None``: public; else the roles allowed); the
access middleware refuses a route without one, so a new page cannot be published by
accident. Pages without a session redirect to the sign-in page, the API answers 401; a
role without access gets 403. Forms carry the session's CSRF token; pictures are served
only by the handler that audits them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import secrets
import shutil
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import aiohttp_jinja2
import jinja2
from aiohttp import web

from veilcam import webui
from veilcam.accounts import Accounts
from veilcam.clock import synchronised
from veilcam.errors import AccountError, ConfigError, LoginRefused, MediaIntegrityError
from veilcam.events import Subscription
from veilcam.retention import parse_duration
from veilcam.store import audit
from veilcam.web import sessions, tls, views
from veilcam.web.api import api_alarms, api_doors, api_pictures, api_status, api_temperatures
from veilcam.web.coldchain import cabinet_limits, report_file, reports_page, save_limits
from veilcam.web.common import (
    ACKERS,
    ACTOR,
    ADMIN,
    ALL,
    APP_KEY,
    AUDIT,
    CFG_KEY,
    READERS,
    SESSION,
    TLS_KEY,
    _agent,
    _app,
    _audit,
    _cfg,
    _ip,
    _page,
    _policy,
    _session,
)
from veilcam.web.people import tokens_add, users_add, users_page, users_toggle

if TYPE_CHECKING:
    from veilcam.config import Config, WebConfig
    from veilcam.runtime.context import App

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
MEDIA_ID = re.compile(r"^[0-9a-f]{32}$")
LOGIN_CSRF = "veilcam_login_csrf"


# --- access control ----------------------------------------------------------------


def _secure_headers(request: web.Request, headers: Any) -> None:
    headers.update(SECURITY_HEADERS)
    if request.secure:
        headers["Strict-Transport-Security"] = "max-age=31536000"


@web.middleware
async def security_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPException as exc:
        if exc.status >= 400 and not request.path.startswith("/api/"):
            page = _error_page(request, exc)
            if page is not None:
                _secure_headers(request, page.headers)
                return page
        _secure_headers(request, exc.headers)
        raise
    _secure_headers(request, response.headers)
    return response


def _error_page(request: web.Request, exc: web.HTTPException) -> web.Response | None:
    try:
        page = _page(request, "error.html", status=exc.status, reason=exc.text or exc.reason)
    except Exception:  # noqa: BLE001 - an error page must never fail; the plain one will do
        return None
    page.set_status(exc.status, exc.reason)
    for name in ("WWW-Authenticate", "Allow"):
        if name in exc.headers:
            page.headers[name] = exc.headers[name]
    return page


async def _bearer(request: web.Request) -> sessions.Session | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    token = header[7:].strip()

    def job(db: Any) -> Any:
        return db.conn.execute(
            "SELECT name, role FROM api_tokens WHERE token_hash = ?",
            (sessions.token_hash(token),),
        ).fetchone()

    row = await _app(request).store.db.read(job)
    if row is None:
        return None
    from veilcam.accounts import User

    return sessions.Session("token", User(0, f"token:{row['name']}", row["role"], False), "", 0, 0)


@web.middleware
async def access(request: web.Request, handler: Any) -> web.StreamResponse:
    route = request.match_info.route
    resource = route.resource
    if resource is None:  # no route matched: aiohttp answers 404/405 itself
        return await handler(request)
    key = (route.method, resource.canonical)
    rules = request.app[ACCESS_KEY]
    if key not in rules:
        log.error("route %s %s has no access rule: refused", *key)
        raise web.HTTPForbidden(text="this page has no access rule")
    allowed = rules[key]
    is_api = request.path.startswith("/api/")
    session = None
    token = request.cookies.get(sessions.COOKIE)
    if token:
        cfg = _cfg(request)
        session = await _app(request).store.db.write(
            sessions.load_job,
            token,
            _app(request).clock.now(),
            parse_duration(cfg.session_idle),
            parse_duration(cfg.session_max),
            parse_duration(cfg.password_max_age),
        )
    if session is None and is_api:
        session = await _bearer(request)
    if session is not None:
        request[SESSION] = session
        request[ACTOR] = session.user.username
    if allowed is None:
        return await handler(request)
    if session is None:
        if is_api:
            raise web.HTTPUnauthorized(
                text=json.dumps({"error": "sign in or send a bearer token"}),
                content_type="application/json",
                headers={"WWW-Authenticate": 'Bearer realm="veilcam"'},
            )
        raise web.HTTPFound("/login?next=" + quote(request.path_qs, safe="/?=&"))
    if session.user.must_change and resource.canonical not in ("/password", "/logout"):
        if is_api:
            raise web.HTTPForbidden(
                text='{"error": "password must be changed"}', content_type="application/json"
            )
        raise web.HTTPFound("/password")
    if session.user.role not in allowed:
        await _audit(request, "access.denied", request.path, session.user.role)
        if is_api:
            raise web.HTTPForbidden(
                text='{"error": "not for your role"}', content_type="application/json"
            )
        raise web.HTTPForbidden(text="Your role does not give access to this page.")
    if request.method == "POST" and session.csrf:
        form = await request.post()
        if not secrets.compare_digest(str(form.get("csrf", "")), session.csrf):
            await _audit(request, "csrf.refused", request.path)
            raise web.HTTPForbidden(
                text="The form was out of date or not from this site; reload and try again."
            )
    return await handler(request)


# --- sign-in -------------------------------------------------------------------------


def _safe_next(value: str) -> str:
    return value if value.startswith("/") and not value.startswith("//") else "/"


async def login_page(request: web.Request) -> web.Response:
    login_csrf = secrets.token_urlsafe(24)
    page = _page(
        request,
        "login.html",
        login_csrf=login_csrf,
        next=_safe_next(request.query.get("next", "/")),
    )
    page.set_cookie(LOGIN_CSRF, login_csrf, **sessions.cookie_args(request.secure))
    return page


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    expected = request.cookies.get(LOGIN_CSRF, "")
    if not expected or not secrets.compare_digest(str(form.get("csrf", "")), expected):
        raise web.HTTPForbidden(text="The sign-in form was out of date; reload and try again.")
    username = str(form.get("username", ""))[:64]
    password = str(form.get("password", ""))[:1024]
    app = _app(request)
    accounts = Accounts(app.store, _policy(_cfg(request)))
    try:
        user = await accounts.login(username, password, _ip(request), _agent(request))
    except LoginRefused as exc:
        page = _page(
            request,
            "login.html",
            error=str(exc),
            login_csrf=expected,
            next=_safe_next(str(form.get("next", "/"))),
        )
        page.set_status(401)
        return page
    token, _ = await app.store.db.write(
        sessions.create_job, user.id, app.clock.now(), _ip(request), _agent(request)
    )
    response = web.HTTPFound(
        "/password" if user.must_change else _safe_next(str(form.get("next", "/")))
    )
    response.set_cookie(sessions.COOKIE, token, **sessions.cookie_args(request.secure))
    response.del_cookie(LOGIN_CSRF, path="/")
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    await _app(request).store.db.write(sessions.delete_job, _session(request).token_hash)
    await _audit(request, "logout")
    response = web.HTTPFound("/login")
    response.del_cookie(sessions.COOKIE, path="/")
    raise response


async def password_page(request: web.Request) -> web.Response:
    return _page(request, "password.html")


async def password(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    s = _session(request)
    try:
        await Accounts(_app(request).store).change_password(
            s.user, str(form.get("old", "")), str(form.get("new", "")), _ip(request)
        )
    except AccountError as exc:
        page = _page(request, "password.html", error=str(exc))
        page.set_status(400)
        return page
    raise web.HTTPFound("/")


# --- pages ---------------------------------------------------------------------------


async def dashboard(request: web.Request) -> web.Response:
    app = _app(request)
    now = app.clock.now()
    latest = await app.store.db.read(views.latest_per_camera_job)
    temps = await app.store.db.read(views.temperatures_job, now - 86400)
    doors_today, door_state = await app.store.db.read(
        views.door_summary_job, views.local_midnight(now)
    )
    settings = await app.store.db.read(views.settings_job)
    health = app.health.snapshot()
    role = _session(request).user.role
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
            "now": views.show_temp(points[-1][1], settings["temperature_unit"]),
            "sparkline": views.svg_line(points[-300:], 200, 40, "spark"),
        }
        for probe, points in sorted(temps.items())
    ]
    return _page(
        request,
        "dashboard.html",
        cameras=cameras,
        probes=probes,
        doors_today=doors_today,
        door_state=door_state,
        overall=app.health.overall(),
    )


def _day(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return dt.datetime.strptime(value, "%Y-%m-%d").timestamp()
    except ValueError:
        raise web.HTTPBadRequest(text=f"not a date (YYYY-MM-DD): {value[:20]!r}") from None


async def gallery(request: web.Request) -> web.Response:
    app = _app(request)
    camera = request.query.get("camera") or None
    names = [c.name for c in app.config.cameras]
    if camera is not None and camera not in names:
        raise web.HTTPBadRequest(text=f"no camera named {camera[:40]!r}")
    since, until = _day(request.query.get("from")), _day(request.query.get("to"))
    until = until + 86400 if until is not None else None
    pictures = await app.store.db.read(views.pictures_job, camera, since, until)
    return _page(
        request,
        "gallery.html",
        pictures=pictures,
        camera_names=names,
        camera=camera,
        date_from=request.query.get("from", ""),
        date_to=request.query.get("to", ""),
    )


async def _picture_row(request: web.Request) -> dict[str, Any]:
    media_id = request.match_info["media_id"]
    if not MEDIA_ID.match(media_id):
        raise web.HTTPNotFound(text="no such picture")
    row = await _app(request).store.db.read(views.picture_job, media_id)
    if row is None:
        raise web.HTTPNotFound(text="no such picture (it may have expired)")
    return row


async def picture_page(request: web.Request) -> web.Response:
    return _page(request, "picture.html", p=await _picture_row(request))


async def picture_jpeg(request: web.Request) -> web.Response:
    """The only way a picture leaves the appliance's store: decrypted here, audited."""
    row = await _picture_row(request)
    try:
        jpeg = await _app(request).store.read_picture(row["id"])
    except MediaIntegrityError as exc:
        await _audit(request, "picture.view.failed", row["id"], str(exc))
        raise web.HTTPInternalServerError(text="the picture file is damaged") from None
    await _audit(request, "picture.view", row["id"], row["camera"])
    return web.Response(body=jpeg, content_type="image/jpeg", headers={"Cache-Control": "no-store"})


async def history(request: web.Request) -> web.Response:
    app = _app(request)
    hours = 24
    now = app.clock.now()
    temps = await app.store.db.read(views.temperatures_job, now - hours * 3600)
    doors = await app.store.db.read(views.doors_job, now - hours * 3600)
    settings = await app.store.db.read(views.settings_job)
    unit = settings["temperature_unit"]
    probes = [
        {
            "name": probe,
            "min": views.show_temp(min(v for _, v in pts), unit),
            "max": views.show_temp(max(v for _, v in pts), unit),
            "chart": views.svg_line(pts[-2000:], 800, 200, "chart", axes=True),
        }
        for probe, pts in sorted(temps.items())
    ]
    return _page(request, "history.html", probes=probes, doors=doors, hours=hours)


async def history_csv(request: web.Request) -> web.Response:
    """The last 24 hours of temperatures and door events as CSV (an audited export)."""
    import csv
    import io

    app = _app(request)
    since = app.clock.now() - 86400
    temps = await app.store.db.read(views.temperatures_job, since)
    doors = await app.store.db.read(views.doors_job, since, 100_000)
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(["time", "kind", "probe_or_door", "value"])
    rows = [
        (t, "temperature", probe, f"{v / 100:.2f}") for probe, pts in temps.items() for t, v in pts
    ]
    rows += [(d["received_at"], "door", d["door"], d["state"]) for d in doors]
    for t, kind, what, value in sorted(rows):
        out.writerow([views.when(t), kind, what, value])
    await _audit(request, "export", "history.csv", f"{len(rows)} rows")
    return web.Response(
        text=buf.getvalue(),
        content_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="veilcam-history.csv"'},
    )


async def alerts_page(request: web.Request, **extra: Any) -> web.Response:
    """What needs attention now: parts not healthy, and the sensor line's recent faults."""
    app = _app(request)
    problems = {
        k: v for k, v in app.health.snapshot().items() if v["state"] not in ("ok", "stopped")
    }

    def faults(db: Any) -> list[dict[str, Any]]:
        rows = db.conn.execute(
            "SELECT at, kind, detail FROM sensor_faults ORDER BY at DESC LIMIT 100"
        ).fetchall()
        return [dict(r, when=views.when(r["at"])) for r in rows]

    from veilcam.coldchain.queries import list_job

    alarms = [
        dict(
            a,
            opened=views.when(a["opened_at"]),
            closed=views.when(a["closed_at"]) if a["closed_at"] else "",
        )
        for a in await app.store.db.read(list_job, False, 200)
    ]
    can_ack = _session(request).user.role in ACKERS
    return _page(
        request,
        "alerts.html",
        problems=problems,
        faults=await app.store.db.read(faults),
        alarms=alarms,
        can_ack=can_ack,
        **extra,
    )


async def alarm_ack(request: web.Request) -> web.StreamResponse:
    """Acknowledge an alarm: the comment says what was done; audited."""
    from veilcam.coldchain.service import acknowledge

    form = await request.post()
    try:
        await acknowledge(
            _app(request).store,
            int(request.match_info["alarm_id"]),
            request[ACTOR],
            str(form.get("comment", "")),
            _ip(request),
        )
    except AccountError as exc:
        page = await alerts_page(request, error=str(exc))
        page.set_status(400)
        return page
    raise web.HTTPFound("/alerts")


async def health_page(request: web.Request) -> web.Response:
    app = _app(request)
    disk = shutil.disk_usage(app.data_dir)
    return _page(
        request,
        "health.html",
        health=app.health.snapshot(),
        overall=app.health.overall(),
        disk_free=f"{disk.free / 2**30:.1f} GiB of {disk.total / 2**30:.1f} GiB",
        now=views.when(app.clock.now()),
        clock_sync={True: "synchronised", False: "NOT synchronised", None: "unknown"}[
            await asyncio.to_thread(synchronised)
        ],
        kernels=app.live_status()["kernels"],
        fingerprint=request.app[TLS_KEY],
    )


async def settings_page(request: web.Request, **extra: Any) -> web.Response:
    settings = await _app(request).store.db.read(views.settings_job)
    cabinets = cabinet_limits(request)
    return _page(request, "settings.html", settings=settings, cabinets=cabinets, **extra)


EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[a-z]{2,}$", re.I)


async def settings_save(request: web.Request) -> web.Response:
    form = await request.post()
    app = _app(request)
    current = await app.store.db.read(views.settings_job)
    wanted = {
        "temperature_unit": str(form.get("temperature_unit", current["temperature_unit"])),
        "alert_email": str(form.get("alert_email", current["alert_email"])).strip(),
    }
    if wanted["temperature_unit"] not in ("C", "F"):
        return await _settings_error(request, "temperature unit must be C or F")
    if wanted["alert_email"] and not EMAIL.match(wanted["alert_email"]):
        return await _settings_error(
            request, f"not an e-mail address: {wanted['alert_email'][:60]!r}"
        )
    try:
        changed = await save_limits(request, form, request[ACTOR])
    except ConfigError as exc:
        return await _settings_error(request, str(exc))
    now = app.clock.now()
    for key, value in wanted.items():
        if value != current[key]:
            await app.store.db.write(views.put_setting_job, key, value, now, request[ACTOR])
            await _audit(request, "setting.change", key, f"{current[key]!r} -> {value!r}")
            changed.append(key)
    return await settings_page(
        request, message=("saved: " + ", ".join(changed)) if changed else "nothing changed"
    )


async def _settings_error(request: web.Request, text: str) -> web.Response:
    page = await settings_page(request, error=text)
    page.set_status(400)
    return page


async def audit_page(request: web.Request) -> web.Response:
    app = _app(request)
    entries = await app.store.db.read(views.audit_job)
    ok, chain = await app.store.db.read(audit.verify)
    await _audit(request, "audit.view")
    return _page(request, "audit.html", entries=entries, chain=chain, chain_ok=ok)


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events for every signed-in page: door changes, alarm changes and the
    overall health."""
    app = _app(request)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
    )
    await response.prepare(request)
    subs: dict[str, Subscription[Any]] = {
        "door": app.doors.subscribe(maxsize=64),
        "alarm": app.alarm_changes.subscribe(maxsize=64),
    }
    waiting = {asyncio.ensure_future(sub.get()): kind for kind, sub in subs.items()}
    last_overall = None

    async def send(kind: str, data: dict[str, Any]) -> None:
        await response.write(f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode())

    try:
        while True:
            done, _ = await asyncio.wait(waiting, timeout=5, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                kind = waiting.pop(task)
                event = task.result()
                if kind == "door":
                    n, _state = await app.store.db.read(
                        views.door_summary_job, views.local_midnight(app.clock.now())
                    )
                    state = "open" if event.open else "closed"
                    await send("door", {"door": event.door, "state": state, "openings_today": n})
                else:
                    await send(
                        "alarm",
                        {
                            "cabinet": event.cabinet,
                            "rule": event.rule,
                            "change": event.change,
                            "level": event.level,
                            "message": event.message,
                        },
                    )
                waiting[asyncio.ensure_future(subs[kind].get())] = kind
            overall = app.health.overall()
            if overall != last_overall:
                await send("health", {"overall": overall})
                last_overall = overall
            elif not done:  # a comment: finds a browser that went away, keeps proxies alive
                await response.write(b": ping\n\n")
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        for task in waiting:
            task.cancel()
        for sub in subs.values():
            sub.close()
    return response


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"overall": _app(request).health.overall()})


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ROUTES: list[tuple[str, str, Handler, frozenset[str] | None]] = [
    ("GET", "/login", login_page, None),
    ("POST", "/login", login, None),
    ("GET", "/healthz", healthz, None),
    ("POST", "/logout", logout, ALL),
    ("GET", "/password", password_page, ALL),
    ("POST", "/password", password, ALL),
    ("GET", "/", dashboard, ALL),
    ("GET", "/events", events, ALL),
    ("GET", "/pictures", gallery, READERS),
    ("GET", "/pictures/{media_id:[0-9a-f]{32}}.jpg", picture_jpeg, READERS),
    ("GET", "/pictures/{media_id:[0-9a-f]{32}}", picture_page, READERS),
    ("GET", "/history", history, ALL),
    ("GET", "/history.csv", history_csv, ALL),
    ("GET", "/alerts", alerts_page, ALL),
    ("GET", "/reports", reports_page, ALL),
    ("GET", "/reports/{day:[0-9]{4}-[0-9]{2}-[0-9]{2}}.{fmt:csv|pdf}", report_file, ALL),
    ("POST", "/alarms/{alarm_id:[0-9]+}/ack", alarm_ack, ACKERS),
    ("GET", "/health", health_page, ALL),
    ("GET", "/users", users_page, ADMIN),
    ("POST", "/users", users_add, ADMIN),
    ("POST", "/users/{username}/{action:enable|disable}", users_toggle, ADMIN),
    ("POST", "/tokens", tokens_add, ADMIN),
    ("GET", "/settings", settings_page, ADMIN),
    ("POST", "/settings", settings_save, ADMIN),
    ("GET", "/audit", audit_page, AUDIT),
    ("GET", "/api/status", api_status, ALL),
    ("GET", "/api/pictures", api_pictures, READERS),
    ("GET", "/api/temperatures", api_temperatures, ALL),
    ("GET", "/api/doors", api_doors, ALL),
    ("GET", "/api/alarms", api_alarms, ALL),
    ("GET", "/api/openapi.json", openapi, None),
]
ACCESS_KEY: web.AppKey[dict[tuple[str, str], frozenset[str] | None]] = web.AppKey("access", dict)

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "veilcam", "version": "1"},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearer": []}],
    "paths": {
        path: {
            method.lower(): {
                "summary": (handler.__doc__ or handler.__name__).strip().splitlines()[0],
                "x-roles": sorted(roles) if roles else "public",
                "responses": {
                    "200": {"description": "OK"},
                    "401": {"description": "no session or token"},
                    "403": {"description": "not for this role"},
                },
            }
        }
        for method, path, handler, roles in ROUTES
        if path.startswith("/api/")
    },
}


def make_web_app(app: App, cfg: WebConfig, fingerprint: str = "") -> web.Application:
    webapp = web.Application(middlewares=[security_headers, access], client_max_size=64 * 1024)
    webapp[APP_KEY] = app
    webapp[CFG_KEY] = cfg
    webapp[TLS_KEY] = fingerprint
    aiohttp_jinja2.setup(webapp, loader=jinja2.FileSystemLoader(webui.TEMPLATES), autoescape=True)
    rules: dict[tuple[str, str], frozenset[str] | None] = {}
    for method, path, handler, roles in ROUTES:
        route = webapp.router.add_route(method, path, handler)
        rules[(method, route.resource.canonical if route.resource else path)] = roles
    static = webapp.router.add_static("/static/", webui.STATIC, follow_symlinks=False)
    rules[("GET", static.canonical)] = rules[("HEAD", static.canonical)] = None
    webapp[ACCESS_KEY] = rules
    return webapp


def web_services(config: Config) -> list[tuple[str, Callable[[App], Awaitable[None]]]]:
    """The web server as an extra service for the supervisor, when the config has one."""
    web_cfg = config.web
    if web_cfg is None:
        return []
    return [("web", lambda app: serve(app, web_cfg))]


async def serve(app: App, cfg: WebConfig) -> None:
    ssl_ctx, fingerprint = None, ""
    if cfg.tls:
        crt, key = await asyncio.to_thread(tls.ensure_certificate, app.data_dir, app.config.site)
        ssl_ctx = tls.server_context(crt, key)
        fingerprint = tls.fingerprint(crt)
    runner = web.AppRunner(
        make_web_app(app, cfg, fingerprint), access_log=None, shutdown_timeout=2.0
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, cfg.host, cfg.port, ssl_context=ssl_ctx)
        await site.start()
        scheme = "https" if ssl_ctx else "http"
        log.info(
            "web UI on %s://%s:%d/%s",
            scheme,
            cfg.host,
            cfg.port,
            f" (certificate SHA-256 {fingerprint})" if fingerprint else "",
        )
        await asyncio.Event().wait()  # until cancelled
    finally:
        await runner.cleanup()
