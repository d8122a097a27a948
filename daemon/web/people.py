"""Users and machine tokens: the administrator's pages."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from veilcam.accounts import ROLES, Accounts
from veilcam.errors import AccountError
from veilcam.tokens import DEFAULT_DAYS, MAX_DAYS, TOKEN_ROLES, Tokens
from veilcam.web.common import ACTOR, app_of, client_ip, render, session_of
from veilcam.web.display import when


async def users_page(request: web.Request, **extra: Any) -> web.Response:
    store = app_of(request).store
    users = await Accounts(store).list()
    machine = await Tokens(store).list()
    return render(
        request,
        "users.html",
        users=users,
        roles=ROLES,
        tokens=machine,
        token_roles=TOKEN_ROLES,
        token_days=DEFAULT_DAYS,
        max_days=MAX_DAYS,
        when=when,
        **extra,
    )


async def users_add(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        await Accounts(app_of(request).store).add(
            str(form.get("username", "")),
            str(form.get("role", "")),
            str(form.get("password", "")),
            actor=request[ACTOR],
            ip=client_ip(request),
            must_change=True,  # the administrator chose it: its owner changes it
        )
    except AccountError as exc:
        page = await users_page(request, error=str(exc))
        page.set_status(400)
        return page
    return await users_page(request, message=f"user {form.get('username', '')} added")


async def tokens_add(request: web.Request) -> web.Response:
    """An API token for a machine (head office, a dashboard screen): shown once, stored
    only as its SHA-256; it expires after the days chosen (at most a year)."""
    form = await request.post()
    try:
        days = int(str(form.get("days", DEFAULT_DAYS)))
    except ValueError:
        days = 0
    name = str(form.get("name", "")).strip()
    role = str(form.get("role", ""))
    try:
        token = await Tokens(app_of(request).store).add(
            name, role, request[ACTOR], days, client_ip(request)
        )
    except AccountError as exc:
        page = await users_page(request, error=str(exc))
        page.set_status(400)
        return page
    return await users_page(
        request,
        message=f"token {name} ({role}, {days} days): {token} — copy it now, it is not shown again",
    )


async def tokens_revoke(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    try:
        await Tokens(app_of(request).store).revoke(name, request[ACTOR], client_ip(request))
    except AccountError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    raise web.HTTPFound("/users")


async def users_toggle(request: web.Request) -> web.StreamResponse:
    username = request.match_info["username"]
    disabled = request.match_info["action"] == "disable"
    if username == session_of(request).user.username:
        raise web.HTTPBadRequest(text="you cannot disable yourself")
    try:
        await Accounts(app_of(request).store).set_disabled(
            username, disabled, request[ACTOR], client_ip(request)
        )
    except AccountError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    raise web.HTTPFound("/users")
