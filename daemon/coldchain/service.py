"""The alarm service: feeds the sensor line's readings and door changes to each cabinet's
rules, ticks them as time passes, and hands every alarm's opening, level changes and
closing to the shared alert recorder (``veilcam.alerts``)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from veilcam.alerts.recorder import Recorder
from veilcam.clock import synchronised
from veilcam.coldchain.limits import Limits, limits_for
from veilcam.coldchain.queries import overrides_job, put_limits_job
from veilcam.coldchain.rules import SOURCE, Board, Cabinet, Transition
from veilcam.config import check_limits
from veilcam.errors import ConfigError
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
        self.board = Board()
        self.watch_link = watch_link
        self.recorder = Recorder(SOURCE, store, health, notify, site, wake)

    def _began(self, tr: Transition) -> float | None:
        cab = self.cabinets.get(tr.subject)
        return cab.began(tr.rule) if cab is not None else None

    async def _apply(self, transitions: list[Transition]) -> None:
        await self.recorder.apply(transitions, self._began)
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

    async def change_limits(
        self, name: str, warn_above: float, alarm_above: float, actor: str
    ) -> Limits:
        """New limits, refused beyond the profile's ceiling, kept and audited; returns the
        old ones."""
        old = self.limits(name) if name in self.cabinets else None
        self.set_limits(name, warn_above, alarm_above)
        assert old is not None
        now = self.clock.now()
        await self.store.db.write(put_limits_job, name, warn_above, alarm_above, now, actor)
        change = f"{old.warn_above:g}/{old.alarm_above:g} -> {warn_above:g}/{alarm_above:g}"
        await self.store.audit(audit.Entry(actor, "setting.change", f"cabinet.{name}", change))
        return old

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

    def _reading(self, r: Reading) -> list[Transition]:
        name = self.by_probe.get(r.probe)
        if name is None:
            return []
        cab = self.cabinets[name]
        if r.fault is not None:
            return cab.fault(r.at, r.fault)
        return cab.temperature(r.at, r.centi_c / 100) if r.centi_c is not None else []

    def _door(self, d: DoorEvent) -> list[Transition]:
        name = self.by_door.get(d.door)
        return self.cabinets[name].door(d.at, d.open) if name is not None else []

    async def _tick(self) -> list[Transition]:
        """The rules that depend on time passing (silence, a door left open), the sensor link
        and the clock's synchronisation."""
        now = self.clock.now()
        out = [tr for cab in self.cabinets.values() for tr in cab.tick(now)]
        if self.watch_link and (link := self.health.get("sensor_link")) is not None:
            out += self.board.link(now, link.state == "ok")
        return out + self.board.clock(now, await asyncio.to_thread(synchronised))

    async def run(self) -> None:
        """Wake for each reading or door change, and every ``TICK`` of the clock; what the
        database refused is tried again at the next wake."""
        await self.load_overrides()
        await self._apply([])
        reading = asyncio.ensure_future(self._readings.get())
        door = asyncio.ensure_future(self._doors.get())
        tick = asyncio.ensure_future(self.clock.sleep(TICK))
        try:
            while True:
                await asyncio.wait({reading, door, tick}, return_when=asyncio.FIRST_COMPLETED)
                out: list[Transition] = []
                if reading.done():
                    out += self._reading(reading.result())
                    while not self._readings.queue.empty():  # all that came meanwhile
                        out += self._reading(self._readings.queue.get_nowait())
                    reading = asyncio.ensure_future(self._readings.get())
                if door.done():
                    out += self._door(door.result())
                    while not self._doors.queue.empty():
                        out += self._door(self._doors.queue.get_nowait())
                    door = asyncio.ensure_future(self._doors.get())
                if tick.done():
                    out += await self._tick()
                    tick = asyncio.ensure_future(self.clock.sleep(TICK))
                if out or self.recorder.waiting:
                    await self._apply(out)
        finally:
            for waiting in (reading, door, tick):
                waiting.cancel()
            self._readings.close()
            self._doors.close()
