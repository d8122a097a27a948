"""Live updates for every signed-in page, by server-sent events."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from veilcam import tokens
from veilcam.events import Subscription
from veilcam.web import display, queries, sessions
from veilcam.web.common import app_of, session_of

RECHECK = 5.0  # seconds between checks that the stream's session still exists


async def _alive(request: web.Request, token_hash: str) -> bool:
    app = app_of(request)
    if token_hash.startswith(tokens.BEARER):
        alive: bool = await app.store.db.read(
            tokens.alive_job, token_hash[len(tokens.BEARER) :], app.clock.now()
        )
        return alive
    alive = await app.store.db.read(sessions.alive_job, token_hash)
    return alive


async def stream(request: web.Request) -> web.StreamResponse:
    """Server-sent events for every signed-in page: door changes, alarm changes and the
    overall health."""
    app = app_of(request)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
    )
    await response.prepare(request)
    subs: dict[str, Subscription[Any]] = {
        "door": app.doors.subscribe(maxsize=64),
        "alarm": app.alarm_changes.subscribe(maxsize=64),
    }
    waiting = {asyncio.ensure_future(sub.get()): kind for kind, sub in subs.items()}
    last_overall = None

    async def send(kind: str, data: dict[str, Any]) -> None:
        await response.write(f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode())

    session = session_of(request)
    checked = app.clock.now()
    try:
        while True:
            done, _ = await asyncio.wait(waiting, timeout=5, return_when=asyncio.FIRST_COMPLETED)
            if app.clock.now() - checked >= RECHECK or not done:
                # Signed out, password changed, user disabled or token revoked: the
                # stream ends with the session, within RECHECK seconds.
                if not await _alive(request, session.token_hash):
                    await send("signedout", {})
                    break
                checked = app.clock.now()
            for task in done:
                kind = waiting.pop(task)
                event = task.result()
                if kind == "door":
                    n, _state = await app.store.db.read(
                        queries.door_summary_job, display.local_midnight(app.clock.now())
                    )
                    state = "open" if event.open else "closed"
                    await send("door", {"door": event.door, "state": state, "openings_today": n})
                else:
                    await send(
                        "alarm",
                        {
                            "source": event.source,
                            "subject": event.subject,
                            "rule": event.rule,
                            "change": event.change,
                            "level": event.level,
                            "message": event.message,
                        },
                    )
                waiting[asyncio.ensure_future(subs[kind].get())] = kind
            overall = app.health.overall()
            if overall != last_overall:
                await send("health", {"overall": overall})
                last_overall = overall
            elif not done:  # a comment: finds a browser that went away, keeps proxies alive
                await response.write(b": ping\n\n")
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        for task in waiting:
            task.cancel()
        for sub in subs.values():
            sub.close()
    return response
