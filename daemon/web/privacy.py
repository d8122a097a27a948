"""The privacy register's pages: shoppers' requests and the disclosures that let data
leave. Managers take requests at the counter; administrators act on them and record
disclosures; auditors read everything and change nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from veilcam.errors import PrivacyRefused
from veilcam.privacy import disclosures, requests
from veilcam.privacy.service import Privacy
from veilcam.web.common import ACTOR, ADMIN, app_of, client_ip, render, session_of
from veilcam.web.display import when

RECEIVERS = frozenset({"admin", "manager"})  # may take a shopper's request
PRIVACY_READERS = frozenset({"admin", "manager", "auditor"})
DISCLOSURE_READERS = frozenset({"admin", "auditor"})


def privacy_of(request: web.Request) -> Privacy:
    p = app_of(request).privacy
    if p is None:
        raise web.HTTPServiceUnavailable(text="privacy register not running")
    return p


def act_of(request: web.Request) -> Any:
    return privacy_of(request).act(request[ACTOR], client_ip(request))


def local_time(value: Any) -> float | None:
    """A form's ``YYYY-MM-DDTHH:MM`` (datetime-local, the appliance's time zone)."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text).astimezone().timestamp()
    except ValueError:
        raise PrivacyRefused(f"not a date and time: {text[:30]!r} (YYYY-MM-DDTHH:MM)") from None


def local_input(t: float) -> str:
    return dt.datetime.fromtimestamp(t).astimezone().strftime("%Y-%m-%dT%H:%M")


def request_id(request: web.Request) -> int:
    return int(request.match_info["request_id"])


