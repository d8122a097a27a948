"""Users and machine tokens: the administrator's pages."""

from __future__ import annotations

import re
import secrets
import sqlite3
from typing import Any

from aiohttp import web

from veilcam.accounts import ROLES, Accounts
from veilcam.errors import AccountError
from veilcam.web import sessions
from veilcam.web.common import ACTOR, _app, _audit, _ip, _page, _session


async def users_page(request: web.Request, **extra: Any) -> web.Response:
    users = await Accounts(_app(request).store).list()
    return _page(request, "users.html", users=users, roles=ROLES, token_roles=TOKEN_ROLES, **extra)


async def users_add(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        await Accounts(_app(request).store).add(
            str(form.get("username", "")),
            str(form.get("role", "")),
            str(form.get("password", "")),
            actor=request[ACTOR],
            ip=_ip(request),
        )
    except AccountError as exc:
        page = await users_page(request, error=str(exc))
        page.set_status(400)
        return page
    # A password an administrator chose is changed by its owner at first sign-in.
    username = str(form.get("username", ""))

    def must_change(db: Any) -> None:
        db.conn.execute("UPDATE users SET must_change = 1 WHERE username = ?", (username,))

    await _app(request).store.db.write(must_change)
    return await users_page(request, message=f"user {username} added")


TOKEN_ROLES = ("manager", "technician", "auditor")  # machines never administer


def _token_job(db: Any, name: str, role: str, token_hash: str, now: float, by: str) -> None:
    try:
        db.conn.execute(
            "INSERT INTO api_tokens (token_hash, name, role, created_at, created_by)"
            " VALUES (?, ?, ?, ?, ?)",
            (token_hash, name, role, now, by),
        )
    except sqlite3.IntegrityError:
        raise AccountError(f"a token named {name!r} already exists") from None


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
    app = _app(request)
    try:
        await app.store.db.write(
            _token_job, name, role, sessions.token_hash(token), app.clock.now(), request[ACTOR]
        )
    except AccountError as exc:
        page = await users_page(request, error=str(exc))
        page.set_status(400)
        return page
    await _audit(request, "token.create", name, f"role {role}")
    return await users_page(
        request, message=f"token {name} ({role}): {token} — copy it now, it is not shown again"
    )


async def users_toggle(request: web.Request) -> web.StreamResponse:
    username = request.match_info["username"]
    disabled = request.match_info["action"] == "disable"
    if username == _session(request).user.username:
        raise web.HTTPBadRequest(text="you cannot disable yourself")
    try:
        await Accounts(_app(request).store).set_disabled(
            username, disabled, request[ACTOR], _ip(request)
        )
    except AccountError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    raise web.HTTPFound("/users")
