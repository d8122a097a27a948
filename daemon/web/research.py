"""Research studies and their clips in the web UI: the studies (administrators start and stop
them, under the research gate), each study's clips with an audited player."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from veilcam.errors import PrivacyRefused
from veilcam.research import studies
from veilcam.research.service import Research
from veilcam.web.common import ADMIN, app_of, render, session_of
from veilcam.web.display import picture_row, when
from veilcam.web.pages import media_row, served_media
from veilcam.web.privacy import act_of, local_input, local_time

MEDIA_ID_RE = "[0-9a-f]{32}"


def research_of(request: web.Request) -> Research:
    r = app_of(request).research
    if r is None:
        raise web.HTTPServiceUnavailable(text="research is not running")
    return r


def _zones(text: str) -> dict[str, str]:
    """``"bread: x,y x,y x,y; milk: ..."`` -> {"bread": "x,y x,y x,y", ...}."""
    out = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        name, sep, corners = part.partition(":")
        if not sep:
            raise PrivacyRefused(f"write each shelf zone as name: corners, not {part[:40]!r}")
        out[name.strip()] = corners.strip()
    return out


def _corners(polygon: list[list[float]]) -> str:
    return " ".join(f"{x:g},{y:g}" for x, y in polygon)


def clips_job(db: Any, study_id: int) -> list[dict[str, Any]]:
    rows = db.conn.execute(
        "SELECT * FROM media WHERE kind = 'clip' AND study_id = ? AND restricted_by IS NULL"
        " ORDER BY created_at DESC LIMIT 500",
        (study_id,),
    )
    return [picture_row(r) for r in rows]


async def studies_page(request: web.Request, **extra: Any) -> web.Response:
    r = research_of(request)
    rows = []
    for s in await r.store.db.read(studies.list_job):
        now = r.clock.now()
        state = (
            "stopped"
            if s["stopped_at"]
            else "planned"
            if now < s["starts_at"]
            else "ended"
            if now >= s["ends_at"]
            else "running"
        )
        clips = await r.store.db.read(clips_job, s["id"]) if state != "planned" else []
        rows.append(
            dict(
                s,
                state=state,
                starts=when(s["starts_at"]),
                ends=when(s["ends_at"]),
                stopped=when(s["stopped_at"]) if s["stopped_at"] else "",
                areas_text={c: _corners(p) for c, p in s["areas"].items()},
                zones_text={
                    c: "; ".join(f"{z}: {_corners(p)}" for z, p in zs.items())
                    for c, zs in s["zones"].items()
                },
                clip_rows=clips[:50],
            )
        )
    return render(
        request,
        "research_studies.html",
        studies=rows,
        cameras=r.cameras,
        gate_open="research" in r.privacy.open_gates,
        is_admin=session_of(request).user.role in ADMIN,
        now_input=local_input(r.clock.now()),
        **extra,
    )


async def studies_add(request: web.Request) -> web.Response:
    form = await request.post()
    r = research_of(request)
    try:
        areas = {
            cam: str(form.get(f"area_{cam}", "")).strip()
            for cam in r.cameras
            if str(form.get(f"area_{cam}", "")).strip()
        }
        zones = {
            cam: _zones(str(form.get(f"zones_{cam}", "")))
            for cam in areas
            if str(form.get(f"zones_{cam}", "")).strip()
        }
        starts, ends = local_time(form.get("starts")), local_time(form.get("ends"))
        if starts is None or ends is None:
            raise PrivacyRefused("give the study's start and end")
        study_id = await r.create(
            act_of(request),
            name=str(form.get("name", "")),
            purpose=str(form.get("purpose", "")),
            legal_basis=str(form.get("legal_basis", "")),
            starts_at=starts,
            ends_at=ends,
            areas=areas,
            zones=zones,
        )
    except PrivacyRefused as exc:
        page = await studies_page(request, error=str(exc))
        page.set_status(400)
        return page
    return await studies_page(request, message=f"study #{study_id} saved")


async def studies_stop(request: web.Request) -> web.Response:
    study_id = int(request.match_info["study_id"])
    reason = str((await request.post()).get("reason", ""))
    try:
        await research_of(request).stop(act_of(request), study_id, reason)
    except PrivacyRefused as exc:
        page = await studies_page(request, error=str(exc))
        page.set_status(400)
        return page
    return await studies_page(
        request, message=f"study #{study_id} stopped: nothing more is recorded"
    )


def movement_job(db: Any, clip_id: str) -> dict[str, Any]:
    """A clip's movement events, and per track how many frames its pose was placed in."""
    events = [
        dict(r)
        for r in db.conn.execute(
            "SELECT track, at, kind, zone, x, y, depth_mm, duration FROM research_events"
            " WHERE clip_id = ? ORDER BY at, id",
            (clip_id,),
        )
    ]
    tracks = [
        dict(r)
        for r in db.conn.execute(
            "SELECT track, count(*) AS frames, min(at) AS first, max(at) AS last"
            " FROM research_poses WHERE clip_id = ? GROUP BY track ORDER BY track",
            (clip_id,),
        )
    ]
    return {"events": events, "tracks": tracks}


async def clip_page(request: web.Request) -> web.Response:
    row = await media_row(request, "clip_id", clip=True)
    movement = await app_of(request).store.db.read(movement_job, row["id"])
    return render(request, "research_clip.html", c=row, m=movement)


async def clip_mp4(request: web.Request) -> web.Response:
    """A clip for the player (or a depth clip to open): decrypted here, audited."""
    row = await media_row(request, "clip_id", clip=True)
    kind = "video/x-matroska" if row["trigger"] == "depth" else "video/mp4"
    return await served_media(request, row, "clip", kind)
