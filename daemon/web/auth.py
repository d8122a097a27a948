"""Signing in and out, and changing one's password."""

from __future__ import annotations

import secrets

from aiohttp import web

from veilcam.accounts import Accounts
from veilcam.errors import AccountError, LoginRefused
from veilcam.web import sessions
from veilcam.web.common import (
    app_of,
    audit_request,
    client_ip,
    login_policy,
    render,
    session_of,
    user_agent,
    web_config,
)

LOGIN_CSRF = "veilcam_login_csrf"


def _safe_next(value: str) -> str:
    return value if value.startswith("/") and not value.startswith("//") else "/"


async def login_page(request: web.Request) -> web.Response:
    login_csrf = secrets.token_urlsafe(24)
    page = render(
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
    app = app_of(request)
    accounts = Accounts(app.store, login_policy(web_config(request)))
    try:
        user = await accounts.login(username, password, client_ip(request), user_agent(request))
    except LoginRefused as exc:
        page = render(
            request,
            "login.html",
            error=str(exc),
            login_csrf=expected,
            next=_safe_next(str(form.get("next", "/"))),
        )
        page.set_status(401)
        return page
    token, _ = await app.store.db.write(
        sessions.create_job, user.id, app.clock.now(), client_ip(request), user_agent(request)
    )
    response = web.HTTPFound(
        "/password" if user.must_change else _safe_next(str(form.get("next", "/")))
    )
    response.set_cookie(sessions.COOKIE, token, **sessions.cookie_args(request.secure))
    response.del_cookie(LOGIN_CSRF, path="/")
    raise response


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
    raise web.HTTPFound("/")
