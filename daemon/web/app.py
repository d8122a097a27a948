"""The aiohttp application and the web server as a service of the supervisor."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp_jinja2
import jinja2
from aiohttp import web

from veilcam import certificate as tls
from veilcam.web import middleware, notice, routes
from veilcam.web.common import (
    ACCESS_KEY,
    APP_KEY,
    CFG_KEY,
    THROTTLE_KEY,
)
from veilcam.web.throttle import Throttle

if TYPE_CHECKING:
    from veilcam.config import Config, WebConfig
    from veilcam.runtime.context import App

log = logging.getLogger(__name__)

# Templates and static files ship as package data of veilcam.webui (the webui/ folder).
WEBUI = Path(str(resources.files("veilcam.webui")))


def make_web_app(app: App, cfg: WebConfig) -> web.Application:
    webapp = web.Application(
        middlewares=[middleware.security_headers, middleware.access], client_max_size=64 * 1024
    )
    webapp[APP_KEY] = app
    webapp[CFG_KEY] = cfg
    webapp[THROTTLE_KEY] = Throttle(cfg.login_free_tries, cfg.login_max_delay)
    aiohttp_jinja2.setup(
        webapp, loader=jinja2.FileSystemLoader(WEBUI / "templates"), autoescape=True
    )
    rules: dict[tuple[str, str], frozenset[str] | None] = {}
    for method, path, handler, roles in routes.ROUTES:
        route = webapp.router.add_route(method, path, handler)
        rules[(method, route.resource.canonical if route.resource else path)] = roles
    static = webapp.router.add_static("/static/", WEBUI / "static", follow_symlinks=False)
    rules[("GET", static.canonical)] = rules[("HEAD", static.canonical)] = None
    webapp[ACCESS_KEY] = rules
    webapp.on_response_prepare.append(_server_header)
    return webapp


async def _server_header(request: web.Request, response: web.StreamResponse) -> None:
    """aiohttp names Python's and its own version; a stranger needs neither."""
    response.headers["Server"] = "veilcam"


def web_services(config: Config) -> list[tuple[str, Callable[[App], Awaitable[None]]]]:
    """The web server, and the plain-HTTP notice server, as extra services for the
    supervisor, when the config has them."""
    out: list[tuple[str, Callable[[App], Awaitable[None]]]] = []
    web_cfg = config.web
    if web_cfg is not None:
        out.append(("web", lambda app: serve(app, web_cfg)))
    if config.privacy.notice_http_port is not None:
        out.append(("notice", serve_notice))
    return out


async def serve_notice(app: App) -> None:
    """The privacy notice alone over plain HTTP, read-only, for shoppers' phones."""
    cfg = app.config.privacy
    webapp = notice.notice_app(app, WEBUI / "templates", WEBUI / "static")
    webapp.on_response_prepare.append(_server_header)
    runner = web.AppRunner(webapp, access_log=None, shutdown_timeout=1.0, keepalive_timeout=15)
    await runner.setup()
    try:
        site = web.TCPSite(runner, cfg.notice_http_host, cfg.notice_http_port)
        await site.start()
        log.info(
            "privacy notice on http://%s:%s/privacy", cfg.notice_http_host, cfg.notice_http_port
        )
        await asyncio.Event().wait()  # until cancelled
    finally:
        await runner.cleanup()


async def serve(app: App, cfg: WebConfig) -> None:
    ssl_ctx, fingerprint = None, ""
    if cfg.tls:
        crt, key = await asyncio.to_thread(
            tls.ensure_certificate, app.data_dir, app.config.site, cfg.host
        )
        app.tls = tls.Served(crt, key)
        ssl_ctx, fingerprint = app.tls.context, app.tls.fingerprint
    # aiohttp arms its keep-alive timer when a connection opens and after each answer, and
    # closes a connection still waiting for a complete request when it fires: that is the
    # header timeout (its default, 3630 s, let idle and trickling clients stay for an hour).
    # The TLS handshake before it is bounded by asyncio's own 60 s.
    runner = web.AppRunner(
        make_web_app(app, cfg),
        access_log=None,
        shutdown_timeout=2.0,
        keepalive_timeout=cfg.header_timeout,
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
