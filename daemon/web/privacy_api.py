"""The privacy registers under ``/api/privacy/``: the same operations as the pages, JSON in
and out, for a data-protection officer's scripts."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from veilcam.errors import PrivacyRefused
from veilcam.privacy import breaches, disclosures, holds, requests
from veilcam.web.privacy import act_of, privacy_of, request_id

MAX_BODY = 64 * 1024


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=request.content_length)
    try:
        body = json.loads(await request.text() or "{}")
    except json.JSONDecodeError as exc:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"body is not JSON: {exc}"}), content_type="application/json"
        ) from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text='{"error": "body must be a JSON object"}', content_type="application/json"
        )
    return body


def _refused(exc: PrivacyRefused) -> web.Response:
    return web.json_response({"error": str(exc)}, status=400)


def _num(body: dict[str, Any], key: str) -> float | None:
    v = body.get(key)
    if v is None:
        return None
    if not isinstance(v, int | float) or isinstance(v, bool):
        raise PrivacyRefused(f"{key} must be a Unix time in seconds")
    return float(v)


async def api_requests(request: web.Request) -> web.Response:
    """Every shopper's request, open ones first by due date."""
    rows = await privacy_of(request).store.db.read(requests.list_job)
    return web.json_response({"requests": rows})


async def api_requests_add(request: web.Request) -> web.Response:
    """Record a request: kind, channel, identity_check, description, cameras, start, end
    (Unix seconds), received_at, processing (objection), correction (rectification)."""
    body = await _body(request)
    p = privacy_of(request)
    try:
        cams = body.get("cameras", [])
        if not isinstance(cams, list) or not all(isinstance(c, str) for c in cams):
            raise PrivacyRefused("cameras must be a list of camera names")
        new = await p.create_request(
            act_of(request),
            kind=str(body.get("kind", "")),
            received_at=_num(body, "received_at") or p.clock.now(),
            channel=str(body.get("channel", "")),
            identity_check=str(body.get("identity_check", "")),
            description=str(body.get("description", "")),
            cameras=cams,
            start=_num(body, "start"),
            end=_num(body, "end"),
            processing=body.get("processing"),
            correction=body.get("correction"),
        )
    except PrivacyRefused as exc:
        return _refused(exc)
    return web.json_response({"id": new, "request": await p.request(new)}, status=201)


async def api_request(request: web.Request) -> web.Response:
    """One request with the pictures its window matches."""
    p = privacy_of(request)
    try:
        req = await p.request(request_id(request))
    except PrivacyRefused as exc:
        return web.json_response({"error": str(exc)}, status=404)
    matches = [
        {k: m[k] for k in ("id", "camera", "kind", "created_at", "expires_at", "restricted_by")}
        for m in await p.matches(req)
    ]
    return web.json_response({"request": req, "matches": matches})


async def api_request_act(request: web.Request) -> web.Response:
    """Act on a request (erase, restrict, rectify, object): ids, or every picture."""
    body = await _body(request)
    ids = body.get("ids")
    if ids is not None and not (isinstance(ids, list) and all(isinstance(i, str) for i in ids)):
        return web.json_response({"error": "ids must be a list of picture ids"}, status=400)
    try:
        out = await privacy_of(request).act_on(act_of(request), request_id(request), ids)
    except PrivacyRefused as exc:
        return _refused(exc)
    return web.json_response(out)


async def api_request_answer(request: web.Request) -> web.Response:
    """Close a request: status answered or refused, with the reply sent."""
    body = await _body(request)
    try:
        await privacy_of(request).answer(
            act_of(request),
            request_id(request),
            str(body.get("status", "")),
            str(body.get("reply", "")),
        )
    except PrivacyRefused as exc:
        return _refused(exc)
    return web.json_response({"answered": request_id(request)})


async def api_disclosures(request: web.Request) -> web.Response:
    """The disclosure register."""
    rows = await privacy_of(request).store.db.read(disclosures.list_job)
    return web.json_response({"disclosures": rows})


async def api_disclosures_add(request: web.Request) -> web.Response:
    """Record a disclosure: recipient, legal_basis, purpose, items, request_id."""
    body = await _body(request)
    items = body.get("items", [])
    req = body.get("request_id")
    try:
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise PrivacyRefused(
                "items must be a list like ['media:ID', 'request:N', 'camera:NAME']"
            )
        if req is not None and (not isinstance(req, int) or isinstance(req, bool)):
            raise PrivacyRefused("request_id must be a number")
        new = await privacy_of(request).disclose(
            act_of(request),
            recipient=str(body.get("recipient", "")),
            legal_basis=str(body.get("legal_basis", "")),
            purpose=str(body.get("purpose", "")),
            items=items + ([f"request:{req}"] if req is not None else []),
            request_id=req,
        )
    except PrivacyRefused as exc:
        return _refused(exc)
    return web.json_response({"id": new}, status=201)


async def api_holds(request: web.Request) -> web.Response:
    """Legal holds, active first."""
    return web.json_response({"holds": await privacy_of(request).store.db.read(holds.list_job)})


async def api_retention(request: web.Request) -> web.Response:
    """Per retention class: limit, cap, oldest item, deleted in 30 days, under hold."""
    return web.json_response({"classes": await privacy_of(request).retention_report()})


async def api_breaches(request: web.Request) -> web.Response:
    """The breach register, with each one's 72-hour deadline."""
    rows = await privacy_of(request).store.db.read(breaches.list_job)
    return web.json_response({"breaches": rows})
