"""Stores a source's transitions with their notices, in order, and never drops one.

Each transition is logged, published to the live view, and written with its notices in one
transaction; what the database refuses (a full disk) waits here and is tried again at the
next call, with the source's health record in error meanwhile."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from veilcam.alerts.episodes import Source, Transition
from veilcam.alerts.mqttbox import Mirror
from veilcam.alerts.outbox import Notice, notices_for
from veilcam.alerts.records import opened_at_job, record_job
from veilcam.errors import StoreError

if TYPE_CHECKING:
    from veilcam.config import NotifyConfig
    from veilcam.events import Hub
    from veilcam.health import Health
    from veilcam.store import Store

log = logging.getLogger(__name__)


class Recorder:
    def __init__(
        self,
        source: Source,
        store: Store,
        health: Health,
        notify: NotifyConfig | None = None,
        site: str = "store",
        wake: asyncio.Event | None = None,
        retention: str = "sensor_records",
        health_key: str = "alarm_records",
    ) -> None:
        self.source, self.store, self.health = source, store, health
        self.notify, self.site, self.wake, self.retention = notify, site, wake, retention
        self.health_key = health_key
        self.transitions: Hub[Transition] | None = None  # the live view's feed, when wired
        self.mirror: Mirror | None = None  # to the chain's MQTT broker, when wired
        self.mqtt_wake: asyncio.Event | None = None
        self._unrecorded: list[tuple[Transition, float, list[Notice]]] = []
        self._failing = False
        self._writing = asyncio.Lock()  # one writer of the queue: callers may overlap

    @property
    def waiting(self) -> int:
        return len(self._unrecorded)

    async def _notices(
        self, tr: Transition, began: Callable[[Transition], float | None]
    ) -> list[Notice]:
        if self.notify is None:
            return []
        if tr.change == "close":
            since = await self.store.db.read(opened_at_job, tr.source, tr.subject, tr.rule)
        else:
            since = began(tr)
        return notices_for(tr, self.source, self.notify, self.site, since)

    async def apply(
        self,
        transitions: list[Transition],
        began: Callable[[Transition], float | None] = lambda tr: None,
    ) -> None:
        """Record ``transitions`` after anything still waiting; ``began`` says when an open
        one's condition started (before any delay), for the notice."""
        for tr in transitions:
            log.warning(
                "%s %s %s on %s (%s): %s",
                tr.source,
                tr.change,
                tr.rule,
                tr.subject,
                tr.level,
                tr.message,
            )
            expires = self.store.expires(self.retention, tr.at)
            self._unrecorded.append((tr, expires, await self._notices(tr, began)))
            if self.transitions is not None:
                self.transitions.publish(tr)
        async with self._writing:
            await self._write()

    async def _write(self) -> None:
        key = self.health_key
        while self._unrecorded:
            tr, expires, notices = self._unrecorded[0]
            try:
                await self.store.db.write(record_job, tr, expires, notices, self.mirror)
            except StoreError as exc:
                if not self._failing:
                    log.error("%s alert changes not stored, trying again: %s", tr.source, exc)
                self._failing = True
                self.health.set(
                    key,
                    "error",
                    f"{len(self._unrecorded)} alarm change(s) waiting to be stored: {exc}",
                )
                return
            self._unrecorded.pop(0)
            if notices and self.wake is not None:
                self.wake.set()
            if self.mirror is not None and self.mqtt_wake is not None:
                self.mqtt_wake.set()
        if self._failing:
            self._failing = False
            self.health.set(key, "ok", "every alarm change stored")
