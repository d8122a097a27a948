"""Signing in and out, and changing one's password."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from aiohttp import web

from veilcam.accounts import Accounts
from veilcam.errors import AccountError, LoginRefused
from veilcam.web import sessions
from veilcam.web.common import (
    THROTTLE_KEY,
    app_of,
    audit_request,
    client_ip,
    login_policy,
    render,
    session_of,
    user_agent,
    web_config,
)
from veilcam.web.throttle import Throttled

LOGIN_CSRF = "veilcam_login_csrf"


def safe_next(value: str) -> str:
    """``value`` if it is a path on this site, else ``/``.

    Browsers drop a tab, CR or LF inside a URL and read a backslash as a slash, so
    ``/<tab>/evil.example`` and ``/<backslash>evil.example`` would leave the site: only
    printable ASCII without a backslash is kept, and it must parse with no scheme or host."""
    if not value.startswith("/") or not value.isascii() or not value.isprintable():
        return "/"
    if "\\" in value or value.startswith("//"):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def _refused_early(request: web.Request) -> web.Response | None:
    """A plain 429 for an address that is refused whatever it sends: answered before the
    form is read or a page rendered, so that hammering costs the appliance little."""
    wait = request.app[THROTTLE_KEY].refusing(
        client_ip(request) or "unknown", app_of(request).clock.now()
    )
    if wait is None:
        return None
    seconds = max(1, round(wait))
    return web.Response(
        status=429,
        text=f"Too many sign-in attempts from your address: wait {seconds} s.",
        headers={"Retry-After": str(seconds)},
    )


async def login_page(request: web.Request) -> web.Response:
    if (early := _refused_early(request)) is not None:
        return early
    login_csrf = secrets.token_urlsafe(24)
    page = render(
        request,
        "login.html",
        login_csrf=login_csrf,
        next=safe_next(request.query.get("next", "/")),
    )
    page.set_cookie(LOGIN_CSRF, login_csrf, **sessions.cookie_args(request.secure))
    return page


async def login(request: web.Request) -> web.StreamResponse:
    """Every failure answers the same, after the same work (a user that does not exist is
    checked against a dummy hash); repeated failures wait longer (``web.throttle``)."""
    form = await request.post()
    expected = request.cookies.get(LOGIN_CSRF, "")
    if not expected or not secrets.compare_digest(str(form.get("csrf", "")), expected):
        raise web.HTTPForbidden(text="The sign-in form was out of date; reload and try again.")
    username = str(form.get("username", ""))[:64]
    password = str(form.get("password", ""))[:1024]
    app = app_of(request)
    address = client_ip(request) or "unknown"
    throttle = request.app[THROTTLE_KEY]
    accounts = Accounts(app.store, login_policy(web_config(request)))

    def refused(exc: LoginRefused, status: int) -> web.Response:
        page = render(
            request,
            "login.html",
            error=str(exc),
            login_csrf=expected,
            next=safe_next(str(form.get("next", "/"))),
        )
        page.set_status(status)
        if isinstance(exc, Throttled):
            page.headers["Retry-After"] = str(exc.retry_after)
        return page

    try:
        wait = throttle.reserve(address, username, app.clock.now())
    except Throttled as exc:
        return refused(exc, 429)
    if wait > 0:
        await app.clock.sleep(wait)
    try:
        user = await accounts.login(username, password, address, user_agent(request))
    except LoginRefused as exc:
        return refused(exc, 401)
    except AccountError as exc:  # the hashing queue is full
        raise web.HTTPServiceUnavailable(text=str(exc), headers={"Retry-After": "5"}) from None
    throttle.succeeded(address, username)
    response = web.HTTPFound(
        "/password" if user.must_change else safe_next(str(form.get("next", "/")))
    )
    await _new_session(request, response, user.id)
    response.del_cookie(LOGIN_CSRF, path="/")
    raise response


async def _new_session(request: web.Request, response: web.StreamResponse, user_id: int) -> None:
    app = app_of(request)
    token, _ = await app.store.db.write(
        sessions.create_job, user_id, app.clock.now(), client_ip(request), user_agent(request)
    )
    response.set_cookie(sessions.COOKIE, token, **sessions.cookie_args(request.secure))


async def logout(request: web.Request) -> web.StreamResponse:
    await app_of(request).store.db.write(sessions.delete_job, session_of(request).token_hash)
    await audit_request(request, "logout")
    response = web.HTTPFound("/login")
    response.del_cookie(sessions.COOKIE, path="/")
    raise response


async def password_page(request: web.Request) -> web.Response:
    return render(request, "password.html")


async def password(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    s = session_of(request)
    try:
        await Accounts(app_of(request).store).change_password(
            s.user, str(form.get("old", "")), str(form.get("new", "")), client_ip(request)
        )
    except AccountError as exc:
        page = render(request, "password.html", error=str(exc))
        page.set_status(400)
        return page
    # Every session of the user ended with the change (someone else's browser too); this
    # browser goes on with a new one.
    response = web.HTTPFound("/")
    await _new_session(request, response, s.user.id)
    raise response
