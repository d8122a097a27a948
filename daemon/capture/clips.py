"""Research clips: a research camera records redacted H.264 video while someone is in its
study's area, in segments of a configured length.

Each frame is grabbed, redacted in memory (faces and heads, bodies kept) and only then handed
to the encoder; a frame that cannot be redacted is the pipeline's blank frame, so it is
blank in the clip too, and counted. The encoder writes to memory; the finished clip is
encrypted and stored like a picture (kind ``clip``, its study's id, 30 days at most from its
first frame). Frames are timed by the clock, so a slow board gives a clip with gaps (counted
as dropped), never a fast-forwarded one.
"""

from __future__ import annotations

import asyncio
import collections
import io
import json
import logging
import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import av
import numpy as np

from veilcam.capture.camera import Camera
from veilcam.capture.depth import DepthSource, DepthWriter, open_depth
from veilcam.capture.geometry import polygon_mask
from veilcam.capture.movement import Event, Movement, PoseFrame
from veilcam.capture.pipeline import REDACT_WORKERS, Pipeline
from veilcam.clock import Clock
from veilcam.config import ClipConfig
from veilcam.errors import FeatureClosed, SourceError, StoreError
from veilcam.health import Health
from veilcam.redaction.redactor import Redacted
from veilcam.store import Picture

log = logging.getLogger(__name__)
IDLE = 2.0  # seconds between looks while no study runs on the camera
IN_FLIGHT = REDACT_WORKERS  # frames being redacted at once
UNSTORED = 4  # finished clips kept in memory while the store refuses them (a full disk)


class Study(Protocol):
    @property
    def study_id(self) -> int: ...
    @property
    def area(self) -> tuple[tuple[float, float], ...]: ...
    @property
    def zones(self) -> dict[str, tuple[tuple[float, float], ...]]: ...


Flight = collections.deque[tuple["asyncio.Task[Redacted]", float, Study, "np.ndarray | None"]]


class ClipWriter:
    """One clip being encoded, in memory: H.264 (yuv420p) in MP4."""

    def __init__(self, width: int, height: int, fps: float, started: float) -> None:
        self.width, self.height, self.fps, self.started = width, height, fps, started
        self.buf = io.BytesIO()
        self.container = av.open(self.buf, mode="w", format="mp4")
        stream = self.container.add_stream("libx264", rate=round(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "26", "tune": "zerolatency"}
        self.stream: Any = stream
        self.frames = self.blank = self.dropped = 0
        self.last_pts = -1

    def add(self, rgb: np.ndarray, at: float, blank: bool) -> None:
        pts = max(self.last_pts + 1, round((at - self.started) * self.fps))
        self.dropped += pts - self.last_pts - 1
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame.pts = self.last_pts = pts
        for packet in self.stream.encode(frame):
            self.container.mux(packet)
        self.frames += 1
        self.blank += blank

    @property
    def duration(self) -> float:
        return (self.last_pts + 1) / self.fps

    def finish(self) -> bytes:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()
        return self.buf.getvalue()

    def abandon(self) -> None:
        self.container.close()


def insert_events_job(
    db: Any,
    clip_id: str,
    study_id: int | None,
    events: list[Event],
    expires_at: float,
    poses: Sequence[PoseFrame] = (),
) -> None:
    """A clip's movement events and pose landmarks; they go with the clip (a trigger
    deletes them with it)."""
    db.conn.executemany(
        "INSERT INTO research_events (clip_id, study_id, track, at, kind, zone, x, y,"
        " duration, depth_mm, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                clip_id,
                study_id,
                e.track,
                round(e.at, 3),
                e.kind,
                e.zone,
                e.x,
                e.y,
                e.duration,
                e.depth_mm,
                expires_at,
            )
            for e in events
        ],
    )
    db.conn.executemany(
        "INSERT INTO research_poses (clip_id, study_id, track, at, points, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(clip_id, study_id, p.track, p.at, json.dumps(p.points), expires_at) for p in poses],
    )


