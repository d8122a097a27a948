"""The serial console's commands on the control socket, for a console beside the running
daemon. ``console.login`` checks the account (or the label's recovery code) and gives the
console a session; every other console command names its session, so the audit entries name
``console:<user>``, the person the daemon itself signed in, never a name the request claims.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from veilcam.capture.calibration import calibrate as take_reference
from veilcam.capture.testshot import camera_test
from veilcam.errors import ControlError
from veilcam.field.console_ops import SESSION_GONE, ConsoleOps
from veilcam.redaction.redactor import VisionRedactor

if TYPE_CHECKING:
    from veilcam.control.server import Handler
    from veilcam.runtime.context import App

SESSION_SECONDS = 12 * 3600  # a technician's visit; signing out ends it sooner
ACTION_PREFIX = "console."


def _text(request: dict[str, Any], key: str, limit: int = 256) -> str:
    value = request.get(key, "")
    if not isinstance(value, str) or len(value) > limit:
        raise ControlError(f"{key} must be text of at most {limit} characters")
    return value


def console_handlers(app: App) -> dict[str, Handler]:
    sessions: dict[str, tuple[str, float]] = {}  # token -> (actor, until)
    ops = ConsoleOps(app.store)

    def who(request: dict[str, Any]) -> str:
        now = app.clock.now()
        for token, (_, until) in list(sessions.items()):
            if until <= now:
                del sessions[token]
        got = sessions.get(_text(request, "session"))
        if got is None:
            raise ControlError(f"{SESSION_GONE}: sign in again")
        return got[0]

    def camera_of(request: dict[str, Any]) -> str:
        camera = request.get("camera")
        if camera not in app.pipeline.cameras:
            known = ", ".join(app.pipeline.cameras) or "none configured"
            raise ControlError(f"no camera named {camera!r} (cameras: {known})")
        return str(camera)

    async def login(request: dict[str, Any], actor: str) -> dict[str, Any]:
        got = await ops.login(
            _text(request, "username", 64), _text(request, "password"), _text(request, "port")
        )
        token = secrets.token_urlsafe(24)
        sessions[token] = (got["actor"], app.clock.now() + SESSION_SECONDS)
        return {**got, "session": token}

    async def logout(request: dict[str, Any], actor: str) -> dict[str, Any]:
        who_ = who(request)
        sessions.pop(_text(request, "session"), None)
        await ops.record(who_, "console.logout")
        return {}

    async def record(request: dict[str, Any], actor: str) -> dict[str, Any]:
        action = _text(request, "action", 64)
        if not action.startswith(ACTION_PREFIX):
            raise ControlError(f"console actions start with {ACTION_PREFIX!r}")
        await ops.record(who(request), action, _text(request, "object"), _text(request, "detail"))
        return {}

    async def reset_admin(request: dict[str, Any], actor: str) -> dict[str, Any]:
        return {"password": await ops.reset_admin(who(request), _text(request, "username", 64))}

    async def retention(request: dict[str, Any], actor: str) -> dict[str, Any]:
        floor = app.config.storage.min_free_mb * 2**20
        return {"report": await ops.retention_run(who(request), floor)}

    async def camera(request: dict[str, Any], actor: str) -> dict[str, Any]:
        by, name = who(request), camera_of(request)
        result = await camera_test(app.pipeline, name)
        await ops.record(by, "console.camera-test", name, str(result["regions"]))
        return {"test": result}

    async def calibrate(request: dict[str, Any], actor: str) -> dict[str, Any]:
        by, name = who(request), camera_of(request)
        redactor = app.pipeline.redactor
        if not isinstance(redactor, VisionRedactor):
            raise ControlError("the vision models are not loaded; see `status`")
        empty = request.get("empty", False) is True
        try:
            got = await take_reference(app.pipeline, redactor, name, empty=empty)
        except ControlError as exc:
            await ops.record(by, "console.calibrate.refused", name, str(exc))
            raise
        await ops.record(by, "console.calibrate", name, "empty" if empty else "reference")
        return got

    return {
        "console.login": login,
        "console.logout": logout,
        "console.record": record,
        "console.resetadmin": reset_admin,
        "console.retention": retention,
        "console.camera": camera,
        "console.calibrate": calibrate,
    }
