"""The entrance camera against the watchlist: each raw frame's faces embedded in memory,
before redaction, and compared with the active entries.

A face that matches nothing leaves nothing: no row, no file, no log line; its template is
dropped with the frame. A match is for a person to review, never an automatic decision: the
face's crop is kept as evidence (encrypted, class ``face_evidence``: 72 hours unless a
legal hold), and an alert opens through the shared alerts machinery with the score and the
entry's reference, notified like any other alarm. The episode closes when the person has
not been seen for ``QUIET`` seconds. While the watchlist gate is closed nothing is looked at.
"""

from __future__ import annotations

import asyncio
import io
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from veilcam.alerts.episodes import Episodes, Source, Transition
from veilcam.alerts.recorder import Recorder
from veilcam.clock import Clock
from veilcam.config import CameraConfig, NotifyConfig
from veilcam.errors import FeatureClosed, StoreError
from veilcam.faces.service import Match, Watchlist
from veilcam.health import Health
from veilcam.store import Picture, Store

log = logging.getLogger(__name__)
QUIET = 120.0  # seconds without another sighting that close a match's episode
MAX_FACES = 8  # faces embedded per frame, largest first
EVIDENCE_GROWTH = 1.6  # the evidence crop round the face box

SOURCE = Source(
    "watchlist",
    "Watchlist entry",
    {"match": "possible watchlist match: review before acting"},
    lambda tr: f"score {tr.value:.2f}" if tr.value is not None else None,
)


@dataclass(frozen=True, slots=True)
class Sighting:
    camera: str
    match: Match
    evidence: bytes  # JPEG of the face, for the reviewer
    width: int
    height: int


def evidence_crop(frame: np.ndarray, box: tuple[float, ...]) -> tuple[bytes, int, int]:
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0) * EVIDENCE_GROWTH
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    h, w = frame.shape[:2]
    left, top = max(0, int(cx - side / 2)), max(0, int(cy - side / 2))
    right, bottom = min(w, int(cx + side / 2)), min(h, int(cy + side / 2))
    out = io.BytesIO()
    Image.fromarray(frame[top:bottom, left:right]).save(out, "JPEG", quality=90)
    return out.getvalue(), right - left, bottom - top


class Entrance:
    """One of the capture pipeline's inspectors: looks at watchlist cameras' frames."""

    name = "watchlist"

    def __init__(
        self,
        watchlist: Watchlist,
        store: Store,
        clock: Clock,
        health: Health,
        notify: NotifyConfig | None = None,
        site: str = "store",
        wake: asyncio.Event | None = None,
    ) -> None:
        self.watchlist, self.store, self.clock, self.health = watchlist, store, clock, health
        self.recorder = Recorder(
            SOURCE,
            store,
            health,
            notify,
            site,
            wake,
            retention="face_evidence",
            health_key="watchlist_records",
        )
        self.episodes: dict[int, Episodes] = {}
        self.seen: dict[int, float] = {}
        self._cpu = ThreadPoolExecutor(max_workers=1, thread_name_prefix="watchlist")
        self.looked = 0  # frames looked at, for health (counts only)

    def _look(self, camera: str, frame: np.ndarray) -> list[Sighting]:
        """The frame's matches; everything else is dropped here, unwritten."""
        features = self.watchlist.models()
        vision = self.watchlist._vision
        threshold = features.embedder.threshold
        out = []
        for face in vision.faces(frame, min_face_px=20)[:MAX_FACES]:
            described = features.describe(frame, face)
            if described.template is None:
                continue
            match = self.watchlist.match(described.template, threshold)
            del described
            if match is None:
                continue
            jpeg, w, h = evidence_crop(frame, face.box)
            out.append(Sighting(camera, match, jpeg, w, h))
        return out

    async def inspect(self, cam: CameraConfig, frame: np.ndarray) -> None:
        """Look at one raw frame (memory only); raise and store what matched."""
        if not cam.watchlist:
            return
        camera = cam.name
        if "watchlist" not in self.watchlist.privacy.open_gates:
            self.health.set(f"watchlist:{camera}", "warning", "not looking: the gate is closed")
            return
        loop = asyncio.get_running_loop()
        try:
            sightings = await loop.run_in_executor(self._cpu, self._look, camera, frame)
        except FeatureClosed:
            return
        self.looked += 1
        now = self.clock.now()
        transitions: list[Transition] = []
        for s in sightings:
            transitions += await self._sighted(s, now)
        for entry_id, at in list(self.seen.items()):
            if now - at >= QUIET:
                del self.seen[entry_id]
                eps = self.episodes.pop(entry_id)
                transitions += eps.close("match", now, "not seen again")
        if transitions:
            await self.recorder.apply(transitions)
        self.health.set(f"watchlist:{camera}", "ok", f"looking ({self.looked} frames)")

    async def _sighted(self, s: Sighting, now: float) -> list[Transition]:
        self.seen[s.match.entry_id] = now
        eps = self.episodes.setdefault(
            s.match.entry_id, Episodes("watchlist", f"entry {s.match.entry_id}")
        )
        if "match" in eps.open:
            return []  # the same person still in view: one alert, one evidence crop
        try:
            media_id = await self.store.add_picture(
                Picture(
                    camera=s.camera,
                    kind="evidence",
                    trigger=f"watchlist:{s.match.entry_id}",
                    jpeg=s.evidence,
                    width=s.width,
                    height=s.height,
                    redaction={
                        "status": "evidence",
                        "entry": s.match.entry_id,
                        "score": round(s.match.score, 3),
                    },
                )
            )
        except StoreError as exc:
            media_id = None
            self.health.set("watchlist_records", "error", f"evidence not stored: {exc}")
        ref = await self.store.db.read(_reference_job, s.match.entry_id)
        msg = (
            f"{s.camera}: a face resembles watchlist entry {s.match.entry_id} ({ref}),"
            f" score {s.match.score:.2f}; evidence {media_id or 'not stored'}: review it"
        )
        return eps.raise_to("match", "alarm", now, s.match.score, msg)

    def close(self) -> None:
        self._cpu.shutdown(wait=False, cancel_futures=True)


def _reference_job(db: Any, entry_id: int) -> str:
    row = db.conn.execute(
        "SELECT reference, category FROM watchlist WHERE id = ?", (entry_id,)
    ).fetchone()
    return f"{row[1]}, {row[0]}" if row else "entry removed"
