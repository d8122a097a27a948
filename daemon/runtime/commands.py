"""Control-socket commands, each a small function of the App."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from veilcam import renewal
from veilcam.accounts import Accounts
from veilcam.capture.calibration import calibrate as take_reference
from veilcam.errors import ControlError
from veilcam.redaction.redactor import VisionRedactor
from veilcam.runtime.console import console_handlers
from veilcam.tokens import Tokens

if TYPE_CHECKING:
    from veilcam.control.server import Handler
    from veilcam.runtime.context import App


def control_handlers(app: App) -> dict[str, Handler]:
    async def capture(request: dict[str, Any], actor: str) -> dict[str, Any]:
        camera = request.get("camera")
        if camera not in app.pipeline.cameras:
            known = ", ".join(app.pipeline.cameras) or "none configured"
            raise ControlError(f"no camera named {camera!r} (cameras: {known})")
        return {"media_id": await app.pipeline.capture(camera, "manual")}

    async def status(request: dict[str, Any], actor: str) -> dict[str, Any]:
        return {"live": app.live_status()}

    async def calibrate(request: dict[str, Any], actor: str) -> dict[str, Any]:
        camera = request.get("camera")
        if camera not in app.pipeline.cameras:
            known = ", ".join(app.pipeline.cameras) or "none configured"
            raise ControlError(f"no camera named {camera!r} (cameras: {known})")
        redactor = app.pipeline.redactor
        if not isinstance(redactor, VisionRedactor):
            raise ControlError("the vision models are not loaded; see `veilcam status`")
        empty = request.get("empty", False)
        if not isinstance(empty, bool):
            raise ControlError("calibrate: empty must be true or false")
        return await take_reference(app.pipeline, redactor, camera, empty=empty)

    async def users_add(request: dict[str, Any], actor: str) -> dict[str, Any]:
        username, role, password = (request.get(k) for k in ("username", "role", "password"))
        if not (isinstance(username, str) and isinstance(role, str) and isinstance(password, str)):
            raise ControlError("users.add needs username, role and password")
        user_id = await Accounts(app.store).add(username, role, password, actor=actor)
        return {"id": user_id}

    async def users_list(request: dict[str, Any], actor: str) -> dict[str, Any]:
        return {"users": await Accounts(app.store).list()}

    async def tokens_add(request: dict[str, Any], actor: str) -> dict[str, Any]:
        name, role, days = (request.get(k) for k in ("name", "role", "days"))
        if not (isinstance(name, str) and isinstance(role, str) and isinstance(days, int)):
            raise ControlError("tokens.add needs name, role and days")
        return {"token": await Tokens(app.store).add(name, role, actor, days)}

    async def tokens_list(request: dict[str, Any], actor: str) -> dict[str, Any]:
        return {"tokens": await Tokens(app.store).list()}

    async def tokens_revoke(request: dict[str, Any], actor: str) -> dict[str, Any]:
        name = request.get("name")
        if not isinstance(name, str):
            raise ControlError("tokens.revoke needs the token's name")
        await Tokens(app.store).revoke(name, actor)
        return {"revoked": name}

    async def keys_rotate(request: dict[str, Any], actor: str) -> dict[str, Any]:
        assert app.rotation is not None
        return {"key": await app.rotation.start(actor)}

    async def keys_status(request: dict[str, Any], actor: str) -> dict[str, Any]:
        assert app.rotation is not None
        return {"rotation": await app.rotation.status()}

    async def tls_renew(request: dict[str, Any], actor: str) -> dict[str, Any]:
        cert_file, key_file = request.get("cert_file"), request.get("key_file")
        if not all(f is None or isinstance(f, str) for f in (cert_file, key_file)):
            raise ControlError("tls.renew: cert_file and key_file must be paths")
        listen = app.config.web.host if app.config.web else ""
        return await renewal.renew(
            app.store,
            app.data_dir,
            app.config.site,
            actor,
            listen=listen,
            served=app.tls,
            cert_file=cert_file,
            key_file=key_file,
        )

    return {
        "capture": capture,
        "tls.renew": tls_renew,
        "keys.rotate": keys_rotate,
        "keys.status": keys_status,
        "status": status,
        "calibrate": calibrate,
        "users.add": users_add,
        "users.list": users_list,
        "tokens.add": tokens_add,
        "tokens.list": tokens_list,
        "tokens.revoke": tokens_revoke,
        **console_handlers(app),
    }
