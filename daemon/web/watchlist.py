"""The watchlist in the web UI: only for the two administrators who opened its gate.

``/watchlist`` lists the entries and the matches waiting for review; an operator registers
a person from one to five photos (a file upload, read here as a stream with its own caps;
its CSRF token travels in the form's action), the other approves or refuses, either
removes. A match's evidence crop is shown only here, to an operator, each view audited.
"""

from __future__ import annotations

from typing import Any

from aiohttp import BodyPartReader, web

from veilcam.errors import ConfigError, FeatureClosed, PrivacyRefused
from veilcam.faces import watchlist as jobs
from veilcam.faces.service import MAX_PHOTO_BYTES, MAX_PHOTOS, Watchlist
from veilcam.web.common import app_of, audit_request, render
from veilcam.web.display import when
from veilcam.web.pages import MEDIA_ID
from veilcam.web.privacy import act_of

FIELD_BYTES = 2000  # reference, category, days
SHARE_BYTES = 32 * 2**20


def watchlist_of(request: web.Request) -> Watchlist:
    w = app_of(request).watchlist
    if w is None:
        raise web.HTTPServiceUnavailable(text="the watchlist is not running")
    return w


def matches_job(db: Any) -> list[dict[str, Any]]:
    """Open watchlist alarms with their evidence, newest first."""
    rows = db.conn.execute(
        "SELECT a.id, a.subject, a.opened_at, a.peak, a.message, a.acked_at, a.closed_at,"
        " (SELECT m.id FROM media m WHERE m.kind = 'evidence' AND m.trigger ="
        "  'watchlist:' || substr(a.subject, 7) AND m.created_at >= a.opened_at - 5"
        "  ORDER BY m.created_at LIMIT 1) AS evidence"
        " FROM alarms a WHERE a.source = 'watchlist' ORDER BY a.opened_at DESC LIMIT 50"
    )
    return [dict(r) for r in rows]


async def watchlist_page(request: web.Request, **extra: Any) -> web.Response:
    w, act = watchlist_of(request), act_of(request)
    status = 200
    entries: list[dict[str, Any]] = []
    try:
        entries = await w.entries(act)
    except FeatureClosed as exc:
        extra.setdefault("error", f"{exc}. Nothing is registered or compared until then.")
        status = 0  # a page to read, not a refusal
    except PrivacyRefused as exc:
        extra.setdefault("error", str(exc))
        status = 403
    for e in entries:
        e["proposed"], e["expires"] = when(e["proposed_at"]), when(e["expires_at"])
    matches = await w.store.db.read(matches_job) if status == 200 else []
    operator, status = status == 200, status or 200
    for m in matches:
        m["opened"] = when(m["opened_at"])
    page = render(
        request,
        "watchlist.html",
        entries=entries,
        matches=matches,
        categories=jobs.CATEGORIES,
        me=act.actor,
        operator=operator,
        max_photos=MAX_PHOTOS,
        sharing=app_of(request).config.watchlist.sharing,
        **extra,
    )
    page.set_status(extra.get("status", status))
    return page


async def _read_upload(request: web.Request) -> tuple[list[bytes], dict[str, str]]:
    """The photos and fields of the registration form, each capped as it streams in."""
    photos: list[bytes] = []
    fields: dict[str, str] = {}
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise PrivacyRefused("the form holds a nested multipart part")
        if part.name == "photos" and part.filename:
            if len(photos) == MAX_PHOTOS:
                raise PrivacyRefused(f"at most {MAX_PHOTOS} photos")
            data = bytearray()
            while chunk := await part.read_chunk(1 << 16):
                data += chunk
                if len(data) > MAX_PHOTO_BYTES:
                    raise PrivacyRefused(f"photo {len(photos) + 1} is over 15 MB")
            photos.append(bytes(data))
        elif part.name in ("reference", "category", "days", "keep"):
            raw = await part.read(decode=True)
            if len(raw) > FIELD_BYTES:
                raise PrivacyRefused(f"{part.name} is too long")
            fields[part.name] = raw.decode("utf-8", "replace")
        else:
            await part.release()
    return photos, fields


async def watchlist_register(request: web.Request) -> web.Response:
    w, act = watchlist_of(request), act_of(request)
    try:
        photos, fields = await _read_upload(request)
        days = int(fields.get("days") or jobs.DEFAULT_DAYS)
        entry = await w.register(
            act,
            photos,
            reference=fields.get("reference", ""),
            category=fields.get("category", ""),
            days=days,
            keep_photos=fields.get("keep") == "yes",
        )
    except (PrivacyRefused, ValueError) as exc:
        await audit_request(request, "watchlist.register.refused", None, str(exc)[:200])
        return await watchlist_page(request, error=str(exc), status=400)
    return await watchlist_page(
        request, message=f"entry #{entry} registered: the other administrator decides"
    )


