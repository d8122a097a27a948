import asyncio
from typing import Any

import pytest

from veilcam.clock import FakeClock
from veilcam.errors import ProtocolError, StoreError
from veilcam.events import Hub
from veilcam.health import Health
from veilcam.sensors.ingest import DoorEvent, SensorIngest
from veilcam.sensors.protocol import Door, Heartbeat, Temperature
from veilcam.store import Store


async def stored(store: Store) -> dict[str, int]:
    return await store.db.read(
        lambda db: {
            t: db.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("temperature_readings", "door_events", "sensor_faults")
        }
    )


async def test_classifies_and_stores(store: Store, clock: FakeClock, health: Health) -> None:
    doors: Hub[DoorEvent] = Hub()
    sub = doors.subscribe()
    ingest = SensorIngest(store, clock, health, doors)
    ingest(Heartbeat(0, 10, "fw", 2, 1))
    ingest(Temperature(1, 20, "1", 412))
    ingest(Temperature(1, 20, "1", 412))  # the same line twice: stored once
    ingest(Temperature(2, 30, "1", None, "probe_disconnected"))
    ingest(Door(3, 40, "1", True))
    ingest(ProtocolError("checksum", "bad"))
    await ingest.flush()
    assert await stored(store) == {"temperature_readings": 1, "door_events": 1, "sensor_faults": 2}
    assert ingest.stats["duplicates"] == 1 and ingest.heartbeat == Heartbeat(0, 10, "fw", 2, 1)
    event = sub.queue.get_nowait()
    assert event.door == "1" and event.open


async def test_database_refusal_keeps_the_batch_and_retries(
    store: Store, clock: FakeClock, health: Health, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest = SensorIngest(store, clock, health, Hub())
    real_write = store.db.write
    failures = 2

    async def flaky(fn: Any, *args: Any) -> Any:
        nonlocal failures
        if failures:
            failures -= 1
            raise StoreError("disk full: database or disk is full")
        return await real_write(fn, *args)

    monkeypatch.setattr(store.db, "write", flaky)
    for i in range(10):
        ingest(Temperature(i, i * 10, "1", 400))
    task = asyncio.create_task(ingest.flush())
    await asyncio.sleep(0.01)
    assert health.get("sensor_store").state == "error"  # type: ignore[union-attr]
    assert ingest.backlog == 10
    ingest(Temperature(10, 100, "1", 401))  # arrives during the outage
    clock.advance(1.0)
    await task
    task = asyncio.create_task(ingest.flush())  # second failure, then its back-off
    await asyncio.sleep(0.01)
    clock.advance(1.0)
    await task
    await ingest.flush()
    assert (await stored(store))["temperature_readings"] == 11
    assert health.get("sensor_store").state == "ok"  # type: ignore[union-attr]
    assert ingest.backlog == 0


async def test_cancelling_mid_write_loses_nothing(
    store: Store, clock: FakeClock, health: Health
) -> None:
    ingest = SensorIngest(store, clock, health, Hub())
    runner = asyncio.create_task(ingest.run())
    for i in range(5000):
        ingest(Temperature(i % 65536, i, "1", 400))
    for _ in range(3):
        await asyncio.sleep(0)  # the flush has started and handed rows to the writer
    runner.cancel()
    await asyncio.gather(runner, return_exceptions=True)
    assert ingest.backlog == 0
    assert (await stored(store))["temperature_readings"] == 5000
