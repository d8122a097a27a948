"""Redacted stills to the broker, only where the configuration names the camera
(``[mqtt] stills``), only under the standing disclosure record an administrator made for
them (``stills_disclosure``, items ``camera:<name>``), and never a picture a shopper's
restriction covers or a watchlist's evidence.

Each picture is told to the feed as it is stored (``Pipeline.stored``); the feed reads the
stored picture (already redacted: a raw frame never reaches disk), checks the record (valid,
covering the camera) and notes the picture as disclosed in the same transaction, which
audits it, then queues it. What the record refuses is not sent, and health says why.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from veilcam.alerts.mqttbox import Message, payload
from veilcam.errors import MediaIntegrityError, PrivacyRefused
from veilcam.privacy import disclosures
from veilcam.privacy.scope import Act

if TYPE_CHECKING:
    from veilcam.fleet.publisher import Publisher
    from veilcam.health import Health

log = logging.getLogger(__name__)

ACTOR = "system:mqtt"
QUEUE = 50  # stills waiting to be read and checked; past it the newest are not sent
KINDS = ("fridge", "floor")  # stills; never evidence, never clips


def _row(db: Database, media_id: str) -> dict[str, Any] | None:
    row = db.conn.execute(
        "SELECT id, camera, kind, created_at, restricted_by FROM media WHERE id = ?", (media_id,)
    ).fetchone()
    return dict(row) if row else None


def _authorise(db: Database, act: Act, record: int, camera: str, media_id: str) -> None:
    disclosures.authorise_job(
        db, act, record, [f"camera:{camera}"], "MQTT still", within=[f"media:{media_id}"]
    )


class StillsFeed:
    def __init__(
        self, publisher: Publisher, cameras: list[str], record: int, health: Health
    ) -> None:
        self.publisher, self.cameras, self.record, self.health = publisher, cameras, record, health
        self.store, self.clock = publisher.store, publisher.clock
        self.queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue(QUEUE)
        self.sent = self.withheld = 0

    def stored(self, camera: str, media_id: str) -> None:
        """Pipeline.stored's callback."""
        if camera in self.cameras:
            try:
                self.queue.put_nowait((camera, media_id))
            except asyncio.QueueFull:
                self.withheld += 1

    async def publish(self, camera: str, media_id: str) -> bool:
        """Queue one stored still if everything allows it; whether it was."""
        row = await self.store.db.read(_row, media_id)
        if row is None or row["kind"] not in KINDS or row["camera"] != camera:
            return False
        if camera not in self.cameras:
            return False
        if row["restricted_by"] is not None:
            log.info(
                "still %s not published: restricted by request %s", media_id, row["restricted_by"]
            )
            self.withheld += 1
            return False
        try:
            jpeg = await self.store.read_picture(media_id)
        except (MediaIntegrityError, OSError) as exc:
            log.warning("still %s not published: %s", media_id, exc)
            return False
        now = self.clock.now()
        act = Act(
            ACTOR, now, self.store.expires("audit_log", now), self.store.expires("requests", now)
        )
        try:
            await self.store.db.write(_authorise, act, self.record, camera, media_id)
        except PrivacyRefused as exc:
            self.withheld += 1
            self.health.set("mqtt_stills", "warning", f"stills not published: {exc}")
            return False
        meta = {"media_id": media_id, "at": row["created_at"], "bytes": len(jpeg)}
        meta["disclosure"] = self.record
        await self.publisher.enqueue(
            [
                Message("telemetry", f"camera/{camera}/still", jpeg, retain=True),
                Message("telemetry", f"camera/{camera}/still/meta", payload(meta), retain=True),
            ]
        )
        self.sent += 1
        self.health.set("mqtt_stills", "ok", f"{self.sent} still(s) published this run")
        return True

    async def run(self) -> None:
        while True:
            camera, media_id = await self.queue.get()
            await self.publish(camera, media_id)
