"""What the box tells the chain on its own, every ``[mqtt] interval``: health, each
cabinet's temperature, door and open alarms, what the store's jobs changed (``shop``), and,
every hour and retained, the audit log's head. At start it announces the box to Home
Assistant (``discovery``).

Nothing here is about a person: parts' states, degrees, open or closed, facings, counts,
upload figures, a hash. Alarm changes go with the alarm, in its transaction
(``Recorder.mirror``), not from here.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from veilcam.alerts.mqttbox import Message, payload
from veilcam.durations import HOUR
from veilcam.fleet import discovery
from veilcam.store.anchor import head_job

if TYPE_CHECKING:
    from veilcam.coldchain.service import AlarmService
    from veilcam.config import Config
    from veilcam.fleet.publisher import Publisher
    from veilcam.fleet.shop import ShopFeed
    from veilcam.health import Health

log = logging.getLogger(__name__)


class Telemetry:
    def __init__(
        self,
        publisher: Publisher,
        health: Health,
        alarms: AlarmService | None = None,
        config: Config | None = None,
        shop: ShopFeed | None = None,
    ) -> None:
        self.publisher, self.health, self.alarms = publisher, health, alarms
        self.config = config  # for Home Assistant's discovery, when it is on
        self.shop = shop  # stock, visitor counts, uploads: what changed
        self.clock = publisher.clock
        self.head_at: float | None = None  # when the audit head last went out

    def snapshot(self) -> list[Message]:
        now = self.clock.now()
        parts = {
            name: {"state": s["state"], "message": s["message"]}
            for name, s in self.health.snapshot().items()
        }
        doc: dict[str, Any] = {"at": now, "overall": self.health.overall(), "parts": parts}
        out = [Message("telemetry", "health", payload(doc), retain=True)]
        if self.alarms is None:
            return out
        for name, cab in self.alarms.cabinets.items():
            if cab.last_value is not None and cab.last_reading is not None:
                doc = {"value": round(cab.last_value, 2), "unit": "°C", "at": cab.last_reading}
                out.append(Message("telemetry", f"cabinet/{name}/temperature", payload(doc), True))
            if self.alarms.configs[name].door is not None:
                since = cab.door_open_since
                doc = {
                    "state": "open" if since is not None else "closed",
                    "since": since if since is not None else cab.door_closed_at,
                    "at": now,
                }
                out.append(Message("telemetry", f"cabinet/{name}/door", payload(doc), True))
            rules = sorted(cab.episodes)
            levels = {ep.level for ep in cab.episodes.values()}
            level = "alarm" if "alarm" in levels else ("warning" if levels else None)
            doc = {"state": "on" if rules else "off", "rules": rules, "level": level, "at": now}
            out.append(Message("telemetry", f"cabinet/{name}/alarm", payload(doc), True))
        return out

    async def announce(self) -> None:
        """Home Assistant's discovery message, with what was removed since the last."""
        cfg = self.config
        if cfg is None or cfg.mqtt is None or not cfg.mqtt.discovery:
            return
        db = self.publisher.store.db
        previous = await db.read(discovery.previous_job)
        serial = await asyncio.to_thread(discovery.serial_number)
        message, announced = discovery.message(cfg, self.publisher.base, previous, serial)
        await self.publisher.enqueue([message], base=cfg.mqtt.discovery_prefix)
        await db.write(discovery.remember_job, announced, self.clock.now())

    async def audit_head(self) -> list[Message]:
        """The audit head, if an hour has passed since the last went out."""
        now = self.clock.now()
        if self.head_at is not None and now - self.head_at < HOUR:
            return []
        head = await self.publisher.store.db.read(head_job)
        if head is None:
            return []
        self.head_at = now
        line = head.line(self.publisher.site).encode()
        return [Message("audit", "audit/head", line, retain=True)]

    async def once(self) -> None:
        messages = self.snapshot()
        if self.shop is not None:
            messages += await self.shop.messages()
        dropped = await self.publisher.enqueue(messages)
        if heads := await self.audit_head():
            await self.publisher.enqueue(heads, retention="audit_log")
        if dropped:
            log.warning("MQTT broker away: %d old telemetry message(s) dropped", dropped)

    async def run(self) -> None:
        await self.announce()
        while True:
            await self.once()
            await self.clock.sleep(float(self.publisher.cfg.interval))
