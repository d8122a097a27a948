"""Loading the configuration: one TOML file, decoded into the schema in one pass.

Unknown keys are rejected, every error names the key path and gives a hint, and
retention limits above the product's caps are refused (see ``veilcam.retention``).
"""

from __future__ import annotations

import functools
import re
import typing
from pathlib import Path
from typing import Any

import msgspec

from veilcam import durations
from veilcam.config.schema import CameraConfig, Config, ReplayDepthConfig, ReplaySourceConfig
from veilcam.errors import ConfigError
from veilcam.retention import CLASSES, check_limit

_AT = re.compile(r"^(?P<msg>.*) - at `\$(?P<path>[^`]*)`$", re.S)
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<key>[^`]+)`$")
_MISSING = re.compile(r"^Object missing required field `(?P<key>[^`]+)`$")


def _friendly(exc: msgspec.ValidationError) -> str:
    text = str(exc)
    match = _AT.match(text)
    msg, path = (match["msg"], match["path"].lstrip(".")) if match else (text, "")
    if m := _UNKNOWN.match(msg):
        path = f"{path}.{m['key']}" if path else m["key"]
        msg = "unknown key; check its spelling and the section it is in (see docs/config.md)"
    elif m := _MISSING.match(msg):
        key = m["key"]
        path = f"{path}.{key}" if path else key
        msg = "required key is missing"
        if key == "kind":
            msg += "; one of 'replay', 'v4l2', 'av'"
    elif msg.startswith("Invalid value") and path.endswith("source.kind"):
        msg += "; kind must be one of 'replay', 'v4l2', 'av'"
    return f"{path or '(top level)'}: {msg}"


MAX_BYTES = 1 << 20  # a configuration is a few kilobytes; a megabyte is not one


def _ranges(obj: msgspec.Struct, path: str) -> None:
    """Every duration with a ``Range`` in the schema, checked where it stands."""
    hints = _hints(type(obj))
    for name in obj.__struct_fields__:
        value = getattr(obj, name)
        where = f"{path}.{name}" if path else name
        for extra in getattr(hints.get(name), "__metadata__", ()):
            if isinstance(extra, durations.Range) and (why := extra.why_not(value)):
                raise ConfigError(f"{where}: {why}")
        if isinstance(value, msgspec.Struct):
            _ranges(value, where)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, msgspec.Struct):
                    _ranges(item, f"{where}[{i}]")


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, include_extras=True)


def _check(config: Config) -> None:
    for name in CLASSES:
        why = check_limit(name, config.retention.seconds(name))
        if why:
            raise ConfigError(f"retention.{name}: {why}")
    _ranges(config, "")
    n = config.notify
    if n.retry_min > n.retry_max:
        raise ConfigError("notify.retry_min: longer than notify.retry_max")
    if config.stock.empty_warning_after > config.stock.empty_alarm_after:
        raise ConfigError("stock.empty_warning_after: longer than stock.empty_alarm_after")
    if config.web is not None and config.web.session_idle > config.web.session_max:
        raise ConfigError("web.session_idle: longer than web.session_max")
    if config.mqtt is not None:
        stills = {c.name: c.purpose for c in config.cameras}
        for name in config.mqtt.stills:
            if stills.get(name) not in ("fridge", "floor"):
                why = "no such camera" if name not in stills else "a research camera keeps clips"
                raise ConfigError(f"mqtt.stills: {name!r}: {why}; only stills are published")
    seen: set[str] = set()
    for i, cam in enumerate(config.cameras):
        if cam.name in seen:
            raise ConfigError(f"cameras[{i}].name: {cam.name!r} is used twice; names must differ")
        if cam.depth is not None and cam.purpose != "research":
            raise ConfigError(
                f"cameras[{i}].depth: depth is recorded for research studies only; camera "
                f"{cam.name!r} is a {cam.purpose} camera"
            )
        if cam.purpose == "research" and not cam.research_basis.strip():
            raise ConfigError(
                f"cameras[{i}].research_basis: camera {cam.name!r} is a research camera, "
                "which keeps bodies visible; say the legal basis the store recorded for it"
            )
        if cam.purpose == "research" and (cam.stream is not None or cam.triggers.times):
            what = "stream" if cam.stream is not None else "triggers.times"
            raise ConfigError(
                f"cameras[{i}].{what}: camera {cam.name!r} is a research camera, which records"
                " clips for a running study only, never stills"
            )
        if cam.counting is not None and (cam.purpose != "floor" or cam.stream is None):
            raise ConfigError(
                f"cameras[{i}].counting: visitors are counted on a floor camera's stream;"
                f" {cam.name!r} is a {cam.purpose} camera"
                + ("" if cam.stream is not None else " without a [cameras.stream]")
            )
        if cam.watchlist and cam.purpose != "floor":
            raise ConfigError(
                f"cameras[{i}].watchlist: only a floor camera (at the entrance) compares faces"
                f" with the watchlist, not a {cam.purpose} camera"
            )
        seen.add(cam.name)
        if cam.stream and cam.stream.still_interval < 1:
            raise ConfigError(f"cameras[{i}].stream.still_interval: must be at least 1s")
    if config.storage.reaper_interval < 1:
        raise ConfigError("storage.reaper_interval: must be at least 1s")


def loads(text: str | bytes, *, source: str = "<config>") -> Config:
    """Parse and validate TOML text; raise ConfigError naming the key."""
    if len(text) > MAX_BYTES:
        raise ConfigError(f"{source}: {len(text):,} bytes; a configuration is at most 1 MiB")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"{source}: not UTF-8 text (byte {exc.start}: {text[exc.start : exc.start + 1]!r})"
            ) from None
    try:
        config = msgspec.toml.decode(text, type=Config, dec_hook=durations.decode)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{source}: {_friendly(exc)}") from exc
    except msgspec.DecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc})") from exc
    except RecursionError:
        raise ConfigError(f"{source}: arrays or tables nested too deeply") from None
    try:
        _check(config)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from exc
    return config


def load(path: str | Path) -> Config:
    path = Path(path)
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror or exc})") from exc
    config = loads(text, source=str(path))
    # Relative paths in the file are relative to the file, not to where the daemon started.
    base = path.resolve().parent
    sensors = config.sensors
    if sensors is not None and not Path(sensors.port).is_absolute():
        # The demo's simulated board links its port beside its config, not in the folder
        # the daemon was started from.
        sensors = msgspec.structs.replace(sensors, port=str(base / sensors.port))
    uploads = config.uploads
    if uploads is not None:
        uploads = msgspec.structs.replace(
            uploads, credentials_file=str(base / uploads.credentials_file)
        )
    return msgspec.structs.replace(
        config,
        data_dir=str(base / config.data_dir),
        sensors=sensors,
        cameras=[_resolve_camera(c, base) for c in config.cameras],
        uploads=uploads,
    )


def _resolve_camera(cam: CameraConfig, base: Path) -> CameraConfig:
    if isinstance(cam.depth, ReplayDepthConfig):
        depth = msgspec.structs.replace(cam.depth, path=str(base / cam.depth.path))
        cam = msgspec.structs.replace(cam, depth=depth)
    if isinstance(cam.source, ReplaySourceConfig):
        src = msgspec.structs.replace(cam.source, path=str(base / cam.source.path))
        return msgspec.structs.replace(cam, source=src)
    return cam


def with_data_dir(config: Config, data_dir: str | None) -> Config:
    return config if data_dir is None else msgspec.structs.replace(config, data_dir=data_dir)
