"""The dedup counting camera's faces (``counting.mode = "dedup"``): one of the capture
pipeline's inspectors. Each raw frame's faces are embedded in memory and handed to the
day's ``Dedup``, which keeps only binary templates under the day's key; the counts of new
and returning visitors join the camera's 15-minute counts. Nothing is looked at while the
``counting_dedup`` gate is closed, and closing it destroys the day's key and templates at
once, as midnight does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from veilcam.capture.geometry import polygon_mask
from veilcam.clock import Clock
from veilcam.config import CameraConfig
from veilcam.faces.counting import Counting
from veilcam.faces.dedup import Dedup
from veilcam.faces.service import Watchlist
from veilcam.health import Health

MAX_FACES = 8


class Visits:
    name = "counting"

    def __init__(self, faces: Watchlist, counting: Counting, clock: Clock, health: Health) -> None:
        """``faces``: where the detector and embedder are loaded (shared with the
        watchlist; its list is not consulted)."""
        self.faces, self.counting, self.clock, self.health = faces, counting, clock, health
        self.days: dict[str, Dedup] = {}
        self._zones: dict[tuple[str, tuple[int, ...]], np.ndarray | None] = {}
        self._cpu = ThreadPoolExecutor(max_workers=1, thread_name_prefix="visits")

    def _day(self) -> str:
        return dt.datetime.fromtimestamp(self.clock.now()).date().isoformat()

    def forget(self, camera: str) -> dict[str, int]:
        """Destroy the camera's day: key, centre and templates. Returns the counts of the
        faces still waiting for the day's centre, decided first."""
        old = self.days.pop(camera, None)
        if old is None:
            return {}
        old.destroy()
        return old.take()

    def _look(self, cam: CameraConfig, frame: np.ndarray, dedup: Dedup, at: float) -> None:
        features = self.faces.models()
        vision = self.faces._vision
        assert cam.counting is not None
        shape = frame.shape[:2]
        if (cam.name, shape) not in self._zones:  # drawn once per camera and picture size
            self._zones[(cam.name, shape)] = (
                polygon_mask(shape, tuple(cam.counting.staff_zone))
                if cam.counting.staff_zone
                else None
            )
        zone = self._zones[(cam.name, shape)]
        for face in vision.faces(frame, min_face_px=20)[:MAX_FACES]:
            described = features.describe(frame, face)
            if described.template is None:
                continue
            x0, y0, x1, y1 = face.box
            cx, cy = int((x0 + x1) / 2), int((y0 + y1) / 2)
            h, w = frame.shape[:2]
            staff = zone is not None and bool(zone[min(h - 1, cy), min(w - 1, cx)])
            dedup.see(described.template, at, staff)
            described.template.fill(0)

    async def inspect(self, cam: CameraConfig, frame: np.ndarray) -> None:
        if cam.counting is None or cam.counting.mode != "dedup":
            return
        if "counting_dedup" not in self.faces.privacy.open_gates:
            await self._last(cam.name, self.forget(cam.name))
            self.health.set(
                f"counting:{cam.name}",
                "warning",
                "counting without de-duplication: the counting_dedup gate is closed",
            )
            return
        day = self._day()
        dedup = self.days.get(cam.name)
        if dedup is None or dedup.day != day:
            # Midnight: the day's key dies, and days cannot be linked; the faces that were
            # still waiting for its centre are counted first.
            await self._last(cam.name, self.forget(cam.name))
            dedup = self.days[cam.name] = Dedup(day)
        at = self.clock.now()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._cpu, self._look, cam, frame, dedup, at)
        counts = dedup.take()
        if any(counts.values()):
            await self.counting.add(cam.name, at, counts)
        self.health.set(f"counting:{cam.name}", "ok", "counting, de-duplicated within the day")

    async def _last(self, camera: str, counts: dict[str, int]) -> None:
        if any(counts.values()):
            await self.counting.add(camera, self.clock.now(), counts)

    def close(self) -> None:
        for camera in list(self.days):
            self.forget(camera)
        self._cpu.shutdown(wait=False, cancel_futures=True)