async def watchlist_update(request: web.Request) -> web.Response:
    w, act = watchlist_of(request), act_of(request)
    entry = int(request.match_info["entry_id"])
    action = request.match_info["action"]
    reason = str((await request.post()).get("reason", ""))
    try:
        if action == "remove":
            await w.remove(act, entry, reason)
        else:
            await w.decide(act, entry, action == "approve", reason)
    except PrivacyRefused as exc:
        return await watchlist_page(request, error=str(exc), status=400)
    done = {"approve": "approved: it is matched from now", "refuse": "refused", "remove": "removed"}
    return await watchlist_page(request, message=f"entry #{entry} {done[action]}")


async def watchlist_share(request: web.Request) -> web.Response:
    """The active entries for the group's other sites, under the group's key: a disclosure,
    recorded with it."""
    w, act, app = watchlist_of(request), act_of(request), app_of(request)
    try:
        body = await w.export_shared(act, app.config.watchlist.sharing, app.config.site)
    except (PrivacyRefused, ConfigError) as exc:
        return await watchlist_page(request, error=str(exc), status=400)
    name = f"veilcam-watchlist-{app.config.site}.json"
    return web.Response(
        body=body,
        content_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


async def watchlist_import(request: web.Request) -> web.Response:
    """Entries another site of the group shared: each proposed here."""
    w, act, app = watchlist_of(request), act_of(request), app_of(request)
    try:
        reader = await request.multipart()
        data = b""
        while (part := await reader.next()) is not None:
            if isinstance(part, BodyPartReader) and part.name == "file":
                buf = bytearray()
                while chunk := await part.read_chunk(1 << 16):
                    buf += chunk
                    if len(buf) > SHARE_BYTES:
                        raise PrivacyRefused("the share file is over 32 MB")
                data = bytes(buf)
            else:
                await part.release()
        added, refused = await w.import_shared(act, app.config.watchlist.sharing, data)
    except (PrivacyRefused, ConfigError) as exc:
        return await watchlist_page(request, error=str(exc), status=400)
    msg = f"{len(added)} shared entry(ies) proposed: the other administrator decides"
    if refused:
        msg += f"; refused: {'; '.join(refused[:5])}"
    return await watchlist_page(request, message=msg)


async def watchlist_rekey(request: web.Request) -> web.Response:
    """A new site key: every kept template (and kept photo) moves to it; the old one is
    destroyed, so copies of the old database or key stop matching."""
    w, act = watchlist_of(request), act_of(request)
    try:
        moved = await w.rekey(act)
    except PrivacyRefused as exc:
        return await watchlist_page(request, error=str(exc), status=400)
    return await watchlist_page(request, message=f"site key renewed: {moved} template(s) moved")


async def photo_jpeg(request: web.Request) -> web.Response:
    """A registration photo kept for review, for an operator; every look audited."""
    w, act = watchlist_of(request), act_of(request)
    entry, n = int(request.match_info["entry_id"]), int(request.match_info["n"])
    try:
        data = await w.photo(act, entry, n)
    except PrivacyRefused as exc:
        raise web.HTTPForbidden(text=str(exc)) from None
    if data is None:
        raise web.HTTPNotFound(text=f"entry {entry} keeps no photo {n}")
    return web.Response(body=data, content_type="image/jpeg", headers={"Cache-Control": "no-store"})


async def evidence_jpeg(request: web.Request) -> web.Response:
    """A match's face crop, for an operator reviewing it; every view audited."""
    w, act = watchlist_of(request), act_of(request)
    media_id = request.match_info["evidence_id"]
    if not MEDIA_ID.match(media_id):
        raise web.HTTPNotFound(text="no such evidence")
    try:
        w.require()
        await w.store.db.read(jobs.check_operator, act)
    except PrivacyRefused as exc:
        await audit_request(request, "evidence.view.refused", media_id, str(exc)[:200])
        raise web.HTTPForbidden(text=str(exc)) from None
    row = await w.store.db.read(
        lambda db: db.conn.execute(
            "SELECT kind, restricted_by FROM media WHERE id = ?", (media_id,)
        ).fetchone()
    )
    if row is None or row[0] != "evidence":
        raise web.HTTPNotFound(text="no such evidence (it may have expired after 72 hours)")
    data = await w.store.read_picture(media_id)
    await audit_request(request, "evidence.view", media_id, None)
    return web.Response(body=data, content_type="image/jpeg", headers={"Cache-Control": "no-store"})