def _shown(r: dict[str, Any], now: float, warn: float) -> dict[str, Any]:
    left = r["due_at"] - now
    return dict(
        r,
        received=when(r["received_at"]),
        due=when(r["due_at"]),
        window=(f"{when(r['window_from'])} – {when(r['window_to'])}" if r["window_from"] else "—"),
        overdue=r["status"] == "open" and left <= 0,
        due_soon=r["status"] == "open" and 0 < left <= warn,
        left_h=int(left // 3600),
    )


async def requests_page(request: web.Request, **extra: Any) -> web.Response:
    p = privacy_of(request)
    now = p.clock.now()
    warn = p.config.privacy.warn_before
    rows = [_shown(r, now, warn) for r in await p.store.db.read(requests.list_job)]
    return render(
        request,
        "privacy_requests.html",
        requests=rows,
        kinds=requests.KINDS,
        channels=requests.CHANNELS,
        processing=requests.PROCESSING,
        cameras=p.cameras,
        can_receive=session_of(request).user.role in RECEIVERS,
        now_input=local_input(now),
        days=p.config.privacy.request_days,
        **extra,
    )


async def request_fields(request: web.Request) -> dict[str, Any]:
    form = await request.post()
    return {
        "kind": str(form.get("kind", "")),
        "received_at": local_time(form.get("received")) or privacy_of(request).clock.now(),
        "channel": str(form.get("channel", "")),
        "identity_check": str(form.get("identity_check", "")),
        "description": str(form.get("description", "")),
        "cameras": [str(c) for c in form.getall("cameras", [])],
        "start": local_time(form.get("from")),
        "end": local_time(form.get("to")),
        "processing": str(form.get("processing", "")) or None,
        "correction": str(form.get("correction", "")) or None,
    }


async def requests_add(request: web.Request) -> web.StreamResponse:
    """Record a shopper's request, as received: its due date follows from the settings."""
    try:
        fields = await request_fields(request)
        new = await privacy_of(request).create_request(act_of(request), **fields)
    except PrivacyRefused as exc:
        page = await requests_page(request, error=str(exc))
        page.set_status(400)
        return page
    raise web.HTTPFound(f"/requests/{new}")


async def request_page(request: web.Request, **extra: Any) -> web.Response:
    p = privacy_of(request)
    try:
        req = await p.request(request_id(request))
    except PrivacyRefused as exc:
        raise web.HTTPNotFound(text=str(exc)) from None
    matches = [
        dict(m, when=when(m["created_at"]), until=when(m["expires_at"]))
        for m in await p.matches(req)
    ]
    role = session_of(request).user.role
    records = [
        d for d in await p.store.db.read(disclosures.list_job) if d["request_id"] == req["id"]
    ]
    return render(
        request,
        "privacy_request.html",
        r=_shown(req, p.clock.now(), p.config.privacy.warn_before),
        matches=matches,
        can_act=role in ADMIN,
        records=records,
        processing=requests.PROCESSING,
        when=when,
        **extra,
    )


async def request_act(request: web.Request) -> web.StreamResponse:
    """Erase, restrict, attach a correction or stop a processing, as the request asks, on
    the pictures ticked (every picture of its window when none is)."""
    form = await request.post()
    ids = [str(i) for i in form.getall("ids", [])] or None
    try:
        out = await privacy_of(request).act_on(act_of(request), request_id(request), ids)
    except PrivacyRefused as exc:
        page = await request_page(request, error=str(exc))
        page.set_status(400)
        return page
    return await request_page(request, message=_said(out))


def _said(out: dict[str, Any]) -> str:
    parts = []
    if "deleted" in out and out.get("processing") != "stock_analysis":
        parts.append(f"{len(out['deleted'])} picture(s) erased, their keys destroyed")
    if out.get("held"):
        parts.append(f"{out['held']} kept under a legal hold")
    if out.get("tell"):
        who = ", ".join(sorted({t["recipient"] for t in out["tell"]}))
        parts.append(f"tell the recipients they were disclosed to: {who}")
    if "restricted" in out:
        parts.append(f"{len(out['restricted'])} picture(s) restricted")
    if "rectified" in out:
        parts.append(f"correction attached to {len(out['rectified'])} picture(s)")
    if "withdrawn" in out:
        parts.append(f"{out['withdrawn']} stock result(s) withdrawn; the window is skipped")
    return "; ".join(parts) or "done"


async def request_lift(request: web.Request) -> web.StreamResponse:
    try:
        n = await privacy_of(request).lift(act_of(request), request_id(request))
    except PrivacyRefused as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    return await request_page(request, message=f"restriction lifted on {n} picture(s)")


async def request_answer(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    try:
        await privacy_of(request).answer(
            act_of(request),
            request_id(request),
            str(form.get("status", "")),
            str(form.get("reply", "")),
        )
    except PrivacyRefused as exc:
        page = await request_page(request, error=str(exc))
        page.set_status(400)
        return page
    raise web.HTTPFound(f"/requests/{request_id(request)}")


async def request_export(request: web.Request) -> web.StreamResponse:
    """An access request's zip: its pictures (captioned) and a manifest; only under a
    disclosure record that names the request (``?disclosure=N``)."""
    n = request_id(request)
    try:
        body = await privacy_of(request).export_access(
            act_of(request), n, request.query.get("disclosure")
        )
    except PrivacyRefused as exc:
        raise web.HTTPForbidden(text=str(exc)) from None
    return web.Response(
        body=body,
        content_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="veilcam-access-request-{n}.zip"',
            "Cache-Control": "no-store",
        },
    )


async def picture_download(request: web.Request) -> web.StreamResponse:
    """A picture to take away: captioned with its disclosure record (``?disclosure=N``)."""
    media_id = request.match_info["media_id"]
    try:
        jpeg = await privacy_of(request).export_picture(
            act_of(request), media_id, request.query.get("disclosure")
        )
    except PrivacyRefused as exc:
        raise web.HTTPForbidden(text=str(exc)) from None
    return web.Response(
        body=jpeg,
        content_type="image/jpeg",
        headers={
            "Content-Disposition": f'attachment; filename="veilcam-{media_id[:12]}.jpg"',
            "Cache-Control": "no-store",
        },
    )


async def disclosures_page(request: web.Request, **extra: Any) -> web.Response:
    p = privacy_of(request)
    rows = [
        dict(d, when=when(d["at"]), valid=when(d["valid_until"]))
        for d in await p.store.db.read(disclosures.list_job)
    ]
    return render(
        request,
        "privacy_disclosures.html",
        disclosures=rows,
        can_disclose=session_of(request).user.role in ADMIN,
        prefill={k: request.query.get(k, "") for k in ("items", "request", "recipient", "basis")},
        **extra,
    )


async def disclosures_add(request: web.Request) -> web.StreamResponse:
    """Record a disclosure (the approving administrator is whoever records it)."""
    form = await request.post()
    req = str(form.get("request", "")).strip()
    items = str(form.get("items", "")).split()
    try:
        if req and not req.isdigit():
            raise PrivacyRefused(f"not a request number: {req[:20]!r}")
        new = await privacy_of(request).disclose(
            act_of(request),
            recipient=str(form.get("recipient", "")),
            legal_basis=str(form.get("legal_basis", "")),
            purpose=str(form.get("purpose", "")),
            items=items + ([f"request:{req}"] if req else []),
            request_id=int(req) if req else None,
        )
    except PrivacyRefused as exc:
        page = await disclosures_page(request, error=str(exc))
        page.set_status(400)
        return page
    return await disclosures_page(
        request, message=f"disclosure record #{new} made; exports may now name it", made=new
    )
