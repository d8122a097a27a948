"""The chain's view of this box: telemetry, alarms and the audit head to the chain's MQTT
broker (``publisher``, ``telemetry``), never a picture of a person (docs/fleet.md)."""
