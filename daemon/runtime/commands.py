"""Control-socket commands, each a small function of the App."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from veilcam.accounts import Accounts
from veilcam.capture.calibration import calibrate as take_reference
from veilcam.errors import ControlError
from veilcam.redaction.redactor import VisionRedactor

if TYPE_CHECKING:
    from veilcam.control.server import Handler
    from veilcam.runtime.context import App


def control_handlers(app: App) -> dict[str, Handler]:
    async def capture(request: dict[str, Any]) -> dict[str, Any]:
        camera = request.get("camera")
        if camera not in app.pipeline.cameras:
            known = ", ".join(app.pipeline.cameras) or "none configured"
            raise ControlError(f"no camera named {camera!r} (cameras: {known})")
        return {"media_id": await app.pipeline.capture(camera, "manual")}

    async def status(request: dict[str, Any]) -> dict[str, Any]:
        return {"live": app.live_status()}

    async def calibrate(request: dict[str, Any]) -> dict[str, Any]:
        camera = request.get("camera")
        if camera not in app.pipeline.cameras:
            known = ", ".join(app.pipeline.cameras) or "none configured"
            raise ControlError(f"no camera named {camera!r} (cameras: {known})")
        redactor = app.pipeline.redactor
        if not isinstance(redactor, VisionRedactor):
            raise ControlError("the vision models are not loaded; see `veilcam status`")
        return await take_reference(app.pipeline, redactor, camera)

    async def users_add(request: dict[str, Any]) -> dict[str, Any]:
        username, role, password = (request.get(k) for k in ("username", "role", "password"))
        if not (isinstance(username, str) and isinstance(role, str) and isinstance(password, str)):
            raise ControlError("users.add needs username, role and password")
        actor = str(request.get("actor") or "cli")
        user_id = await Accounts(app.store).add(username, role, password, actor=actor)
        return {"id": user_id}

    async def users_list(request: dict[str, Any]) -> dict[str, Any]:
        return {"users": await Accounts(app.store).list()}

    return {
        "capture": capture,
        "status": status,
        "calibrate": calibrate,
        "users.add": users_add,
        "users.list": users_list,
    }
