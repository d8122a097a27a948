"""aiohttp application: status page, JSON status, static files, security headers."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

import webui

from .. import status

if TYPE_CHECKING:
    from ..app import App
    from ..config import Config

log = logging.getLogger(__name__)

APP_KEY: web.AppKey[App] = web.AppKey("veilcam", object)  # type: ignore[arg-type]

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@web.middleware
async def security_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    response: web.StreamResponse = await handler(request)
    response.headers.update(SECURITY_HEADERS)
    return response


async def _status(request: web.Request, count_files: bool) -> dict[str, Any]:
    app = request.app[APP_KEY]
    return await app.store.db.read(
        functools.partial(status.collect, count_files=count_files), app.data_dir
    )


@aiohttp_jinja2.template("status.html")
async def index(request: web.Request) -> dict[str, Any]:
    return {"status": await _status(request, False), "site": request.app[APP_KEY].config.site}


async def api_status(request: web.Request) -> web.Response:
    data = await _status(request, True)
    data["live"] = request.app[APP_KEY].live_status()
    return web.json_response(data)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"overall": request.app[APP_KEY].health.overall()})


def make_web_app(app: App) -> web.Application:
    webapp = web.Application(middlewares=[security_headers], client_max_size=64 * 1024)
    webapp[APP_KEY] = app
    aiohttp_jinja2.setup(webapp, loader=jinja2.FileSystemLoader(webui.TEMPLATES), autoescape=True)
    webapp.router.add_get("/", index)
    webapp.router.add_get("/api/status", api_status)
    webapp.router.add_get("/healthz", healthz)
    webapp.router.add_static("/static/", webui.STATIC, follow_symlinks=False)
    return webapp


def web_services(config: Config) -> list[tuple[str, Callable[[App], Awaitable[None]]]]:
    """The web server as an extra service for the supervisor, when the config has one."""
    web_cfg = config.web
    if web_cfg is None:
        return []
    return [("web", lambda app: serve(app, web_cfg.host, web_cfg.port))]


async def serve(app: App, host: str, port: int) -> None:
    runner = web.AppRunner(make_web_app(app), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        log.info("status page on http://%s:%d/", host, port)
        await asyncio.Event().wait()  # until cancelled
    finally:
        await runner.cleanup()
