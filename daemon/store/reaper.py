"""Retention reaper: deletes what has reached its limit, and the oldest pictures when disk runs low.

Sensor and audit records are never deleted for space: they are small, and the
law wants them kept. Pictures are what fills a disk.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlite_utils import Database

from veilcam.clock import Clock
from veilcam.durations import DAY
from veilcam.health import Health
from veilcam.store.store import Store

log = logging.getLogger(__name__)

# Tables whose rows carry expires_at, besides media (which also has files).
EXPIRING_TABLES = (
    "temperature_readings",
    "door_events",
    "sensor_faults",
    "audit_log",
    "alarms",
    "outbox",
    "facing_states",
    "stock_checks",
)
WATERMARK_BATCH = 50


class DiskUsage(NamedTuple):
    total: int
    used: int
    free: int


@dataclass(slots=True)
class ReapReport:
    expired_media: int = 0
    expired_rows: int = 0
    space_media: int = 0
    free_bytes: int = 0


def _delete_expired_media(db: Database, now: float) -> list[str]:
    ids = [r[0] for r in db.conn.execute("SELECT id FROM media WHERE expires_at <= ?", (now,))]
    db.conn.executemany("DELETE FROM media WHERE id = ?", [(i,) for i in ids])
    return ids


def _delete_expired_rows(db: Database, now: float) -> int:
    total = 0
    for table in EXPIRING_TABLES:  # names from the tuple above, never from input
        total += db.conn.execute(f"DELETE FROM {table} WHERE expires_at <= ?", (now,)).rowcount
    return total


def _delete_oldest_media(db: Database, n: int) -> list[str]:
    ids = [r[0] for r in db.conn.execute("SELECT id FROM media ORDER BY created_at LIMIT ?", (n,))]
    db.conn.executemany("DELETE FROM media WHERE id = ?", [(i,) for i in ids])
    return ids


class Reaper:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        health: Health,
        *,
        interval: float,
        min_free_bytes: int,
        disk_usage: Callable[[Any], Any] = shutil.disk_usage,
    ) -> None:
        self.store = store
        self.clock = clock
        self.health = health
        self.interval = interval
        self.min_free_bytes = min_free_bytes
        self._disk_usage = disk_usage
        self._space_deleted_at: float | None = None
        self.runs = 0  # passes completed, and what the last one did
        self.last: ReapReport | None = None

    async def run(self) -> None:
        while True:
            await self.reap_once()
            await self.clock.sleep(self.interval)

    async def reap_once(self) -> ReapReport:
        report = ReapReport()
        now = self.clock.now()
        # Rows go first: a crash before the files go leaves orphans that the next start sweeps.
        ids = await self.store.db.write(_delete_expired_media, now)
        await self.store.delete_media_files(ids)
        report.expired_media = len(ids)
        report.expired_rows = await self.store.db.write(_delete_expired_rows, now)
        if ids or report.expired_rows:
            log.info(
                "reaper: %d pictures and %d records reached their limit",
                len(ids),
                report.expired_rows,
            )
        await self._watermark(report)
        self.runs += 1
        self.last = report
        return report

    async def _watermark(self, report: ReapReport) -> None:
        free = self._disk_usage(self.store.data_dir).free
        while free < self.min_free_bytes:
            ids = await self.store.db.write(_delete_oldest_media, WATERMARK_BATCH)
            if not ids:
                break
            await self.store.delete_media_files(ids)
            report.space_media += len(ids)
            free = self._disk_usage(self.store.data_dir).free
        report.free_bytes = free
        mb = self.min_free_bytes // 2**20
        if free < self.min_free_bytes:
            self.health.set(
                "disk",
                "error",
                f"{free // 2**20} MB free, below {mb} MB, and no pictures left to delete",
            )
        elif report.space_media:
            log.warning("disk low: deleted the %d oldest pictures", report.space_media)
            self._space_deleted_at = self.clock.now()
            self.health.set(
                "disk",
                "warning",
                f"disk was below {mb} MB free; deleted the {report.space_media} oldest pictures",
            )
        elif self._space_deleted_at is None or self.clock.now() - self._space_deleted_at > DAY:
            # A space warning stays up for a day so someone sees it.
            self.health.set("disk", "ok", f"{free // 2**20} MB free")
