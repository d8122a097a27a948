"""What every web handler shares: the application keys, the role sets, and small helpers
for the signed-in user, the audit log and page rendering."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiohttp_jinja2
from aiohttp import web

from veilcam.accounts import ROLES, Policy
from veilcam.store import audit
from veilcam.web import sessions
from veilcam.web.throttle import Throttle

if TYPE_CHECKING:
    from veilcam.config import WebConfig
    from veilcam.runtime.context import App

APP_KEY: web.AppKey[App] = web.AppKey("veilcam", object)  # type: ignore[arg-type]
CFG_KEY: web.AppKey[Any] = web.AppKey("web_config", object)
THROTTLE_KEY: web.AppKey[Throttle] = web.AppKey("throttle", Throttle)
SESSION: web.RequestKey[sessions.Session] = web.RequestKey("session", sessions.Session)
ACTOR: web.RequestKey[str] = web.RequestKey("actor", str)
# Each route's roles, by (method, canonical path): None is public, a missing route refused.
ACCESS_KEY: web.AppKey[dict[tuple[str, str], frozenset[str] | None]] = web.AppKey("access", dict)

ALL = frozenset(ROLES)
READERS = frozenset({"admin", "manager", "auditor"})  # may see pictures
ADMIN = frozenset({"admin"})
AUDIT = frozenset({"admin", "auditor"})
ACKERS = frozenset({"admin", "manager"})  # the people who act on a warm fridge


def app_of(request: web.Request) -> App:
    return request.app[APP_KEY]


def web_config(request: web.Request) -> WebConfig:
    cfg: WebConfig = request.app[CFG_KEY]
    return cfg


def client_ip(request: web.Request) -> str | None:
    return request.remote


def user_agent(request: web.Request) -> str:
    return request.headers.get("User-Agent", "")[:200]


def session_of(request: web.Request) -> sessions.Session:
    s: sessions.Session = request[SESSION]
    return s


async def audit_request(
    request: web.Request, action: str, obj: str | None = None, detail: str | None = None
) -> None:
    actor = request[ACTOR] if ACTOR in request else "anonymous"
    await app_of(request).store.audit(
        audit.Entry(actor, action, obj, detail, client_ip(request), user_agent(request))
    )


def _nav(role: str) -> list[tuple[str, str]]:
    items = [("/", "Dashboard")]
    if role in READERS:
        items.append(("/pictures", "Pictures"))
    items += [("/stock", "Stock"), ("/history", "History"), ("/alerts", "Alerts")]
    items.append(("/reports", "Reports"))
    if role in READERS:
        items.append(("/requests", "Privacy"))
    items.append(("/health", "Health"))
    if role in AUDIT:
        items.append(("/audit", "Audit log"))
    if role in ADMIN:
        items += [("/users", "Users"), ("/settings", "Settings")]
    items.append(("/password", "Password"))
    return items


def render(request: web.Request, template: str, **ctx: Any) -> web.Response:
    base: dict[str, Any] = {"site": app_of(request).config.site, "here": request.path}
    if SESSION in request:
        s = session_of(request)
        base.update(user=s.user, csrf=s.csrf, nav=_nav(s.user.role))
        privacy = app_of(request).privacy
        if privacy is not None and privacy.open_breaches:
            now = app_of(request).clock.now()
            base["breach_banner"] = [
                {"id": b["id"], "deadline": b["deadline"], "left": b["deadline"] - now}
                for b in privacy.open_breaches
            ]
    base.update(ctx)
    return aiohttp_jinja2.render_template(template, request, base)


def login_policy(cfg: WebConfig) -> Policy:
    return Policy(
        password_max_age=cfg.password_max_age, admin_password_max_age=cfg.admin_password_max_age
    )
