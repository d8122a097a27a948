"""What the store's jobs tell head office, read from their results after they are stored:
each fridge's facings and restock list (stock), today's visitor counts (counts only: no
template, no track, nothing about anyone), and the research uploads' progress (objects and
bytes). Each is published retained, and only when it changed since the last time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from veilcam.alerts.mqttbox import Message, payload
from veilcam.faces.counting import counts_job
from veilcam.stock import queries as stock
from veilcam.stock.history import restock_list

if TYPE_CHECKING:
    from veilcam.clock import Clock
    from veilcam.config import Config
    from veilcam.research.uploads import Uploader
    from veilcam.store import Store


def _midnight(now: float) -> float:
    local = dt.datetime.fromtimestamp(now).astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


class ShopFeed:
    def __init__(
        self, config: Config, store: Store, clock: Clock, uploader: Uploader | None = None
    ) -> None:
        self.config, self.store, self.clock, self.uploader = config, store, clock, uploader
        self.fridges = [c.name for c in config.cameras if c.purpose == "fridge"]
        self.counters = [c.name for c in config.cameras if c.counting is not None]
        self.last: dict[str, bytes] = {}  # topic: the payload last queued, to skip repeats

    def _changed(self, topic: str, doc: dict[str, Any], stamp: str | None = "at") -> Message | None:
        """A message for ``doc`` unless it says what the last did (``stamp``, the time it
        was made, aside)."""
        body = payload({k: v for k, v in doc.items() if k != stamp})
        if self.last.get(topic) == body:
            return None
        self.last[topic] = body
        return Message("telemetry", topic, payload(doc), retain=True)

    async def _stock(self, camera: str, now: float) -> list[Message]:
        db = self.store.db
        latest = await db.read(stock.latest_job, camera)
        facings = await db.read(stock.facings_job, camera)
        products = await db.read(stock.products_job)
        cfg = self.config.stock
        items, why = restock_list(
            latest, facings, products, cfg.restock_below, cfg.stale_after, now
        )
        out = []
        if latest is not None:
            states = latest["states"]
            doc = {
                "at": latest["at"],
                "compliance": latest["compliance"],
                "facings": [
                    {
                        "id": f.id,
                        "shelf": f.shelf,
                        "position": f.position,
                        "sku": f.sku,
                        "state": states[f.id]["state"],
                        "fill": states[f.id]["fill"],
                    }
                    for f in facings
                    if f.id in states
                ],
            }
            if m := self._changed(f"stock/{camera}/facings", doc, stamp=None):
                out.append(m)
        restock = {"at": now, "items": [asdict(r) for r in items], "why": why}
        if m := self._changed(f"stock/{camera}/restock", restock):
            out.append(m)
        return out

    async def _visitors(self, camera: str, now: float) -> list[Message]:
        since = _midnight(now)
        rows = await self.store.db.read(counts_job, camera, since)
        doc = {
            "at": now,
            "since": since,
            "entered": sum(r["entered"] or 0 for r in rows),
            "exited": sum(r["exited"] or 0 for r in rows),
            "staff": sum(r["staff"] or 0 for r in rows),
        }
        m = self._changed(f"visitors/{camera}/today", doc)
        return [m] if m else []

    def _uploads(self, now: float) -> list[Message]:
        if self.uploader is None:
            return []
        p = self.uploader.progress
        doc = {
            "at": now,
            "sent": p.sent,
            "deleted": p.deleted,
            "failed": p.failed,
            "bytes": p.bytes,
        }
        m = self._changed("research/uploads", doc)
        return [m] if m else []

    async def messages(self) -> list[Message]:
        now = self.clock.now()
        out: list[Message] = []
        for camera in self.fridges:
            out += await self._stock(camera, now)
        for camera in self.counters:
            out += await self._visitors(camera, now)
        return out + self._uploads(now)
