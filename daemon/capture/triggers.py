"""What starts a capture: door opening (+delay), door closing (+settle), times of day."""

from __future__ import annotations

import datetime as dt
import logging

from veilcam.capture.pipeline import Pipeline
from veilcam.clock import Clock
from veilcam.config import CameraConfig
from veilcam.durations import is_on
from veilcam.errors import PrivacyRefused, SourceError, StoreError
from veilcam.events import Hub
from veilcam.sensors.ingest import DoorEvent
from veilcam.tasks import TaskOwner

log = logging.getLogger(__name__)


def next_time_of_day(now: float, times: list[str], tz: dt.tzinfo | None = None) -> float:
    """Epoch seconds of the next 'HH:MM' in ``times`` strictly after ``now`` (local time)."""
    local = dt.datetime.fromtimestamp(now, tz=tz or dt.datetime.now().astimezone().tzinfo)
    best: float | None = None
    for text in times:
        hour, minute = map(int, text.split(":"))
        for days in (0, 1):
            cand = (local + dt.timedelta(days=days)).replace(
                hour=hour, minute=minute, second=0, microsecond=0
            )
            ts = cand.timestamp()
            if ts > now and (best is None or ts < best):
                best = ts
                break
    if best is None:
        raise ValueError("no times of day given")
    return best


class Triggers:
    def __init__(
        self, pipeline: Pipeline, cameras: list[CameraConfig], doors: Hub[DoorEvent], clock: Clock
    ) -> None:
        self.pipeline = pipeline
        self.cameras = cameras
        self.doors = doors
        self.clock = clock

    async def run(self) -> None:
        async with TaskOwner("triggers") as owner:
            for cam in self.cameras:
                if cam.triggers.times:
                    owner.spawn(self._schedule(cam), f"schedule-{cam.name}")
            sub = self.doors.subscribe()
            try:
                while True:
                    event = await sub.get()
                    for cam in self.cameras:
                        if cam.purpose == "research":  # clips for a study, never stills
                            continue
                        if cam.triggers.doors and event.door not in cam.triggers.doors:
                            continue
                        t = cam.triggers
                        delay = t.door_open_delay if event.open else t.door_close_settle
                        if is_on(delay):
                            what = "door_open" if event.open else "door_close"
                            owner.spawn(
                                self._later(cam.name, delay, f"{what}:{event.door}"),
                                f"{what}-{cam.name}",
                            )
            finally:
                sub.close()

    async def _later(self, camera: str, delay: float, trigger: str) -> None:
        await self.clock.sleep(delay)
        await self._fire(camera, trigger)

    async def _schedule(self, cam: CameraConfig) -> None:
        while True:
            at = next_time_of_day(self.clock.now(), cam.triggers.times)
            await self.clock.sleep(at - self.clock.now())
            await self._fire(cam.name, "schedule")

    async def _fire(self, camera: str, trigger: str) -> None:
        try:
            await self.pipeline.capture(camera, trigger)
        except (SourceError, StoreError, PrivacyRefused) as exc:  # in health; keep triggering
            log.warning("capture on %s for %s skipped: %s", camera, trigger, exc)