class ClipRecorder:
    """Records one research camera's clips for whichever study runs on it."""

    def __init__(
        self,
        pipeline: Pipeline,
        cam: Camera,
        clock: Clock,
        health: Health,
        cfg: ClipConfig,
        study_for: Callable[[str], Study | None],
    ) -> None:
        self.pipeline, self.cam, self.clock, self.health, self.cfg = (
            pipeline,
            cam,
            clock,
            health,
            cfg,
        )
        self.study_for = study_for
        self.component = f"clips:{cam.cfg.name}"
        self.writer: ClipWriter | None = None
        self.study_id: int | None = None
        self._encode = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clip-encode")
        self._masks: dict[Any, np.ndarray] = {}
        self.clips = 0
        self.blank_frames = 0
        self._last_seen = -math.inf
        # Finished clips the store has not taken yet, with their events and poses.
        self.unstored: collections.deque[tuple[Picture, list[Event], list[PoseFrame]]] = (
            collections.deque()
        )
        self.lost = 0
        self.events = 0
        self.movement: Movement | None = None
        self.depth_cfg = cam.cfg.depth
        self.depth: DepthSource | None = None
        self.depth_writer: DepthWriter | None = None
        self.depth_bad = 0

    def present(self, people: np.ndarray | None, study: Study) -> bool:
        if people is None or not people.any():
            return False
        key = (people.shape, study.area)
        if key not in self._masks:
            self._masks = {key: polygon_mask(people.shape[:2], study.area)}
        inside = int(np.count_nonzero(people & self._masks[key]))
        return bool(inside >= self.cfg.min_presence * people.shape[0] * people.shape[1])

    async def run(self) -> None:
        """Grab at the clip rate; up to ``IN_FLIGHT`` frames are being redacted at once (one
        per redaction worker), and they are recorded in the order they were grabbed."""
        period = 1.0 / self.cfg.fps
        self._last_seen = -math.inf
        backoff = 1.0
        flight: Flight = collections.deque()
        try:
            while True:
                started = self.clock.monotonic()
                while flight and (flight[0][0].done() or len(flight) >= IN_FLIGHT):
                    task, at, of, depth = flight.popleft()
                    await self._handle(await task, at, of, depth)
                study = self.study_for(self.cam.cfg.name)
                if self.unstored:
                    await self.store_waiting()
                if study is None:
                    await self._drain(flight)
                    await self.finish("no study is running")
                    await self.clock.sleep(IDLE)
                    continue
                try:
                    self.pipeline.allowed(self.cam)
                    frame = await self.cam.grab()
                except FeatureClosed:
                    await self._drain(flight)
                    await self.finish("the research gate closed")
                    await self.clock.sleep(IDLE)
                    continue
                except SourceError as exc:
                    # An unplugged camera ends the clip: what it holds is kept.
                    await self._drain(flight)
                    await self.finish(f"the camera failed: {exc}")
                    await self.clock.sleep(backoff)
                    backoff = min(backoff * 2, 30.0)
                    continue
                backoff = 1.0
                at = self.clock.now()
                task = asyncio.ensure_future(self.pipeline.redact(self.cam, frame.pixels))
                del frame  # the raw frame goes no further than the redaction
                flight.append((task, at, study, await self._grab_depth()))
                await self.clock.sleep(max(0.0, period - (self.clock.monotonic() - started)))
        finally:
            for task, *_ in flight:
                task.cancel()
            await self.finish("the recorder stopped")
            self._encode.shutdown(wait=False)

    async def _drain(self, flight: Flight) -> None:
        while flight:
            task, at, study, depth = flight.popleft()
            await self._handle(await task, at, study, depth)

    async def _grab_depth(self) -> np.ndarray | None:
        """The depth frame beside this colour frame; None (counted, in health) if the depth
        source is missing or its frame is corrupt: the colour clip goes on."""
        if self.depth_cfg is None:
            return None
        try:
            if self.depth is None:
                self.depth = await asyncio.to_thread(open_depth, self.depth_cfg)
            frame = await asyncio.to_thread(self.depth.grab)
        except SourceError as exc:
            self.depth_bad += 1
            self.health.set(
                f"depth:{self.cam.cfg.name}", "warning", f"{exc} ({self.depth_bad} so far)"
            )
            return None
        return frame

    async def _handle(
        self, redacted: Redacted, at: float, study: Study, depth: np.ndarray | None
    ) -> None:
        # Whole-picture mask arithmetic: on the encoder's thread, not the event loop.
        loop = asyncio.get_running_loop()
        if await loop.run_in_executor(self._encode, self.present, redacted.people, study):
            self._last_seen = at
        if at - self._last_seen <= self.cfg.linger:
            await self._record(study, redacted, at, depth)
        else:
            await self.finish("the area is empty")

    async def _record(
        self, study: Study, redacted: Redacted, now: float, depth: np.ndarray | None
    ) -> None:
        pixels, blank_reason = redacted.pixels, redacted.blank_reason
        h, w = pixels.shape[:2]
        w, h = w - w % 2, h - h % 2  # yuv420p needs even sides
        w_ = self.writer
        if w_ is not None and (self.study_id != study.study_id or (w_.width, w_.height) != (w, h)):
            await self.finish("the study or the picture size changed")
        loop = asyncio.get_running_loop()
        if self.writer is None:
            self.writer = await loop.run_in_executor(
                self._encode, ClipWriter, w, h, self.cfg.fps, now
            )
            self.study_id = study.study_id
            self.movement = Movement((h, w), study.area, study.zones)
        writer, movement = self.writer, self.movement
        assert movement is not None
        await loop.run_in_executor(
            self._encode, writer.add, pixels[:h, :w], now, blank_reason is not None
        )
        if self.depth_cfg is not None:
            if self.depth_writer is None and depth is not None:
                dh, dw = depth.shape
                self.depth_writer = DepthWriter(dw, dh, self.cfg.fps)
            if self.depth_writer is not None:
                await loop.run_in_executor(
                    self._encode, self.depth_writer.add, depth, writer.last_pts
                )
        # Movement in the clip's own time; a blanked frame shows nobody, and moves nothing.
        if blank_reason is None:
            at = (writer.last_pts) / writer.fps
            units = self.depth.units_mm if self.depth is not None else 1.0
            await loop.run_in_executor(
                self._encode,
                movement.step,
                at,
                redacted.people,
                pixels,
                depth,
                units,
                redacted.poses,
            )
        if blank_reason:
            self.blank_frames += 1
            self.health.set(self.component, "warning", f"frames blanked in a clip: {blank_reason}")
        if writer.duration >= self.cfg.seconds:
            await self.finish("the clip reached its length")

    async def store_waiting(self) -> list[str]:
        """Store the finished clips the store refused before (a full disk), oldest first;
        keep what it still refuses, up to UNSTORED clips (then the oldest is lost, counted)."""
        stored = []
        while self.unstored:
            clip, events, poses = self.unstored[0]
            try:
                media_id = await self.pipeline.store.add_picture(clip)
            except StoreError as exc:
                while len(self.unstored) > UNSTORED:
                    self.unstored.popleft()
                    self.lost += 1
                lost = f"; {self.lost} clip(s) lost" if self.lost else ""
                self.health.set(
                    self.component,
                    "error",
                    f"cannot store clips ({exc}); {len(self.unstored)} waiting in memory{lost}",
                )
                break
            self.unstored.popleft()
            self.clips += 1
            stored.append(media_id)
            if events or poses:
                expires = self.pipeline.store.expires("research_clips", clip.recorded_at or 0.0)
                await self.pipeline.store.db.write(
                    insert_events_job, media_id, clip.study_id, events, expires, poses
                )
                self.events += len(events)
        return stored

    async def finish(self, why: str) -> str | None:
        """Close the clip being recorded (if any) and store it; returns its media id."""
        writer, study_id, movement = self.writer, self.study_id, self.movement
        depth, self.depth_writer = self.depth_writer, None
        self.writer = self.study_id = self.movement = None
        if writer is None or study_id is None:
            return None
        loop = asyncio.get_running_loop()
        if writer.frames == 0:
            await loop.run_in_executor(self._encode, writer.abandon)
            return None
        mp4 = await loop.run_in_executor(self._encode, writer.finish)
        clip = Picture(
            camera=self.cam.cfg.name,
            kind="clip",
            trigger="study",
            jpeg=mp4,
            width=writer.width,
            height=writer.height,
            redaction={
                "status": "redacted",
                "frames": writer.frames,
                "blank": writer.blank,
                "dropped": writer.dropped,
                "ended": why,
            },
            study_id=study_id,
            recorded_at=writer.started,
            duration=round(writer.duration, 3),
            frames=writer.frames,
            blank_frames=writer.blank,
        )
        events = movement.close(writer.duration) if movement is not None else []
        poses = movement.poses if movement is not None else []
        self.unstored.append((clip, events, poses))
        if depth is not None:  # the same study, the same first frame: the same 30 days
            mkv = await loop.run_in_executor(self._encode, depth.finish)
            self.unstored.append(
                (
                    Picture(
                        camera=clip.camera,
                        kind="clip",
                        trigger="depth",
                        jpeg=mkv,
                        width=depth.width,
                        height=depth.height,
                        redaction={"status": "depth", "frames": depth.frames, "bad": depth.bad},
                        study_id=study_id,
                        recorded_at=writer.started,
                        duration=clip.duration,
                        frames=depth.frames,
                        blank_frames=depth.bad,
                    ),
                    [],
                    [],
                )
            )
        stored = await self.store_waiting()
        if not stored:
            return None
        media_id = stored[-1]
        if writer.blank == 0:
            self.health.set(self.component, "ok", f"last clip {writer.duration:.0f} s ({why})")
        log.info(
            "clip %s on %s: %d frames, %d blank (%s)",
            media_id,
            clip.camera,
            writer.frames,
            writer.blank,
            why,
        )
        return media_id
