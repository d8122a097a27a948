"""Users and machine tokens: the administrator's pages."""

from __future__ import annotations

import re
import secrets
from typing import Any

from aiohttp import web

from veilcam.accounts import ROLES, Accounts
from veilcam.errors import AccountError
from veilcam.web import queries, sessions
from veilcam.web.common import ACTOR, app_of, audit_request, client_ip, render, session_of


async def users_page(request: web.Request, **extra: Any) -> web.Response:
    users = await Accounts(app_of(request).store).list()
    return render(request, "users.html", users=users, roles=ROLES, token_roles=TOKEN_ROLES, **extra)


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


TOKEN_ROLES = ("manager", "technician", "auditor")  # machines never administer


async def tokens_add(request: web.Request) -> web.Response:
    """An API token for a machine (head office, a dashboard screen): shown once, stored
    only as its SHA-256."""
    form = await request.post()
    name = str(form.get("name", "")).strip()
    role = str(form.get("role", ""))
    if not re.fullmatch(r"[a-z0-9._-]{3,32}", name) or role not in TOKEN_ROLES:
        page = await users_page(request, error="a token needs a name (a-z, 0-9, . _ -) and a role")
        page.set_status(400)
        return page
    token = "vc_" + secrets.token_urlsafe(32)
    app = app_of(request)
    try:
        await app.store.db.write(
            queries.add_token_job,
            name,
            role,
            sessions.token_hash(token),
            app.clock.now(),
            request[ACTOR],
        )
    except AccountError as exc:
        page = await users_page(request, error=str(exc))
        page.set_status(400)
        return page
    await audit_request(request, "token.create", name, f"role {role}")
    return await users_page(
        request, message=f"token {name} ({role}): {token} — copy it now, it is not shown again"
    )


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
