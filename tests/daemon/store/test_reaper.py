"""Time travel: every retention class expires within one reaper interval of its limit."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.support.aio import until
from veilcam.clock import FakeClock
from veilcam.config import RetentionConfig
from veilcam.durations import Duration
from veilcam.health import Health
from veilcam.retention import CLASSES
from veilcam.store import Picture, Store, audit
from veilcam.store.reaper import DiskUsage, Reaper

INTERVAL = 60.0


def counts(db: Any) -> dict[str, int]:
    out = {
        t: db.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in (
            "temperature_readings",
            "door_events",
            "sensor_faults",
            "audit_log",
            "stock_checks",
            "facing_states",
        )
    }
    for kind in ("fridge", "floor", "evidence"):
        out[kind] = db.conn.execute(
            "SELECT count(*) FROM media WHERE kind = ?", (kind,)
        ).fetchone()[0]
    return out


async def add_one_of_each(store: Store, clock: FakeClock) -> None:
    now = clock.now()
    exp = store.expires("sensor_records", now)

    def sensors(db: Any) -> None:
        db.conn.execute(
            "INSERT INTO temperature_readings (received_at, seq, uptime_ms, probe, centi_c, expires_at) VALUES (?, 1, 1, '1', 400, ?)",
            (now, exp),
        )
        db.conn.execute(
            "INSERT INTO door_events (received_at, seq, uptime_ms, door, state, expires_at) VALUES (?, 2, 2, '1', 'open', ?)",
            (now, exp),
        )
        db.conn.execute(
            "INSERT INTO sensor_faults (at, kind, detail, expires_at) VALUES (?, 'checksum', '', ?)",
            (now, exp),
        )

    await store.db.write(sensors)
    stock = store.expires("stock_records", now)

    def stock_check(db: Any) -> None:
        cur = db.conn.execute(
            "INSERT INTO stock_checks (media_id, camera, at, status, fill, expires_at)"
            " VALUES ('m1', 'fridge-1', ?, 'ok', 0.5, ?)",
            (now, stock),
        )
        db.conn.execute(
            "INSERT INTO facing_states (check_id, facing_id, camera, sku, at, state, fill,"
            " confidence, expires_at) VALUES (?, 1, 'fridge-1', 'A', ?, 'empty', 0, 0.9, ?)",
            (cur.lastrowid, now, stock),
        )

    await store.db.write(stock_check)
    await store.audit(audit.Entry("tester", "test.add"))
    for kind in ("fridge", "floor", "evidence"):
        await store.add_picture(Picture("cam", kind, "test", b"jpeg", 1, 1))


CASES = [
    ("fridge_stills", "fridge"),
    ("floor_stills", "floor"),
    ("face_evidence", "evidence"),
    ("audit_log", "audit_log"),
    ("sensor_records", "temperature_readings"),
    ("sensor_records", "door_events"),
    ("sensor_records", "sensor_faults"),
    ("stock_records", "stock_checks"),
    ("stock_records", "facing_states"),
]


@pytest.mark.parametrize(("retention_class", "what"), CASES)
@pytest.mark.parametrize("configured", ["default", "shortened"])
async def test_each_class_expires_within_one_interval(
    data_dir: Path, clock: FakeClock, retention_class: str, what: str, configured: str
) -> None:
    retention = (
        RetentionConfig()
        if configured == "default"
        else RetentionConfig(**{retention_class: Duration("2h")})
    )
    limit = retention.seconds(retention_class)
    health = Health(clock)
    async with Store(data_dir, retention, clock) as store:
        reaper = Reaper(store, clock, health, interval=INTERVAL, min_free_bytes=0)
        task = asyncio.create_task(reaper.run())
        await add_one_of_each(store, clock)
        await until(lambda: reaped(reaper, 1))
        # just before the limit: still there
        clock.advance(limit - INTERVAL - 1)
        await until(lambda: reaped(reaper, 2))
        assert (await store.db.read(counts))[what] == 1
        # one interval past the limit: gone, with its file
        clock.advance(2 * INTERVAL + 1)
        await until(lambda: reaped(reaper, 3))
        after = await store.db.read(counts)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert after[what] == 0
        files, _ = store.media.list_ids()  # type: ignore[union-attr]
        media_rows = after["fridge"] + after["floor"] + after["evidence"]
        assert len(files) == media_rows


async def test_reaper_keeps_what_has_not_expired(
    store: Store, clock: FakeClock, health: Health
) -> None:
    await add_one_of_each(store, clock)
    clock.advance(CLASSES["floor_stills"].default + 1)
    report = await Reaper(store, clock, health, interval=INTERVAL, min_free_bytes=0).reap_once()
    c = await store.db.read(counts)
    assert report.expired_media == 2  # floor and evidence (72h); fridge keeps 30 days
    assert c["fridge"] == 1 and c["temperature_readings"] == 1 and c["audit_log"] == 1


class FakeDisk:
    """Free space rises as media files are deleted."""

    def __init__(self, store: Store, free_with_all: int, per_file: int) -> None:
        self.store, self.base, self.per_file = store, free_with_all, per_file
        self.initial = None

    def __call__(self, path: Any) -> DiskUsage:
        files = len(self.store.media.list_ids()[0])  # type: ignore[union-attr]
        if self.initial is None:
            self.initial = files
        return DiskUsage(10**12, 0, self.base + (self.initial - files) * self.per_file)


async def test_watermark_deletes_oldest_pictures_first_never_records(
    store: Store, clock: FakeClock, health: Health
) -> None:
    ids = []
    for _ in range(120):
        ids.append(await store.add_picture(Picture("cam", "fridge", "t", b"x" * 10, 1, 1)))
        clock.advance(1)
    await add_one_of_each(store, clock)
    disk = FakeDisk(store, free_with_all=100, per_file=10)
    reaper = Reaper(store, clock, health, interval=INTERVAL, min_free_bytes=1000, disk_usage=disk)
    report = await reaper.reap_once()
    assert report.space_media == 100  # two batches of 50 bring 100 bytes up to 1100
    left = await store.db.read(
        lambda db: [r[0] for r in db.conn.execute("SELECT id FROM media ORDER BY created_at")]
    )
    assert left[:20] == ids[100:] and len(left) == 23  # the oldest went first
    c = await store.db.read(counts)
    assert c["temperature_readings"] == 1 and c["audit_log"] == 1 and c["sensor_faults"] == 1
    status = health.get("disk")
    assert (
        status is not None
        and status.state == "warning"
        and "deleted the 100 oldest" in status.message
    )


async def test_watermark_with_nothing_left_to_delete_is_an_error(
    store: Store, clock: FakeClock, health: Health
) -> None:
    reaper = Reaper(
        store,
        clock,
        health,
        interval=INTERVAL,
        min_free_bytes=10**9,
        disk_usage=lambda p: DiskUsage(10**12, 0, 5),
    )
    await reaper.reap_once()
    status = health.get("disk")
    assert status is not None and status.state == "error" and "no pictures left" in status.message


async def reaped(reaper: Reaper, passes: int) -> bool:
    return reaper.runs >= passes


async def test_every_table_with_an_expiry_is_reaped(store: Store) -> None:
    """A table whose rows carry expires_at (the MQTT outbox and its nonces among them) is in
    the reaper's list: a new table cannot keep rows past their limit by being forgotten."""
    from veilcam.store.reaper import EXPIRING_TABLES

    def expiring(db: Any) -> set[str]:
        tables = [
            r[0] for r in db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        return {
            t
            for t in tables
            if any(c[1] == "expires_at" for c in db.conn.execute(f"PRAGMA table_info({t})"))
        }

    apart = {
        "media": "with its files, by the reaper's picture pass",
        "requests": "the reaper's register pass, after the disclosures that name them",
        "disclosures": "the reaper's register pass",
        "legal_holds": "the reaper's register pass",
        "breaches": "the reaper's register pass",
        "watchlist": "faces.watchlist: an entry expires as a removal, its photos go with it",
        "api_tokens": "a token's validity, checked at every use",
    }
    found = await store.db.read(expiring)
    assert {"mqtt_outbox", "mqtt_nonces"} <= found
    forgotten = found - set(EXPIRING_TABLES) - set(apart)
    assert not forgotten, f"tables with expires_at the reaper does not know: {forgotten}"
