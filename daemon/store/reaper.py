"""Retention reaper: deletes what has reached its limit, and the oldest pictures when disk runs low.

Sensor and audit records are never deleted for space: they are small, and the
law wants them kept. Pictures are what fills a disk.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlite_utils import Database

from veilcam.clock import Clock
from veilcam.durations import DAY
from veilcam.health import Health
from veilcam.retention import MEDIA_CLASS
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
    "objections",
    "deletions",
    "research_events",
    "research_poses",
    "visitor_counts",
    "uploads",
    "mqtt_outbox",
    "mqtt_nonces",
)
# The retention class each table's deletions count under, in the retention report.
COUNTED = {
    "temperature_readings": "sensor_records",
    "door_events": "sensor_records",
    "sensor_faults": "sensor_records",
    "audit_log": "audit_log",
    "stock_checks": "stock_records",
}

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


def count_deletions(db: Database, now: float, counts: dict[str, int], reason: str) -> None:
    """Add to the day's deletion counts per retention class (for the retention report)."""
    day = time.strftime("%Y-%m-%d", time.localtime(now))
    db.conn.executemany(
        "INSERT INTO deletions (day, class, reason, count, expires_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (day, class, reason) DO UPDATE SET count = count + excluded.count",
        [(day, c, reason, n, now + 400 * DAY) for c, n in counts.items() if n],
    )


def _delete_media(
    db: Database, now: float, where: str, args: tuple[Any, ...], reason: str
) -> list[str]:
    rows = db.conn.execute(f"SELECT id, kind FROM media WHERE {where}", args).fetchall()
    db.conn.executemany("DELETE FROM media WHERE id = ?", [(r[0],) for r in rows])
    by_class: dict[str, int] = {}
    for r in rows:
        by_class[MEDIA_CLASS[r[1]]] = by_class.get(MEDIA_CLASS[r[1]], 0) + 1
    count_deletions(db, now, by_class, reason)
    return [r[0] for r in rows]


def _delete_expired_media(db: Database, now: float) -> list[str]:
    return _delete_media(db, now, "expires_at <= ?", (now,), "expired")


def _delete_expired_rows(db: Database, now: float) -> int:
    total = 0
    counts: dict[str, int] = {}
    for table in EXPIRING_TABLES:  # names from the tuple above, never from input
        n = db.conn.execute(f"DELETE FROM {table} WHERE expires_at <= ?", (now,)).rowcount
        total += n
        if table in COUNTED:
            counts[COUNTED[table]] = counts.get(COUNTED[table], 0) + n
    # Disclosures first: they may name a request, which goes after them.
    n = db.conn.execute(
        "DELETE FROM disclosed WHERE disclosure_id IN"
        " (SELECT id FROM disclosures WHERE expires_at <= ?)",
        (now,),
    ).rowcount
    for table in ("disclosures", "legal_holds", "breaches"):
        n += db.conn.execute(f"DELETE FROM {table} WHERE expires_at <= ?", (now,)).rowcount
    n += db.conn.execute(
        "DELETE FROM requests WHERE expires_at <= ? AND id NOT IN"
        " (SELECT request_id FROM disclosures WHERE request_id IS NOT NULL)"
        " AND id NOT IN (SELECT request_id FROM objections)",
        (now,),
    ).rowcount
    counts["requests"] = n
    count_deletions(db, now, counts, "expired")
    return total + n


def _lapse_holds(db: Database, now: float) -> int:
    """Holds past their end close by themselves; their pictures keep the expiry the hold
    gave them (never later than the hold's end), so they go at the next pass if due."""
    ids = [
        r[0]
        for r in db.conn.execute(
            "SELECT id FROM legal_holds WHERE lifted_at IS NULL AND until <= ?", (now,)
        )
    ]
    for hold_id in ids:
        # (evidence kept past its 72 h cap keeps its hold reference until it goes)
        db.conn.execute(
            "UPDATE media SET hold_id = NULL, legal_hold = CASE WHEN expires_at"
            " <= created_at + 259200 THEN NULL ELSE legal_hold END WHERE hold_id = ?",
            (hold_id,),
        )
        db.conn.execute(
            "UPDATE legal_holds SET lifted_at = until, lifted_by = 'lapsed' WHERE id = ?",
            (hold_id,),
        )
    return len(ids)


def _delete_oldest_media(db: Database, n: int, now: float) -> list[str]:
    # Pictures under a legal hold are kept even for space: the law asked for them.
    return _delete_media(
        db,
        now,
        "id IN (SELECT id FROM media WHERE hold_id IS NULL ORDER BY created_at LIMIT ?)",
        (n,),
        "disk",
    )


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
        await self.store.db.write(_lapse_holds, now)
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
            ids = await self.store.db.write(_delete_oldest_media, WATERMARK_BATCH, self.clock.now())
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
