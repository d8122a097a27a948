"""The link to the chain's MQTT broker: the MQTT outbox (``alerts.mqttbox``) drained in
order, with QoS 1, over TLS with a password or a client certificate.

The session says whether the box is there: ``<base>/availability`` is ``online`` (retained)
once connected and the broker's last will, ``offline`` (retained), when the link dies
without a goodbye (a power cut, a kill -9). A clean stop says ``offline`` itself.

MQTT 5 is asked for first; a broker that only speaks 3.1.1 gets that on the next try. A
row is settled only once the broker has acknowledged it, so a lost link or a restart sends
it again: subscribers see each message at least once, in id order, never none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import aiomqtt
from paho.mqtt.reasoncodes import ReasonCode

from veilcam.alerts import mqttbox
from veilcam.alerts.mqttbox import Message, Mirror
from veilcam.alerts.outbox import read_secret
from veilcam.clock import sleep_or_wake

if TYPE_CHECKING:
    from veilcam.clock import Clock
    from veilcam.config import MqttConfig
    from veilcam.health import Health
    from veilcam.store import Store

log = logging.getLogger(__name__)

BATCH = 200  # rows read and published per round, in flight together
MAX_INFLIGHT = 100  # unacknowledged QoS 1 messages on the wire (paho queues the rest in order)
POLL = 5.0  # seconds between looks at the outbox when nothing wakes the publisher
# CONNACK codes that mean "not this protocol version": 3.1.1's 1, MQTT 5's 0x84.
WRONG_VERSION = {1, 0x84}


def _release(client: aiomqtt.Client) -> None:
    """Close the socket of a connection the broker refused: aiomqtt 2.5 leaves it open
    after a negative CONNACK (a wrong password), one file descriptor per retry."""
    paho = client._client
    if paho.socket() is not None:
        paho._sock_close()


def base_topic(cfg: MqttConfig, site: str) -> str:
    return f"{cfg.prefix}/{site}/{cfg.device}"


class Publisher:
    """One per daemon: connects, says it is online, and sends what the outbox holds."""

    def __init__(
        self, cfg: MqttConfig, site: str, store: Store, clock: Clock, health: Health
    ) -> None:
        self.cfg, self.site, self.store, self.clock, self.health = cfg, site, store, clock, health
        self.base = base_topic(cfg, site)
        self.mirror = Mirror(self.base, cfg.queue_limit)
        self.password = read_secret(cfg.password_file, "mqtt.password_file")
        self.client_id = cfg.client_id or f"veilcam-{site}-{cfg.device}"
        self.protocol = aiomqtt.ProtocolVersion.V5
        self.wake = asyncio.Event()  # set when a message is queued, to send it at once
        self.connected = False
        self.sent = 0  # messages the broker acknowledged in this run
        self.on_command: Callable[[bytes], Awaitable[None]] | None = None  # fleet.commands

    async def enqueue(
        self, messages: list[Message], retention: str = "sensor_records", base: str | None = None
    ) -> int:
        """Queue messages under this device's base topic (or ``base``); returns how many
        telemetry messages were dropped to stay within the limit."""
        now = self.clock.now()
        expires = self.store.expires(retention, now)
        dropped = await self.store.db.write(
            mqttbox.enqueue_job, base or self.base, messages, now, expires, self.cfg.queue_limit
        )
        self.wake.set()
        return int(dropped)

    def _client(self) -> aiomqtt.Client:
        tls = None
        if self.cfg.tls:
            tls = aiomqtt.TLSParameters(
                ca_certs=self.cfg.ca_file, certfile=self.cfg.cert_file, keyfile=self.cfg.key_file
            )
        will = aiomqtt.Will(f"{self.base}/availability", b"offline", qos=1, retain=True)
        client = aiomqtt.Client(
            self.cfg.host,
            self.cfg.port,
            username=self.cfg.username,
            password=self.password,
            identifier=self.client_id,
            protocol=self.protocol,
            will=will,
            tls_params=tls,
            keepalive=int(self.cfg.keepalive),
            timeout=30,
            max_inflight_messages=MAX_INFLIGHT,
        )
        client.pending_calls_threshold = BATCH + 10  # a batch in flight is the design
        return client

    async def drain(self, client: aiomqtt.Client) -> int:
        """Publish everything waiting, in order; returns how many the broker took."""
        total = 0
        while rows := await self.store.db.read(mqttbox.due_job, BATCH):
            results = await asyncio.gather(
                *(
                    client.publish(r["topic"], r["payload"], qos=1, retain=bool(r["retain"]))
                    for r in rows
                ),
                return_exceptions=True,
            )
            acked = [r["id"] for r, res in zip(rows, results, strict=True) if res is None]
            failed = [r["id"] for r, res in zip(rows, results, strict=True) if res is not None]
            now = self.clock.now()
            await self.store.db.write(mqttbox.acked_job, acked, now)
            total += len(acked)
            self.sent += len(acked)
            if failed:
                await self.store.db.write(mqttbox.tried_job, failed)
                error = next(r for r in results if r is not None)
                raise error if isinstance(error, Exception) else aiomqtt.MqttError(str(error))
        return total

    async def _session(self) -> None:
        client = self._client()
        try:
            await self._connected(client)
        finally:
            _release(client)

    async def _connected(self, client: aiomqtt.Client) -> None:
        async with client:
            self.connected = True
            log.info("connected to the MQTT broker %s:%d", self.cfg.host, self.cfg.port)
            await client.publish(f"{self.base}/availability", b"online", qos=1, retain=True)
            await self._health()
            # The listener ends (with MqttError) the moment the link drops, so a broker that
            # goes away shows at once, not at the next message.
            tasks = [
                asyncio.create_task(self._listen(client)),
                asyncio.create_task(self._send(client)),
            ]
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()
            except asyncio.CancelledError:
                # A clean stop: say so, rather than leave it to the will after keepalive.
                with contextlib.suppress(aiomqtt.MqttError, asyncio.CancelledError):
                    await asyncio.wait_for(
                        client.publish(f"{self.base}/availability", b"offline", qos=1, retain=True),
                        2,
                    )
                raise
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    async def _listen(self, client: aiomqtt.Client) -> None:
        topic = f"{self.base}/command"
        if self.on_command is not None:
            await client.subscribe(topic, qos=1)
        async for message in client.messages:
            if self.on_command is not None and message.topic.matches(topic):
                body = message.payload
                await self.on_command(body if isinstance(body, bytes) else str(body).encode())
        raise aiomqtt.MqttError("the broker closed the link")

    async def _send(self, client: aiomqtt.Client) -> None:
        while True:
            self.wake.clear()
            await self.drain(client)
            await self._health()
            await sleep_or_wake(self.clock, POLL, self.wake)

    async def _health(self) -> None:
        s = await self.store.db.read(mqttbox.summary_job)
        dropped = f", {s['dropped']} telemetry dropped while away" if s["dropped"] else ""
        where = f"{self.cfg.host}:{self.cfg.port}"
        if self.connected:
            self.health.set("mqtt", "ok", f"connected to {where}; {s['waiting']} waiting{dropped}")
        else:
            message = f"broker {where} unreachable; {s['waiting']} waiting{dropped}"
            self.health.set("mqtt", "warning", message)

    async def run(self) -> None:
        delay = float(self.cfg.retry_min)
        while True:
            try:
                await self._session()
            except aiomqtt.MqttCodeError as exc:
                if self.connected:  # a link that worked: try again soon
                    delay, self.connected = float(self.cfg.retry_min), False
                rc = exc.rc
                code = rc.value if isinstance(rc, ReasonCode) else int(rc or 0)
                if code in WRONG_VERSION and self.protocol == aiomqtt.ProtocolVersion.V5:
                    log.info("the broker does not speak MQTT 5; using 3.1.1")
                    self.protocol = aiomqtt.ProtocolVersion.V311
                    continue
                log.warning("MQTT broker refused or dropped the link: %s", str(exc))
            except aiomqtt.MqttError as exc:
                if self.connected:
                    delay, self.connected = float(self.cfg.retry_min), False
                log.warning(
                    "MQTT broker %s:%d unreachable: %s", self.cfg.host, self.cfg.port, str(exc)
                )
            await self._health()
            await self.clock.sleep(delay)
            delay = min(delay * 2, float(self.cfg.retry_max))
