"""Legal holds, the retention report and the breach register."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from veilcam.durations import format_duration
from veilcam.errors import PrivacyRefused
from veilcam.privacy import breaches, holds
from veilcam.web.common import ADMIN, render, session_of
from veilcam.web.display import when
from veilcam.web.privacy import act_of, local_input, local_time, privacy_of

BREACH_RECORDERS = frozenset({"admin", "manager"})  # whoever finds one records it


async def holds_page(request: web.Request, **extra: Any) -> web.Response:
    p = privacy_of(request)
    rows = [
        dict(
            h,
            window=f"{when(h['window_from'])} – {when(h['window_to'])}",
            ends=when(h["until"]),
            lifted=(when(h["lifted_at"]) + f" ({h['lifted_by']})") if h["lifted_at"] else "",
        )
        for h in await p.store.db.read(holds.list_job)
    ]
    caps = {c: format_duration(holds.hold_cap(c)) for c in holds.KIND_OF}
    return render(
        request,
        "privacy_holds.html",
        holds=rows,
        caps=caps,
        cameras=p.cameras,
        can_hold=session_of(request).user.role in ADMIN,
        now_input=local_input(p.clock.now()),
        **extra,
    )


async def holds_add(request: web.Request) -> web.StreamResponse:
    """Place a legal hold (administrators): a reason, a reference, an end within the cap."""
    form = await request.post()
    camera = str(form.get("camera", ""))
    try:
        until = local_time(form.get("until"))
        if until is None:
            raise PrivacyRefused("give the hold's end")
        out = await privacy_of(request).place_hold(
            act_of(request),
            class_name=str(form.get("class", "")),
            cameras=[camera] if camera else [],
            start=local_time(form.get("from")),
            end=local_time(form.get("to")),
            reason=str(form.get("reason", "")),
            reference=str(form.get("reference", "")),
            until=until,
        )
    except PrivacyRefused as exc:
        page = await holds_page(request, error=str(exc))
        page.set_status(400)
        return page
    return await holds_page(request, message=f"hold #{out['id']} placed on {out['items']} item(s)")


async def holds_lift(request: web.Request) -> web.StreamResponse:
    try:
        n = await privacy_of(request).lift_hold(act_of(request), int(request.match_info["hold_id"]))
    except PrivacyRefused as exc:
        page = await holds_page(request, error=str(exc))
        page.set_status(400)
        return page
    return await holds_page(request, message=f"hold lifted: {n} item(s) back to their limit")


async def retention_page(request: web.Request) -> web.Response:
    p = privacy_of(request)
    rows = []
    for r in await p.retention_report():
        rows.append(
            dict(
                r,
                limit_text=format_duration(r["limit"]) if r["limit"] else "—",
                cap_text=format_duration(r["cap"]) if r["cap"] else "no cap (not personal)",
                hold_text=format_duration(r["hold_cap"]) if r["hold_cap"] else "—",
                oldest_text=when(r["oldest"]) if r["oldest"] else "—",
            )
        )
    return render(request, "privacy_retention.html", classes=rows)


def breach_rows(rows: list[dict[str, Any]], now: float) -> list[dict[str, Any]]:
    return [
        dict(
            b,
            discovered=when(b["discovered_at"]),
            deadline_text=when(b["deadline"]),
            left_h=int((b["deadline"] - now) // 3600),
            left_s=b["deadline"] - now,
            notified=when(b["notified_at"]) if b["notified_at"] else "",
        )
        for b in rows
    ]


async def breaches_page(request: web.Request, **extra: Any) -> web.Response:
    p = privacy_of(request)
    role = session_of(request).user.role
    return render(
        request,
        "privacy_breaches.html",
        breaches=breach_rows(await p.store.db.read(breaches.list_job), p.clock.now()),
        can_record=role in BREACH_RECORDERS,
        can_decide=role in ADMIN,
        now_input=local_input(p.clock.now()),
        when=when,
        **extra,
    )


async def breaches_add(request: web.Request) -> web.StreamResponse:
    """Record a breach as soon as it is found: the 72-hour clock runs from its discovery."""
    form = await request.post()
    try:
        new = await privacy_of(request).record_breach(
            act_of(request),
            discovered_at=local_time(form.get("discovered")) or privacy_of(request).clock.now(),
            summary=str(form.get("summary", "")),
            affected=str(form.get("affected", "")),
        )
    except PrivacyRefused as exc:
        page = await breaches_page(request, error=str(exc))
        page.set_status(400)
        return page
    return await breaches_page(request, message=f"breach {new} recorded; the 72-hour clock runs")


async def breaches_update(request: web.Request) -> web.StreamResponse:
    """A decision, the authority notified, or why notifying is not required."""
    form = await request.post()
    p, n = privacy_of(request), int(request.match_info["breach_id"])
    action = request.match_info["action"]
    try:
        if action == "decide":
            await p.decide(act_of(request), n, str(form.get("decision", "")))
        elif action == "notified":
            at = local_time(form.get("notified_at")) or p.clock.now()
            await p.settle(
                act_of(request), n, notified_at=at, reference=str(form.get("reference", ""))
            )
        else:
            await p.settle(act_of(request), n, not_required=str(form.get("reason", "")))
    except PrivacyRefused as exc:
        page = await breaches_page(request, error=str(exc))
        page.set_status(400)
        return page
    raise web.HTTPFound("/breaches")
