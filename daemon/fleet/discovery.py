"""Home Assistant's MQTT discovery: the box as one device, its cabinets and cameras as
entities, so a chain (or a store owner) running Home Assistant sees it without writing any
YAML.

One device-based discovery message, retained at ``<discovery_prefix>/device/<id>/config``
(Home Assistant 2024.11 and later): the device (manufacturer, model, serial number,
software version, configuration URL), the origin, the box's availability topic, and per
component its platform and options. Each cabinet gives a temperature sensor
(``device_class: temperature``, ``state_class: measurement``), an alarm problem sensor and,
with a door switch, a door sensor; each camera a problem sensor from its health; the box a
problem sensor from its overall health. Every state expires after three telemetry
intervals without news (``expire_after``).

A cabinet or camera taken out of the configuration is removed from Home Assistant: the
next discovery message carries its components with only their platform, which is Home
Assistant's way to remove a component from a device; the ids last published are kept in
the ``settings`` table to know which went.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from veilcam import __version__
from veilcam.alerts.mqttbox import Message, payload

if TYPE_CHECKING:
    from veilcam.config import Config

SETTING = "mqtt_discovery_components"  # the component ids and platforms last published
SERIAL_FILES = ("/sys/firmware/devicetree/base/serial-number", "/etc/machine-id")


def serial_number(files: tuple[str, ...] = SERIAL_FILES) -> str:
    """The board's serial (a Jetson's or a Pi's device tree), else a stable id derived from
    the machine id (hashed: the machine id itself is meant to stay on the machine)."""
    for name in files:
        try:
            raw = Path(name).read_bytes().strip(b"\x00\n ")
        except OSError:
            continue
        if raw:
            if name.endswith("machine-id"):
                return hashlib.sha256(b"veilcam serial " + raw).hexdigest()[:16]
            return raw.decode(errors="replace")
    return "unknown"


def node_id(config: Config) -> str:
    assert config.mqtt is not None
    return f"veilcam_{config.site}_{config.mqtt.device}".replace("-", "_")


def _problem(name: str, uid: str, topic: str, template: str, expire: int) -> dict[str, Any]:
    return {
        "p": "binary_sensor",
        "name": name,
        "unique_id": uid,
        "device_class": "problem",
        "state_topic": topic,
        "value_template": template,
        "payload_on": "ON",
        "payload_off": "OFF",
        "expire_after": expire,
    }


def components(config: Config, base: str) -> dict[str, dict[str, Any]]:
    """Every entity of the box, by component id."""
    assert config.mqtt is not None
    node = node_id(config)
    expire = int(3 * config.mqtt.interval)
    out: dict[str, dict[str, Any]] = {
        f"{node}_health": _problem(
            "Health",
            f"{node}_health",
            f"{base}/health",
            "{{ 'OFF' if value_json.overall == 'ok' else 'ON' }}",
            expire,
        )
    }
    for cab in config.cabinets:
        key = f"{node}_cabinet_{cab.name}".replace("-", "_")
        out[f"{key}_temperature"] = {
            "p": "sensor",
            "name": f"{cab.name} temperature",
            "unique_id": f"{key}_temperature",
            "device_class": "temperature",
            "state_class": "measurement",
            "unit_of_measurement": "°C",
            "suggested_display_precision": 1,
            "state_topic": f"{base}/cabinet/{cab.name}/temperature",
            "value_template": "{{ value_json.value }}",
            "expire_after": expire,
        }
        out[f"{key}_alarm"] = _problem(
            f"{cab.name} alarm",
            f"{key}_alarm",
            f"{base}/cabinet/{cab.name}/alarm",
            "{{ value_json.state | upper }}",
            expire,
        )
        if cab.door is not None:
            out[f"{key}_door"] = {
                "p": "binary_sensor",
                "name": f"{cab.name} door",
                "unique_id": f"{key}_door",
                "device_class": "door",
                "state_topic": f"{base}/cabinet/{cab.name}/door",
                "value_template": "{{ value_json.state }}",
                "payload_on": "open",
                "payload_off": "closed",
                "expire_after": expire,
            }
    for cam in config.cameras:
        key = f"{node}_camera_{cam.name}".replace("-", "_")
        part = f"camera:{cam.name}"
        out[f"{key}_problem"] = _problem(
            f"camera {cam.name}",
            f"{key}_problem",
            f"{base}/health",
            f"{{{{ 'OFF' if value_json.parts.get('{part}', {{}}).get('state') == 'ok'"
            " else 'ON' }}",
            expire,
        )
    return out


def configuration_url(config: Config) -> str | None:
    web = config.web
    if web is None:
        return None
    host = "127.0.0.1" if web.host in ("0.0.0.0", "::") else web.host
    return f"{'https' if web.tls else 'http'}://{host}:{web.port}/"


def message(
    config: Config, base: str, previous: dict[str, str] | None, serial: str
) -> tuple[Message, dict[str, str]]:
    """The discovery message, and the component ids and platforms it announces; components
    in ``previous`` but no longer configured go with their platform only (removed)."""
    assert config.mqtt is not None
    node = node_id(config)
    current = components(config, base)
    cmps: dict[str, dict[str, Any]] = dict(current)
    for gone, platform in (previous or {}).items():
        if gone not in current:
            cmps[gone] = {"p": platform}
    device: dict[str, Any] = {
        "identifiers": [node],
        "name": f"veilcam {config.site} {config.mqtt.device}",
        "manufacturer": "veilcam",
        "model": f"veilcam appliance ({Path(config.vision.board).stem} board)",
        "serial_number": serial,
        "sw_version": __version__,
    }
    if (url := configuration_url(config)) is not None:
        device["configuration_url"] = url
    doc = {
        "device": device,
        "origin": {"name": "veilcam", "sw_version": __version__},
        "availability_topic": f"{base}/availability",
        "payload_available": "online",
        "payload_not_available": "offline",
        "qos": 1,
        "components": cmps,
    }
    topic = f"device/{node}/config"
    return Message("state", topic, payload(doc), retain=True), {
        k: v["p"] for k, v in current.items()
    }


def previous_job(db: Database) -> dict[str, str] | None:
    row = db.conn.execute("SELECT value FROM settings WHERE key = ?", (SETTING,)).fetchone()
    if row is None:
        return None
    value: dict[str, str] = json.loads(row[0])
    return value


def remember_job(db: Database, announced: dict[str, str], now: float) -> None:
    db.conn.execute(
        "INSERT INTO settings (key, value, changed_at, changed_by) VALUES (?, ?, ?, 'system')"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
        " changed_at = excluded.changed_at",
        (SETTING, json.dumps(announced, sort_keys=True), now),
    )
