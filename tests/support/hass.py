"""Home Assistant's MQTT discovery schema, for the platforms veilcam announces, as JSON
Schema: what Home Assistant's voluptuous schemas require and accept, written down from
its source (homeassistant/components/mqtt/schemas.py ``DEVICE_DISCOVERY_SCHEMA`` and
``MQTT_ENTITY_DEVICE_INFO_SCHEMA``; mqtt/sensor.py and mqtt/binary_sensor.py
``DISCOVERY_SCHEMA``; the device classes of homeassistant/components/sensor/const.py and
binary_sensor/__init__.py; the units of ``DEVICE_CLASS_UNITS``). Home Assistant itself is
not installed for the tests: it is hundreds of packages."""

from __future__ import annotations

from typing import Any

import jsonschema

# What Home Assistant accepts as a topic to subscribe to: no empty levels beyond the
# first, no NUL, at most 65535 bytes; veilcam's topics are plainer still.
TOPIC = {"type": "string", "pattern": r"^[^#+\x00]+$", "maxLength": 65535}
TEMPLATE = {"type": "string", "pattern": r"\{\{.*\}\}"}
POSITIVE_INT = {"type": "integer", "minimum": 0}

SENSOR_DEVICE_CLASSES = [
    "apparent_power", "aqi", "area", "atmospheric_pressure", "battery", "blood_glucose_concentration",
    "carbon_dioxide", "carbon_monoxide", "conductivity", "current", "data_rate", "data_size",
    "date", "distance", "duration", "energy", "energy_distance", "energy_storage", "enum",
    "frequency", "gas", "humidity", "illuminance", "irradiance", "moisture", "monetary",
    "nitrogen_dioxide", "nitrogen_monoxide", "nitrous_oxide", "ozone", "ph", "pm1", "pm10",
    "pm25", "power", "power_factor", "precipitation", "precipitation_intensity", "pressure",
    "reactive_power", "signal_strength", "sound_pressure", "speed", "sulphur_dioxide",
    "temperature", "timestamp", "volatile_organic_compounds",
    "volatile_organic_compounds_parts", "voltage", "volume", "volume_flow_rate",
    "volume_storage", "water", "weight", "wind_direction", "wind_speed",
]  # fmt: skip
BINARY_SENSOR_DEVICE_CLASSES = [
    "battery", "battery_charging", "carbon_monoxide", "cold", "connectivity", "door",
    "garage_door", "gas", "heat", "light", "lock", "moisture", "motion", "moving",
    "occupancy", "opening", "plug", "power", "presence", "problem", "running", "safety",
    "smoke", "sound", "tamper", "update", "vibration", "window",
]  # fmt: skip
STATE_CLASSES = ["measurement", "measurement_angle", "total", "total_increasing"]
TEMPERATURE_UNITS = ["°C", "°F", "K"]

ENTITY = {
    "name": {"type": ["string", "null"]},
    "unique_id": {"type": "string", "minLength": 1},
    "state_topic": TOPIC,
    "value_template": TEMPLATE,
    "expire_after": POSITIVE_INT,
    "qos": {"enum": [0, 1, 2]},
    "availability_topic": TOPIC,
    "payload_available": {"type": "string"},
    "payload_not_available": {"type": "string"},
    "icon": {"type": "string", "pattern": r"^[\w-]+:[\w-]+$"},
    "entity_category": {"enum": ["config", "diagnostic"]},
    "force_update": {"type": "boolean"},
    "enabled_by_default": {"type": "boolean"},
    "json_attributes_topic": TOPIC,
    "json_attributes_template": TEMPLATE,
    "object_id": {"type": "string"},
    "default_entity_id": {"type": "string"},
    "encoding": {"type": "string"},
}

SENSOR = {
    "type": "object",
    "required": ["p", "state_topic", "unique_id"],  # unique_id: required in a device payload
    "properties": {
        **ENTITY,
        "p": {"const": "sensor"},
        "device_class": {"enum": SENSOR_DEVICE_CLASSES},
        "state_class": {"enum": STATE_CLASSES},
        "unit_of_measurement": {"type": "string"},
        "suggested_display_precision": {"type": "integer", "minimum": 0},
        "last_reset_value_template": TEMPLATE,
        "options": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": False,
    # validate_sensor_state_and_device_class_config: a temperature's unit must be one of
    # the temperature units.
    "if": {"properties": {"device_class": {"const": "temperature"}}, "required": ["device_class"]},
    "then": {"properties": {"unit_of_measurement": {"enum": TEMPERATURE_UNITS}}},
}

BINARY_SENSOR = {
    "type": "object",
    "required": ["p", "state_topic", "unique_id"],
    "properties": {
        **ENTITY,
        "p": {"const": "binary_sensor"},
        "device_class": {"enum": BINARY_SENSOR_DEVICE_CLASSES},
        "payload_on": {"type": "string"},
        "payload_off": {"type": "string"},
        "off_delay": POSITIVE_INT,
    },
    "additionalProperties": False,
}

# A component removed from the device: only its platform.
REMOVED = {
    "type": "object",
    "required": ["p"],
    "properties": {"p": {"enum": ["sensor", "binary_sensor"]}},
    "additionalProperties": False,
}

DEVICE = {
    "type": "object",
    "properties": {
        "identifiers": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "connections": {"type": "array"},
        "manufacturer": {"type": "string"},
        "model": {"type": "string"},
        "model_id": {"type": "string"},
        "name": {"type": "string"},
        "hw_version": {"type": "string"},
        "serial_number": {"type": "string"},
        "sw_version": {"type": "string"},
        "via_device": {"type": "string"},
        "suggested_area": {"type": "string"},
        "configuration_url": {"type": "string", "pattern": r"^(https?|homeassistant)://"},
    },
    "additionalProperties": False,
    "anyOf": [{"required": ["identifiers"]}, {"required": ["connections"]}],
}

DEVICE_DISCOVERY = {
    "type": "object",
    "required": ["device", "origin", "components"],
    "properties": {
        "device": DEVICE,
        "origin": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string"},
                "sw_version": {"type": "string"},
                "support_url": {"type": "string"},
            },
            "additionalProperties": False,
        },
        "availability_topic": TOPIC,
        "availability_mode": {"enum": ["all", "any", "latest"]},
        "payload_available": {"type": "string"},
        "payload_not_available": {"type": "string"},
        "state_topic": TOPIC,
        "command_topic": TOPIC,
        "qos": {"enum": [0, 1, 2]},
        "encoding": {"type": "string"},
        "components": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {"oneOf": [SENSOR, BINARY_SENSOR, REMOVED]},
        },
    },
    "additionalProperties": False,
}


def validate(doc: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` naming the first field Home Assistant would
    refuse."""
    jsonschema.validate(doc, DEVICE_DISCOVERY)
