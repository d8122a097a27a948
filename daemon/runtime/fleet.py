"""What head office may ask of the box over MQTT (``fleet.commands``), as handlers on the
application: a capture, an acknowledgement, a cabinet's limits within their caps, a status
report. Each returns figures and ids, never a picture."""

from __future__ import annotations

from typing import Any

from veilcam.alerts.records import acknowledge
from veilcam.errors import ConfigError
from veilcam.fleet.commands import ACTOR, Handler
from veilcam.runtime.context import App


def _number(args: dict[str, Any], key: str) -> float:
    value = args.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ConfigError(f"{key} must be a number, not {value!r}")
    return float(value)


def fleet_handlers(app: App) -> dict[str, Handler]:
    async def capture(args: dict[str, Any]) -> dict[str, Any]:
        camera = args.get("camera")
        if camera not in app.pipeline.cameras:
            known = ", ".join(app.pipeline.cameras) or "none configured"
            raise ConfigError(f"no camera named {camera!r} (cameras: {known})")
        return {"camera": camera, "media_id": await app.pipeline.capture(camera, "remote")}

    async def ack(args: dict[str, Any]) -> dict[str, Any]:
        alarm = args.get("alarm")
        if not isinstance(alarm, int) or isinstance(alarm, bool):
            raise ConfigError(f"alarm must be an alarm's id, not {alarm!r}")
        comment = str(args.get("comment", ""))
        await acknowledge(app.store, alarm, ACTOR, comment, mirror=app.mirror)
        return {"alarm": alarm}

    async def limits(args: dict[str, Any]) -> dict[str, Any]:
        if app.alarms is None:
            raise ConfigError("this box watches no cabinets")
        name = str(args.get("cabinet"))
        warn, alarm = _number(args, "warn_above"), _number(args, "alarm_above")
        old = await app.alarms.change_limits(name, warn, alarm, ACTOR)
        return {
            "cabinet": name,
            "warn_above": warn,
            "alarm_above": alarm,
            "was": [old.warn_above, old.alarm_above],
        }

    async def status(args: dict[str, Any]) -> dict[str, Any]:
        live = app.live_status()
        return {
            "version": live["version"],
            "overall": live["overall"],
            "health": {name: part["state"] for name, part in live["health"].items()},
            "captures_this_run": live["captures_this_run"],
            "blanked_this_run": live["blanked_this_run"],
        }

    return {"capture": capture, "ack": ack, "limits": limits, "status": status}
