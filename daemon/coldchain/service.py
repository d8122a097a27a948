"""The alarm service: feeds the sensor line's readings and door changes to each cabinet's
rules, ticks them as time passes, and keeps every alarm's opening, level changes and
closing in the ``alarms`` table. Acknowledging an alarm needs a comment, and is audited."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from veilcam.clock import synchronised
from veilcam.coldchain.limits import Limits, limits_for
from veilcam.coldchain.notify import Notice, notices_for
from veilcam.coldchain.queries import ack_job, opened_at_job, overrides_job, record_job
from veilcam.coldchain.rules import Board, Cabinet, Transition
from veilcam.config import check_limits
from veilcam.errors import AccountError, ConfigError, StoreError
from veilcam.store import audit

if TYPE_CHECKING:
    from veilcam.clock import Clock
    from veilcam.config import CabinetConfig, NotifyConfig
    from veilcam.events import Hub
    from veilcam.health import Health
    from veilcam.sensors.ingest import DoorEvent, Reading
    from veilcam.store import Store

log = logging.getLogger(__name__)

TICK = 10.0  # seconds between time-based checks


class AlarmService:
    def __init__(
        self,
        cabinets: list[CabinetConfig],
        store: Store,
        clock: Clock,
        health: Health,
        readings: Hub[Reading],
        doors: Hub[DoorEvent],
        watch_link: bool = True,
        notify: NotifyConfig | None = None,
        site: str = "store",
        wake: asyncio.Event | None = None,
    ) -> None:
        self.store, self.clock, self.health = store, clock, health
        now = clock.now()
        self.configs = {c.name: c for c in cabinets}
        self.cabinets = {c.name: Cabinet(c.name, limits_for(c), now) for c in cabinets}
        self.by_probe = {c.probe: c.name for c in cabinets}
        self.by_door = {c.door: c.name for c in cabinets if c.door is not None}
        self._readings = readings.subscribe(maxsize=10_000)
        self._doors = doors.subscribe(maxsize=1_000)
        self.transitions: Hub[Transition] | None = None
        self.board = Board()
        self.watch_link = watch_link
        self.notify, self.site, self.wake = notify, site, wake
        self._unrecorded: list[tuple[Transition, float, list[Notice]]] = []
        self._failing = False

    async def _notices(self, tr: Transition) -> list[Notice]:
        if self.notify is None:
            return []
        if tr.change == "close":
            began = await self.store.db.read(opened_at_job, tr.cabinet, tr.rule)
        else:
            cab = self.cabinets.get(tr.cabinet)
            began = cab.began(tr.rule) if cab is not None else None
        return notices_for(tr, self.notify, self.site, began)

    async def _apply(self, transitions: list[Transition]) -> None:
        for tr in transitions:
            log.warning(
                "alarm %s %s on %s (%s): %s", tr.change, tr.rule, tr.cabinet, tr.level, tr.message
            )
            expires = self.store.expires("sensor_records", tr.at)
            self._unrecorded.append((tr, expires, await self._notices(tr)))
            if self.transitions is not None:
                self.transitions.publish(tr)
        # In order, each with its notices; what the database refuses (a full disk) waits
        # here and is tried again, never dropped.
        while self._unrecorded:
            tr, expires, notices = self._unrecorded[0]
            try:
                await self.store.db.write(record_job, tr, expires, notices)
            except StoreError as exc:
                if not self._failing:
                    log.error("alarm changes not stored, trying again: %s", exc)
                self._failing = True
                self.health.set(
                    "alarm_records",
                    "error",
                    f"{len(self._unrecorded)} alarm change(s) waiting to be stored: {exc}",
                )
                break
            self._unrecorded.pop(0)
            if notices and self.wake is not None:
                self.wake.set()
        else:
            if self._failing:
                self._failing = False
                self.health.set("alarm_records", "ok", "every alarm change stored")
        open_alarms = [
            (name, rule, ep.level)
            for name, cab in self.cabinets.items()
            for rule, ep in cab.episodes.items()
        ]
        if any(level == "alarm" for *_, level in open_alarms):
            self.health.set("cold_chain", "error", f"{len(open_alarms)} open alarm(s)")
        elif open_alarms:
            self.health.set("cold_chain", "warning", f"{len(open_alarms)} open warning(s)")
        else:
            self.health.set("cold_chain", "ok", f"{len(self.cabinets)} cabinet(s) within limits")

    def set_limits(self, name: str, warn_above: float, alarm_above: float) -> None:
        """New limits for one cabinet, from now on; refused beyond its profile's ceiling."""
        cfg = self.configs.get(name)
        if cfg is None:
            raise ConfigError(f"no cabinet named {name!r}")
        if (why := check_limits(cfg.profile, warn_above, alarm_above)) is not None:
            raise ConfigError(f"cabinet {name}: {why}")
        cab = self.cabinets[name]
        cab.limits = replace(cab.limits, warn_above=warn_above, alarm_above=alarm_above)
        log.info("cabinet %s limits now %.1f / %.1f °C", name, warn_above, alarm_above)

    def limits(self, name: str) -> Limits:
        return self.cabinets[name].limits

    async def load_overrides(self) -> None:
        for name, o in (await self.store.db.read(overrides_job)).items():
            if name in self.cabinets:
                cur = self.cabinets[name].limits
                try:
                    self.set_limits(
                        name,
                        o.get("warn_above", cur.warn_above),
                        o.get("alarm_above", cur.alarm_above),
                    )
                except ConfigError as exc:
                    log.error("limits set in the UI not applied: %s", exc)

    async def run(self) -> None:
        await self.load_overrides()
        await self._apply([])
        next_tick = self.clock.now() + TICK
        try:
            while True:
                out: list[Transition] = []
                while not self._readings.queue.empty():
                    r = self._readings.queue.get_nowait()
                    if (name := self.by_probe.get(r.probe)) is not None:
                        cab = self.cabinets[name]
                        if r.fault is not None:
                            out += cab.fault(r.at, r.fault)
                        elif r.centi_c is not None:
                            out += cab.temperature(r.at, r.centi_c / 100)
                while not self._doors.queue.empty():
                    d = self._doors.queue.get_nowait()
                    if (name := self.by_door.get(d.door)) is not None:
                        out += self.cabinets[name].door(d.at, d.open)
                now = self.clock.now()
                if now >= next_tick:
                    for cab in self.cabinets.values():
                        out += cab.tick(now)
                    if self.watch_link:
                        link = self.health.get("sensor_link")
                        if link is not None:
                            out += self.board.link(now, link.state == "ok")
                    out += self.board.clock(now, await asyncio.to_thread(synchronised))
                    next_tick = now + TICK
                if out or self._unrecorded:
                    await self._apply(out)
                await asyncio.sleep(0.2)
        finally:
            self._readings.close()
            self._doors.close()


async def acknowledge(
    store: Store, alarm_id: int, by: str, comment: str, ip: str | None = None
) -> None:
    comment = comment.strip()
    if not comment:
        raise AccountError("acknowledging an alarm needs a comment: what was done about it")
    await store.db.write(ack_job, alarm_id, by, comment[:500], store.clock.now())
    await store.audit(audit.Entry(by, "alarm.ack", str(alarm_id), comment[:200], ip=ip))
