"""Visitor counting that cannot become the Kohler case: ``anonymous`` mode counts people
crossing a line from the redactor's person regions alone — no face, no template, nothing
that could tell one visitor from another after the frame — and stores counts per camera
and 15 minutes.

Each counting camera's stream hands its redacted frames with the boxes of the people the
redactor confirmed. A small tracker follows boxes by their overlap (a track lives in
memory for as long as its person is in view, then goes); a track's feet (the bottom middle
of its box) crossing the line by more than the hysteresis counts once, in or out by the
direction. Someone seen in the staff zone (where staff badge in) is not counted: staff
opt out by where they walk, never by enrolling their faces.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlite_utils import Database

from veilcam.capture.geometry import iou, polygon_mask
from veilcam.capture.stream import RedactedFrame, Stream
from veilcam.clock import Clock
from veilcam.config import CountingConfig
from veilcam.errors import StoreError
from veilcam.health import Health
from veilcam.store import Store

BUCKET = 15 * 60  # seconds per stored count
MATCH = 0.2  # IoU that continues a track
LOST_AFTER = 2.0  # seconds a track may go unseen before it ends


@dataclass
class _Track:
    box: np.ndarray
    seen: float
    side: int = 0  # -1, +1: which side of the line the feet were last clearly on
    staff: bool = False


@dataclass
class LineCounter:
    """One camera's tracker and line; ``step`` each frame's person boxes (frame pixels)."""

    cfg: CountingConfig
    tracks: list[_Track] = field(default_factory=list)
    _zone: tuple[tuple[int, int], np.ndarray] | None = None

    def _side(self, foot: tuple[float, float]) -> tuple[int, bool]:
        """(-1, 0 or +1 for the side of the line, whether within the segment's span)."""
        (ax, ay), (bx, by) = self.cfg.line
        dx, dy = bx - ax, by - ay
        px, py = foot[0] - ax, foot[1] - ay
        length = float(np.hypot(dx, dy))
        distance = (dx * py - dy * px) / length  # + : to the right, looking from A to B
        along = (px * dx + py * dy) / (length * length)
        if abs(distance) < self.cfg.hysteresis:
            return 0, 0.0 <= along <= 1.0
        return (1 if distance > 0 else -1), 0.0 <= along <= 1.0

    def _in_staff_zone(self, foot: tuple[float, float], shape: tuple[int, int]) -> bool:
        if not self.cfg.staff_zone:
            return False
        if self._zone is None or self._zone[0] != shape:
            self._zone = (shape, polygon_mask(shape, tuple(self.cfg.staff_zone)))
        h, w = shape
        x, y = min(w - 1, int(foot[0] * w)), min(h - 1, int(foot[1] * h))
        return bool(self._zone[1][y, x])

    def step(self, at: float, boxes: np.ndarray, shape: tuple[int, int]) -> dict[str, int]:
        """Counts of this frame's crossings: ``entered``, ``exited``, ``staff``."""
        h, w = shape
        out = {"entered": 0, "exited": 0, "staff": 0}
        free = [t for t in self.tracks if at - t.seen <= LOST_AFTER]
        for box in np.asarray(boxes, np.float64).reshape(-1, 4):
            best = max(free, key=lambda t: iou(t.box, box), default=None)
            if best is not None and iou(best.box, box) >= MATCH:
                free.remove(best)
                track = best
                track.box, track.seen = box, at
            else:
                track = _Track(box, at)
                self.tracks.append(track)
            foot = (float(box[0] + box[2]) / 2 / w, float(box[3]) / h)
            track.staff = track.staff or self._in_staff_zone(foot, shape)
            side, within = self._side(foot)
            if side == 0:
                continue
            if track.side != 0 and side != track.side and within:
                key = "staff" if track.staff else ("entered" if side > 0 else "exited")
                out[key] += 1
            track.side = side
        self.tracks = [t for t in self.tracks if at - t.seen <= LOST_AFTER]
        return out


def add_job(
    db: Database, camera: str, bucket: float, counts: dict[str, int], expires: float
) -> None:
    """Add to a camera's 15 minutes: crossings (``entered``, ``exited``, ``staff``) and, in
    dedup mode, faces new today (``unique``) and back again (``repeat``)."""
    db.conn.execute(
        "INSERT INTO visitor_counts (camera, bucket, entered, exited, staff, unique_visitors,"
        " repeat_visitors, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (camera, bucket) DO UPDATE SET entered = entered + excluded.entered,"
        " exited = exited + excluded.exited, staff = staff + excluded.staff,"
        " unique_visitors = CASE WHEN excluded.unique_visitors IS NULL THEN unique_visitors"
        " ELSE coalesce(unique_visitors, 0) + excluded.unique_visitors END,"
        " repeat_visitors = CASE WHEN excluded.repeat_visitors IS NULL THEN repeat_visitors"
        " ELSE coalesce(repeat_visitors, 0) + excluded.repeat_visitors END",
        (
            camera,
            bucket,
            counts.get("entered", 0),
            counts.get("exited", 0),
            counts.get("staff", 0),
            counts.get("unique"),
            counts.get("repeat"),
            expires,
        ),
    )


def counts_job(db: Database, camera: str | None, since: float) -> list[dict[str, Any]]:
    sql = (
        "SELECT camera, bucket, entered, exited, staff, unique_visitors, repeat_visitors"
        " FROM visitor_counts WHERE bucket >= ?"
    )
    args: list[Any] = [since]
    if camera is not None:
        sql += " AND camera = ?"
        args.append(camera)
    return [dict(r) for r in db.conn.execute(sql + " ORDER BY bucket, camera", args)]


class Counting:
    """Counts each counting camera's stream; what the store refuses waits and is retried."""

    def __init__(
        self, store: Store, clock: Clock, health: Health, streams: dict[str, Stream]
    ) -> None:
        self.store, self.clock, self.health = store, clock, health
        self.streams = {name: s for name, s in streams.items() if s.cam.cfg.counting is not None}
        self.pending: dict[tuple[str, float], dict[str, int]] = {}

    async def run(self) -> None:
        await asyncio.gather(*(self._camera(name, s) for name, s in self.streams.items()))

    async def _camera(self, name: str, stream: Stream) -> None:
        cfg = stream.cam.cfg.counting
        assert cfg is not None
        counter = LineCounter(cfg)
        sub = stream.subscribe()
        try:
            while True:
                frame: RedactedFrame = await sub.get()
                counts = counter.step(frame.at, frame.people, frame.pixels.shape[:2])
                if any(counts.values()):
                    await self.add(name, frame.at, counts)
        finally:
            sub.close()

    async def add(self, camera: str, at: float, counts: dict[str, int]) -> None:
        """Counts from elsewhere (the dedup faces) into the same 15 minutes."""
        bucket = at - at % BUCKET
        slot = self.pending.setdefault((camera, bucket), {})
        for k, v in counts.items():
            slot[k] = slot.get(k, 0) + v
        await self.flush()

    async def flush(self) -> None:
        for (camera, bucket), counts in list(self.pending.items()):
            expires = self.store.expires("sensor_records", bucket)
            try:
                await self.store.db.write(add_job, camera, bucket, counts, expires)
            except StoreError as exc:
                self.health.set(
                    "visitor_counts", "error", f"{len(self.pending)} count(s) waiting: {exc}"
                )
                return
            del self.pending[(camera, bucket)]
        self.health.set("visitor_counts", "ok", "counting")
