"""Feature gates in the web UI and under ``/api/privacy/gates``: one administrator proposes
a feature with its legal basis, purpose, impact assessment and signage; the other approves
or refuses; either closes it. Everyone who reads the privacy registers sees them."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from veilcam.errors import PrivacyRefused
from veilcam.privacy import gates
from veilcam.web.common import ADMIN, render, session_of
from veilcam.web.display import when
from veilcam.web.privacy import act_of, privacy_of
from veilcam.web.privacy_api import _body

GATE_READERS = frozenset({"admin", "manager", "auditor"})
FIELDS = ("feature", "legal_basis", "purpose", "dpia_ref", "signage")


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    return dict(
        row,
        proposed=when(row["proposed_at"]),
        decided=when(row["decided_at"]) if row["decided_at"] else "",
        closed=when(row["closed_at"]) if row["closed_at"] else "",
    )


async def gates_page(request: web.Request, **extra: Any) -> web.Response:
    p = privacy_of(request)
    rows = [_shown(r) for r in await p.store.db.read(gates.list_job)]
    me = session_of(request).user
    return render(
        request,
        "privacy_gates.html",
        gates=rows,
        features=gates.FEATURES,
        is_admin=me.role in ADMIN,
        me=me.username,
        **extra,
    )


async def _page_or_error(request: web.Request, fn: Any, message: str) -> web.Response:
    try:
        out = await fn()
    except PrivacyRefused as exc:
        page = await gates_page(request, error=str(exc))
        page.set_status(400)
        return page
    return await gates_page(request, message=message.format(out))


async def gates_propose(request: web.Request) -> web.Response:
    form = await request.post()
    if form.get("signage_posted") != "yes":
        page = await gates_page(
            request, error="confirm that the notice telling shoppers of this feature is posted"
        )
        page.set_status(400)
        return page
    fields = {
        k: str(form.get(k, ""))
        for k in ("feature", "legal_basis", "purpose", "dpia_ref", "signage")
    }
    return await _page_or_error(
        request,
        lambda: privacy_of(request).propose(act_of(request), **fields),
        "gate #{} proposed: the other administrator decides",
    )


async def gates_update(request: web.Request) -> web.Response:
    gate_id = int(request.match_info["gate_id"])
    action = request.match_info["action"]
    reason = str((await request.post()).get("reason", ""))
    p, act = privacy_of(request), act_of(request)
    if action == "close":
        return await _page_or_error(
            request, lambda: p.close_gate(act, gate_id, reason), "{} closed: it stops now"
        )
    approve = action == "approve"
    return await _page_or_error(
        request,
        lambda: p.decide_gate(act, gate_id, approve, reason),
        "{} approved: it may start" if approve else "{} refused",
    )


# JSON


async def api_gates(request: web.Request) -> web.Response:
    """Every feature gate, live ones first: feature, state, basis, purpose, DPIA reference,
    signage, who proposed and who decided."""
    rows = await privacy_of(request).store.db.read(gates.list_job)
    return web.json_response({"gates": rows, "features": gates.FEATURES})


async def api_gates_propose(request: web.Request) -> web.Response:
    body = await _body(request)
    if body.get("signage_posted") is not True:
        return web.json_response({"error": "signage_posted must be true"}, status=400)
    try:
        gate_id = await privacy_of(request).propose(
            act_of(request), **{k: str(body.get(k, "")) for k in FIELDS}
        )
    except PrivacyRefused as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response({"id": gate_id, "state": "proposed"}, status=201)


async def api_gates_update(request: web.Request) -> web.Response:
    body = await _body(request)
    gate_id = int(request.match_info["gate_id"])
    action = request.match_info["action"]
    reason = str(body.get("reason", ""))
    p, act = privacy_of(request), act_of(request)
    try:
        if action == "close":
            feature = await p.close_gate(act, gate_id, reason)
        else:
            feature = await p.decide_gate(act, gate_id, action == "approve", reason)
    except PrivacyRefused as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response({"id": gate_id, "feature": feature, "open": feature in p.open_gates})
