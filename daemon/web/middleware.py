"""Middleware every request passes: the access rule of its route (deny by default), the
session or bearer token, CSRF on forms, security headers and error pages."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from typing import Any
from urllib.parse import quote

from aiohttp import web
from aiohttp.typedefs import Handler

from veilcam import tokens
from veilcam.accounts import User
from veilcam.web import sessions
from veilcam.web.common import (
    ACCESS_KEY,
    ACTOR,
    SESSION,
    app_of,
    audit_request,
    render,
    web_config,
)

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


def _secure_headers(request: web.Request, headers: Any) -> None:
    headers.update(SECURITY_HEADERS)
    if request.secure:
        headers["Strict-Transport-Security"] = "max-age=31536000"


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
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
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception:  # a bug must still answer with the security headers, not a trace
        log.exception("%s %s failed", request.method, request.path)
        if request.path.startswith("/api/"):
            out = web.json_response({"error": "internal error; it has been logged"}, status=500)
        else:
            error = web.HTTPInternalServerError(text="Something went wrong; it has been logged.")
            out = _error_page(request, error) or web.Response(status=500, text=error.text)
        _secure_headers(request, out.headers)
        return out
    _secure_headers(request, response.headers)
    return response


def _error_page(request: web.Request, exc: web.HTTPException) -> web.Response | None:
    try:
        page = render(request, "error.html", status=exc.status, reason=exc.text or exc.reason)
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
    app = app_of(request)
    token_hash = tokens.digest(header[7:].strip())
    now = app.clock.now()
    row = await app.store.db.read(tokens.lookup_job, token_hash, now)
    if row is None:
        return None
    if row["last_used_at"] is None or now - row["last_used_at"] > sessions.TOUCH_EVERY:
        await app.store.db.write(tokens.used_job, token_hash, now)
    user = User(0, f"token:{row['name']}", row["role"], False)
    return sessions.Session(tokens.BEARER + token_hash, user, "", 0, 0)


async def _session(request: web.Request, token: str) -> sessions.Session | None:
    cfg = web_config(request)
    app = app_of(request)
    now = app.clock.now()
    found = await app.store.db.read(
        sessions.find_job, token, now, cfg.session_idle, cfg.session_max, cfg.password_max_age
    )
    if found.expired:
        await app.store.db.write(sessions.delete_job, sessions.token_hash(token))
    elif found.touch and found.session is not None:
        await app.store.db.write(sessions.touch_job, found.session.token_hash, now)
    return found.session


@web.middleware
async def access(request: web.Request, handler: Handler) -> web.StreamResponse:
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
        session = await _session(request, token)
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
        await audit_request(request, "access.denied", request.path, session.user.role)
        if is_api:
            raise web.HTTPForbidden(
                text='{"error": "not for your role"}', content_type="application/json"
            )
        raise web.HTTPForbidden(text="Your role does not give access to this page.")
    if request.method == "POST" and session.csrf:
        # A form sends its hidden field; a script using a signed-in session (JSON body) the
        # same token in a header, which another site's page cannot set.
        # A large file upload (multipart, read by its handler as a stream, past the small
        # body limit: the watchlist's photos) carries it in its form's action instead, and
        # the body is not read here.
        sent = request.headers.get("X-CSRF-Token")
        if sent is None and request.content_type == "multipart/form-data":
            sent = request.query.get("csrf")
        if sent is None:
            sent = str((await request.post()).get("csrf", ""))
        if not secrets.compare_digest(sent, session.csrf):
            await audit_request(request, "csrf.refused", request.path)
            raise web.HTTPForbidden(
                text="The form was out of date or not from this site; reload and try again."
            )
    return await handler(request)
