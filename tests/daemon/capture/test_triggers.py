import asyncio
import datetime as dt

import numpy as np

from tests.support.aio import settle, until
from tests.support.capture import FixedSource, Real
from veilcam.capture.camera import Camera
from veilcam.capture.pipeline import Pipeline
from veilcam.capture.triggers import Triggers, next_time_of_day
from veilcam.clock import FakeClock
from veilcam.config import CameraConfig, ReplaySourceConfig, TriggerConfig
from veilcam.durations import DurationOrOff
from veilcam.events import Hub
from veilcam.health import Health
from veilcam.sensors.ingest import DoorEvent
from veilcam.store import Store


async def media_triggers(store: Store) -> list[str]:
    return await store.db.read(
        lambda db: sorted(
            r[0] for r in db.conn.execute("SELECT camera || '/' || trigger FROM media")
        )
    )


async def wait_for(store: Store, n: int) -> list[str]:
    async def stored() -> bool:
        return len(await media_triggers(store)) >= n

    await until(stored)
    return await media_triggers(store)


async def test_door_triggers_fire_after_their_delay(
    store: Store, clock: FakeClock, health: Health, scene: np.ndarray
) -> None:
    cams = [
        CameraConfig(
            name="a",
            purpose="fridge",
            source=ReplaySourceConfig(path="."),
            triggers=TriggerConfig(
                doors=["1"],
                door_open_delay=DurationOrOff("2s"),
                door_close_settle=DurationOrOff("3s"),
            ),
        ),
        CameraConfig(
            name="b",
            purpose="fridge",
            source=ReplaySourceConfig(path="."),
            triggers=TriggerConfig(
                doors=["2"],
                door_open_delay=DurationOrOff("off"),
                door_close_settle=DurationOrOff("1s"),
            ),
        ),
        # A research camera records clips for a study only: doors never make it take stills.
        CameraConfig(
            name="c",
            purpose="research",
            research_basis="consent",
            source=ReplaySourceConfig(path="."),
        ),
    ]
    pipeline = Pipeline(
        {c.name: Camera(c, FixedSource(scene), health) for c in cams}, Real(), store, health
    )
    doors: Hub[DoorEvent] = Hub()
    trig = Triggers(pipeline, cams, doors, clock)
    task = asyncio.create_task(trig.run())
    await settle()
    try:
        doors.publish(DoorEvent("1", True, clock.now()))
        doors.publish(DoorEvent("2", True, clock.now()))
        await settle()
        clock.advance(1.9)
        await settle()
        await asyncio.sleep(0.05)  # time for a capture that fired too early to land
        assert await media_triggers(store) == []  # not before its delay
        clock.advance(0.2)
        assert await wait_for(store, 1) == ["a/door_open:1"]
        doors.publish(DoorEvent("1", False, clock.now()))
        doors.publish(DoorEvent("2", False, clock.now()))
        await settle()
        clock.advance(3.1)
        assert await wait_for(store, 3) == ["a/door_close:1", "a/door_open:1", "b/door_close:2"]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        pipeline.close()


def test_next_time_of_day() -> None:
    tz = dt.UTC
    now = dt.datetime(2026, 3, 1, 10, 30, tzinfo=tz).timestamp()
    assert (
        next_time_of_day(now, ["08:00", "11:00"], tz)
        == dt.datetime(2026, 3, 1, 11, 0, tzinfo=tz).timestamp()
    )
    assert (
        next_time_of_day(now, ["08:00"], tz) == dt.datetime(2026, 3, 2, 8, 0, tzinfo=tz).timestamp()
    )
    exactly = dt.datetime(2026, 3, 1, 8, 0, tzinfo=tz).timestamp()
    assert next_time_of_day(exactly, ["08:00"], tz) > exactly


async def test_time_of_day_schedule(
    store: Store, clock: FakeClock, health: Health, scene: np.ndarray
) -> None:
    local = dt.datetime.fromtimestamp(clock.now()).astimezone()
    at = (local + dt.timedelta(minutes=2)).strftime("%H:%M")
    cam = CameraConfig(
        name="a",
        purpose="fridge",
        source=ReplaySourceConfig(path="."),
        triggers=TriggerConfig(
            times=[at], door_open_delay=DurationOrOff("off"), door_close_settle=DurationOrOff("off")
        ),
    )
    pipeline = Pipeline({"a": Camera(cam, FixedSource(scene), health)}, Real(), store, health)
    task = asyncio.create_task(Triggers(pipeline, [cam], Hub(), clock).run())
    await settle()
    try:
        clock.advance(60)
        await settle()
        await asyncio.sleep(0.05)  # time for a capture that fired too early to land
        assert await media_triggers(store) == []
        clock.advance(61)
        assert await wait_for(store, 1) == ["a/schedule"]
        clock.advance(86400)  # and again the next day
        assert await wait_for(store, 2) == ["a/schedule", "a/schedule"]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        pipeline.close()
