"""The research studies as the recorders, the web UI and the command line use them: which
study each camera records for now (kept in memory, refreshed when a study starts, stops or
its dates begin or end), and starting and stopping studies with their audit entries."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from typing import Any

from veilcam.clock import Clock
from veilcam.config import Config
from veilcam.errors import FeatureClosed
from veilcam.privacy import gates
from veilcam.privacy.scope import Act
from veilcam.privacy.service import Privacy
from veilcam.research import studies
from veilcam.research.studies import Running
from veilcam.store import Store

IDLE_REFRESH = 60.0


class Research:
    def __init__(self, store: Store, config: Config, clock: Clock, privacy: Privacy) -> None:
        self.store, self.config, self.clock, self.privacy = store, config, clock, privacy
        self.running: dict[str, Running] = {}
        self.changed = asyncio.Event()

    @property
    def cameras(self) -> list[str]:
        return [c.name for c in self.config.cameras if c.purpose == "research"]

    def study_for(self, camera: str) -> Running | None:
        """The study ``camera`` records for now, if any (and only while the gate is open)."""
        run = self.running.get(camera)
        if run is None or run.ends_at <= self.clock.now():
            return None
        if "research" not in self.privacy.open_gates:
            return None
        return run

    async def refresh(self) -> None:
        self.running = await self.store.db.read(studies.running_job, self.clock.now())

    async def run(self) -> None:
        """Keep ``running`` true to the calendar: refresh at each start or end, and when told."""
        while True:
            await self.refresh()
            now = self.clock.now()
            nxt = await self.store.db.read(studies.next_change_job, now)
            wait = IDLE_REFRESH if nxt is None else min(IDLE_REFRESH, max(0.5, nxt - now))
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self.changed.wait()

    async def create(self, act: Act, **fields: Any) -> int:
        gate = self.privacy.open_gates.get("research")
        if gate is None:
            raise FeatureClosed("research", gates.NOT_OPEN)
        job = functools.partial(
            studies.create_job, research_cameras=self.cameras, gate_id=gate["id"], **fields
        )
        study_id = int(await self.store.db.write(job, act))
        self.changed.set()
        await self.refresh()
        return study_id

    async def stop(self, act: Act, study_id: int, reason: str) -> None:
        await self.store.db.write(studies.stop_job, act, study_id, reason)
        self.changed.set()
        await self.refresh()
