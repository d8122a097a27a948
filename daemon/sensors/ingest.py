"""Sensor ingest: readings, door events and faults from the reader into the store.

Messages are buffered briefly and committed in one writer job per flush, which
is what lets the line run at thousands of readings per second without touching
the event loop. If the database refuses a batch (disk full), the batch is kept
and retried; only beyond ``MAX_BACKLOG`` rows is the oldest dropped, counted. If it
refuses one row, every other row of the batch is stored and that one is kept as a
``refused_row`` fault naming it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from veilcam.clock import Clock
from veilcam.errors import ProtocolError, StoreError
from veilcam.events import Hub
from veilcam.health import Health
from veilcam.sensors.protocol import Door, Heartbeat, Message, SequenceTracker, Temperature
from veilcam.store import Store, records

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 0.1
FLUSH_SIZE = 2000
MAX_BACKLOG = 200_000


@dataclass(frozen=True, slots=True)
class Reading:
    """A probe's reading as it arrives: a temperature, or the fault it reported."""

    probe: str
    centi_c: int | None
    fault: str | None
    at: float


@dataclass(frozen=True, slots=True)
class DoorEvent:
    door: str
    open: bool
    at: float


# What one row can do wrong: a value the database's CHECKs refuse, an integer past 64 bits,
# a value of a type SQLite cannot bind. A full disk or an I/O error is the batch's
# problem, not the row's, and goes up to be retried.
ROW_ERRORS = (sqlite3.IntegrityError, sqlite3.InterfaceError, OverflowError, ValueError)


def _insert_all(
    db: Database, insert: Callable[[Database, list[Any]], int], rows: list[Any]
) -> list[str]:
    """Insert ``rows`` in one statement; if one row is refused, each row on its own, so that
    every good row is stored. Returns why each refused row was refused."""
    if not rows:
        return []
    db.conn.execute("SAVEPOINT rows")
    try:
        insert(db, rows)
    except ROW_ERRORS:
        db.conn.execute("ROLLBACK TO rows")
    else:
        db.conn.execute("RELEASE rows")
        return []
    db.conn.execute("RELEASE rows")
    refused = []
    for row in rows:
        try:
            insert(db, [row])
        except ROW_ERRORS as exc:
            refused.append(f"{type(exc).__name__}: {exc}; row {str(row)[:120]}")
    return refused


def _insert_batch(
    db: Database, temps: list[Any], doors: list[Any], faults: list[Any], now: float, expires: float
) -> int:
    """Store the batch; a refused row becomes a ``refused_row`` fault. Returns how many."""
    refused = _insert_all(db, records.insert_temperatures, temps)
    refused += _insert_all(db, records.insert_doors, doors)
    refused += _insert_all(db, records.insert_faults, faults)
    if refused:
        records.insert_faults(db, [(now, "refused_row", why, expires) for why in refused])
    return len(refused)


class SensorIngest:
    """The reader's sink: classify, buffer, and flush to the store."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        health: Health,
        doors: Hub[DoorEvent],
        readings: Hub[Reading] | None = None,
    ) -> None:
        self.readings = readings
        self.store = store
        self.clock = clock
        self.health = health
        self.doors = doors
        self.tracker = SequenceTracker()
        self.stats: Counter[str] = Counter()
        self.heartbeat: Heartbeat | None = None
        self._temps: list[tuple[Any, ...]] = []
        self._doors: list[tuple[Any, ...]] = []
        self._faults: list[tuple[Any, ...]] = []
        self._wake = asyncio.Event()
        self._in_flight: asyncio.Future[int] | None = None
        self._in_flight_rows = 0

    def __call__(self, item: Message | ProtocolError) -> None:
        now = self.clock.now()
        expires = self.store.expires("sensor_records", now)
        if isinstance(item, ProtocolError):
            self.stats["fault:" + item.kind] += 1
            self._faults.append((now, item.kind, str(item), expires))
            return
        verdict = self.tracker.check(item.seq, item.uptime_ms)
        if verdict == "duplicate":
            self.stats["duplicates"] += 1
            return
        if verdict == "reset":
            self.stats["fault:board_reset"] += 1
            self._faults.append((now, "board_reset", f"sequence restarted at {item.seq}", expires))
        if isinstance(item, Temperature):
            if self.readings is not None:
                self.readings.publish(Reading(item.probe, item.centi_c, item.fault, now))
            if item.fault is not None:
                self.stats["fault:" + item.fault] += 1
                self._faults.append((now, item.fault, f"probe {item.probe}", expires))
            else:
                self.stats["temperatures"] += 1
                self._temps.append(
                    (now, item.seq, item.uptime_ms, item.probe, item.centi_c, expires)
                )
        elif isinstance(item, Door):
            self.stats["doors"] += 1
            state = "open" if item.open else "closed"
            self._doors.append((now, item.seq, item.uptime_ms, item.door, state, expires))
            self.doors.publish(DoorEvent(item.door, item.open, now))
        elif isinstance(item, Heartbeat):
            self.stats["heartbeats"] += 1
            self.heartbeat = item
        if len(self._temps) + len(self._doors) >= FLUSH_SIZE:
            self._wake.set()

    @property
    def backlog(self) -> int:
        """Rows accepted but not yet committed (buffered or in the writer)."""
        in_flight = self._in_flight_rows if self._in_flight and not self._in_flight.done() else 0
        return len(self._temps) + len(self._doors) + len(self._faults) + in_flight

    async def run(self) -> None:
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(FLUSH_INTERVAL):
                        await self._wake.wait()
                self._wake.clear()
                await self.flush()
        finally:
            # Shutting down: let the write in progress land, then commit the rest.
            if self._in_flight is not None and not self._in_flight.done():
                try:
                    await self._in_flight
                except StoreError as exc:
                    log.error(
                        "%d sensor records not stored at shutdown: %s", self._in_flight_rows, exc
                    )
            await self.flush()

    async def flush(self) -> None:
        if not (self._temps or self._doors or self._faults):
            return
        temps, doors, faults = self._temps, self._doors, self._faults
        self._temps, self._doors, self._faults = [], [], []
        # Shielded: cancelling the ingest must not orphan a batch half-way to the database.
        now = self.clock.now()
        self._in_flight = asyncio.ensure_future(
            self.store.db.write(
                _insert_batch,
                temps,
                doors,
                faults,
                now,
                self.store.expires("sensor_records", now),
            )
        )
        self._in_flight_rows = len(temps) + len(doors) + len(faults)
        try:
            refused = await asyncio.shield(self._in_flight)
        except Exception as exc:
            if not isinstance(exc, StoreError):
                log.exception("storing %d sensor records failed", self._in_flight_rows)
            # Keep the batch (oldest first) and try again next tick.
            self._temps, self._doors, self._faults = (
                temps + self._temps,
                doors + self._doors,
                faults + self._faults,
            )
            self._trim()
            self.health.set("sensor_store", "error", f"cannot store sensor records: {exc}")
            await self.clock.sleep(1.0)
        else:
            if refused:
                self.stats["fault:refused_row"] += refused
                log.warning("%d sensor rows refused by the database (kept as faults)", refused)
            if (st := self.health.get("sensor_store")) is None or st.state != "ok":
                self.health.set("sensor_store", "ok", "storing sensor records")

    def _trim(self) -> None:
        for buf in (self._temps, self._doors, self._faults):
            over = len(buf) - MAX_BACKLOG
            if over > 0:
                del buf[:over]
                self.stats["dropped_backlog"] += over
