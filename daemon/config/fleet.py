"""``[mqtt]``: the appliance's link to the chain's MQTT broker (``veilcam.fleet``)."""

from __future__ import annotations

import urllib.parse
from typing import Annotated

import msgspec

from veilcam.config.types import LOOPBACK, Name, _Strict
from veilcam.durations import Duration, Range

Topic = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$", max_length=80)]


class MqttConfig(_Strict, frozen=True):
    """Telemetry, alarms and the audit head to the broker, from a persistent outbox."""

    # mqtts://host:8883 (TLS), or mqtt://host:1883 on loopback only.
    url: Annotated[str, msgspec.Meta(pattern=r"^mqtts?://\S+$")]
    ca_file: str | None = None  # the broker's CA; the system's CAs when unset
    cert_file: str | None = None  # a client certificate, with key_file
    key_file: str | None = None
    username: str | None = None
    password_file: str | None = None  # the password, kept out of the config file
    # This box's name under the site: topics are <prefix>/<site>/<device>/...
    device: Name = "main"
    prefix: Topic = "veilcam"
    client_id: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._-]{1,64}$")] | None = None
    keepalive: Annotated[Duration, Range("5s", "10m")] = Duration("60s")
    # How often health, temperatures and door states are published.
    interval: Annotated[Duration, Range("5s", "1h")] = Duration("60s")
    # Messages kept while the broker is away; past it the oldest telemetry is dropped
    # (and counted). Alarms and audit heads are never dropped.
    queue_limit: Annotated[int, msgspec.Meta(ge=100, le=1_000_000)] = 100_000
    # The site's Ed25519 public key (PEM, or 32 bytes in base64): commands from head office
    # signed with its private key are run; without it, none are listened to.
    command_key: str | None = None
    # Redacted stills of these cameras to the broker (off unless named), each under the
    # standing disclosure record stills_disclosure (items "camera:<name>"), never while a
    # shopper's restriction covers the picture.
    stills: list[Name] = []
    stills_disclosure: Annotated[int, msgspec.Meta(ge=1)] | None = None
    # Home Assistant's MQTT discovery: the box as a device with its cabinets and cameras.
    discovery: bool = True
    discovery_prefix: Topic = "homeassistant"
    retry_min: Annotated[Duration, Range("1s", "1h")] = Duration("5s")
    retry_max: Annotated[Duration, Range("1s", "1h")] = Duration("5m")

    @property
    def host(self) -> str:
        return urllib.parse.urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        url = urllib.parse.urlsplit(self.url)
        return url.port or (8883 if url.scheme == "mqtts" else 1883)

    @property
    def tls(self) -> bool:
        return self.url.startswith("mqtts://")

    def __post_init__(self) -> None:
        try:
            url = urllib.parse.urlsplit(self.url)
            url.port  # noqa: B018 (raises on a port out of range)
        except ValueError as exc:
            raise ValueError(f"mqtt.url {self.url!r}: {exc}") from None
        if not url.hostname:
            raise ValueError(f"mqtt.url {self.url!r} names no broker host")
        if url.path not in ("", "/") or url.query or url.username:
            raise ValueError(
                f"mqtt.url {self.url!r}: only mqtt(s)://host:port; the user name and"
                " password go in username and password_file"
            )
        if not self.tls and url.hostname not in LOOPBACK:
            raise ValueError(
                f"plain MQTT is only allowed to loopback, not {url.hostname}: use mqtts://"
            )
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("mqtt: a client certificate needs both cert_file and key_file")
        if self.username is not None and self.password_file is None:
            raise ValueError("mqtt: a username needs a password_file")
        if self.retry_max < self.retry_min:
            raise ValueError("mqtt: retry_max must not be shorter than retry_min")
        if self.stills and self.stills_disclosure is None:
            raise ValueError(
                "mqtt.stills: pictures leave only under a disclosure record: set"
                " stills_disclosure to the record an administrator made for them"
            )
