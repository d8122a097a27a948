"""The notice to shoppers, without signing in: ``/privacy`` (the second layer, for a phone
that scanned the printed notice's QR code) and ``/privacy/notice.pdf`` (the A4 to print).
Made from the settings and the open feature gates; it holds no personal data, so it may
also be served read-only over plain HTTP on the shop's network (``notice_app``)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp_jinja2
import jinja2
from aiohttp import web

from veilcam.config import Config
from veilcam.privacy.notice import Notice, build
from veilcam.web import middleware
from veilcam.web.common import APP_KEY, app_of, render

if TYPE_CHECKING:
    from veilcam.runtime.context import App

log = logging.getLogger(__name__)


def _language(request: web.Request, offered: Sequence[str]) -> str:
    """``?lang=`` when offered, else the browser's first offered language, else the first."""
    asked = request.query.get("lang", "")
    if asked in offered:
        return asked
    for part in request.headers.get("Accept-Language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in offered:
            return code
    return offered[0]


def notices(config: Config, request: web.Request, first: str) -> list[Notice]:
    app = app_of(request)
    gates = app.privacy.open_gates if app.privacy is not None else {}
    now = time.strftime("%Y-%m-%d %H:%M", time.localtime(app.clock.now()))
    langs = [first, *(c for c in config.privacy.notice_languages if c != first)]
    running: dict[int, tuple[str, str, list[str]]] = {}
    if app.research is not None and gates.get("research"):
        for cam, run in app.research.running.items():
            until = time.strftime("%Y-%m-%d", time.localtime(run.ends_at))
            running.setdefault(run.study_id, (run.name, until, []))[2].append(cam)
    studies = list(running.values())
    return [build(config, gates, now, lang, studies) for lang in langs]


async def privacy_page(request: web.Request) -> web.Response:
    """The second layer of the notice; no sign-in."""
    config = app_of(request).config
    lang = _language(request, config.privacy.notice_languages)
    notice = notices(config, request, lang)[0]
    page = render(request, "privacy_public.html", notice=notice, lang=lang)
    page.headers["Content-Language"] = lang
    return page


async def privacy_pdf(request: web.Request) -> web.Response:
    """The printable A4 notice, a page per language, the asked one first."""
    from veilcam.privacy.notice_pdf import notice_pdf  # fpdf2: only when asked for

    config = app_of(request).config
    lang = _language(request, config.privacy.notice_languages)
    pdf = await asyncio.to_thread(notice_pdf, notices(config, request, lang))
    return web.Response(
        body=pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="privacy-notice-{config.site}.pdf"'},
    )


async def _home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/privacy")


def notice_app(app: App, templates: Path, static: Path) -> web.Application:
    """The notice alone, for plain HTTP: GET and HEAD of the two notice paths and the style
    sheet; no sessions, no sign-in, nothing else of the appliance."""
    webapp = web.Application(middlewares=[middleware.security_headers], client_max_size=1024)
    webapp[APP_KEY] = app
    aiohttp_jinja2.setup(webapp, loader=jinja2.FileSystemLoader(templates), autoescape=True)
    webapp.router.add_get("/", _home)
    webapp.router.add_get("/privacy", privacy_page)
    webapp.router.add_get("/privacy/notice.pdf", privacy_pdf)
    webapp.router.add_static("/static/", static, follow_symlinks=False)
    return webapp
