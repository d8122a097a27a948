"""The appliance itself: health, the administrator's settings, the audit log."""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
from typing import Any

from aiohttp import web

from veilcam import certificate, renewal
from veilcam.clock import synchronised
from veilcam.errors import CertificateError, ConfigError
from veilcam.store import audit
from veilcam.web import display, queries
from veilcam.web.coldchain import cabinet_limits, save_limits
from veilcam.web.common import (
    ACTOR,
    app_of,
    audit_request,
    client_ip,
    render,
)

log = logging.getLogger(__name__)


async def health_page(request: web.Request) -> web.Response:
    app = app_of(request)
    disk = shutil.disk_usage(app.data_dir)
    return render(
        request,
        "health.html",
        health=app.health.snapshot(),
        overall=app.health.overall(),
        disk_free=f"{disk.free / 2**30:.1f} GiB of {disk.total / 2**30:.1f} GiB",
        now=display.when(app.clock.now()),
        clock_sync={True: "synchronised", False: "NOT synchronised", None: "unknown"}[
            await asyncio.to_thread(synchronised)
        ],
        kernels=app.live_status()["kernels"],
        fingerprint=app.tls.fingerprint if app.tls else "",
        not_after=certificate.not_after(app.tls.crt).strftime("%Y-%m-%d") if app.tls else "",
    )


async def certificate_renew(request: web.Request) -> web.StreamResponse:
    """A new self-signed certificate, served to every new connection at once (the browser
    will warn once: compare its fingerprint with the one shown here)."""
    app = app_of(request)
    if app.tls is None:
        raise web.HTTPBadRequest(text="the web UI serves plain HTTP on loopback: no certificate")
    try:
        await renewal.renew(
            app.store,
            app.data_dir,
            app.config.site,
            request[ACTOR],
            listen=app.config.web.host if app.config.web else "",
            served=app.tls,
            ip=client_ip(request),
        )
    except CertificateError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    raise web.HTTPFound("/health")


async def settings_page(request: web.Request, **extra: Any) -> web.Response:
    settings = await app_of(request).store.db.read(queries.settings_job)
    cabinets = cabinet_limits(request)
    return render(request, "settings.html", settings=settings, cabinets=cabinets, **extra)


EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[a-z]{2,}$", re.I)


async def settings_save(request: web.Request) -> web.Response:
    form = await request.post()
    app = app_of(request)
    current = await app.store.db.read(queries.settings_job)
    wanted = {
        "temperature_unit": str(form.get("temperature_unit", current["temperature_unit"])),
        "alert_email": str(form.get("alert_email", current["alert_email"])).strip(),
    }
    if wanted["temperature_unit"] not in ("C", "F"):
        return await _settings_error(request, "temperature unit must be C or F")
    if wanted["alert_email"] and not EMAIL.match(wanted["alert_email"]):
        return await _settings_error(
            request, f"not an e-mail address: {wanted['alert_email'][:60]!r}"
        )
    try:
        changed = await save_limits(request, form, request[ACTOR])
    except ConfigError as exc:
        return await _settings_error(request, str(exc))
    now = app.clock.now()
    for key, value in wanted.items():
        if value != current[key]:
            await app.store.db.write(queries.put_setting_job, key, value, now, request[ACTOR])
            await audit_request(request, "setting.change", key, f"{current[key]!r} -> {value!r}")
            changed.append(key)
    return await settings_page(
        request, message=("saved: " + ", ".join(changed)) if changed else "nothing changed"
    )


async def _settings_error(request: web.Request, text: str) -> web.Response:
    page = await settings_page(request, error=text)
    page.set_status(400)
    return page


async def audit_page(request: web.Request) -> web.Response:
    app = app_of(request)
    entries = await app.store.db.read(queries.audit_job)
    ok, chain = await app.store.db.read(audit.verify)
    await audit_request(request, "audit.view")
    return render(request, "audit.html", entries=entries, chain=chain, chain_ok=ok)
