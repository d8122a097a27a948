"""Continuous cameras: every frame redacted in memory and handed to analysers.

The grabber never waits for processing: it leaves the newest frame in a one-slot
mailbox, replacing (and counting) one not yet taken. Analysers get redacted
frames through bounded queues and lose frames, counted, when they fall behind.
A redacted still is stored every ``still_interval``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import numpy as np

from veilcam.capture.camera import Camera
from veilcam.capture.pipeline import Pipeline
from veilcam.clock import Clock
from veilcam.config import StreamConfig
from veilcam.errors import FeatureClosed, SourceError, StoreError
from veilcam.events import Hub, Subscription
from veilcam.tasks import TaskOwner
from veilcam_native import mask as masks

log = logging.getLogger(__name__)
MIN_PERSON_PX = 400  # a person region smaller than 20 x 20 pixels is not handed on


@dataclass(frozen=True, slots=True, eq=False)
class RedactedFrame:
    camera: str
    pixels: np.ndarray  # already redacted: safe for analysers
    at: float
    # Where the redactor confirmed people, as (N, 4) boxes x0, y0, x1, y1 in frame pixels:
    # enough to count them, nothing to recognise them by.
    people: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.int32))


@dataclass(slots=True)
class StreamStats:
    grabbed: int = 0
    dropped: int = 0  # replaced in the mailbox before processing
    processed: int = 0
    stills: int = 0


class Stream:
    def __init__(self, cam: Camera, cfg: StreamConfig, pipeline: Pipeline, clock: Clock) -> None:
        self.cam = cam
        self.cfg = cfg
        self.pipeline = pipeline
        self.clock = clock
        self.stats = StreamStats()
        self.frames: Hub[RedactedFrame] = Hub()
        self._mailbox: np.ndarray | None = None
        self._has_frame = asyncio.Event()

    def subscribe(self) -> Subscription[RedactedFrame]:
        return self.frames.subscribe(self.cfg.analyser_queue)

    async def run(self) -> None:
        async with TaskOwner(f"stream-{self.cam.cfg.name}") as owner:
            owner.spawn(self._process(), "process")
            await self._grab()

    async def _grab(self) -> None:
        period = 1.0 / self.cfg.fps
        backoff = 1.0
        while True:
            started = self.clock.monotonic()
            try:
                self.pipeline.allowed(self.cam)
                frame = await self.cam.grab()
            except FeatureClosed:
                await self.clock.sleep(5.0)  # until an administrator's decision opens it
                continue
            except SourceError:
                await self.clock.sleep(backoff)  # health already says why
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = 1.0
            self.stats.grabbed += 1
            if self._mailbox is not None:
                self.stats.dropped += 1
            self._mailbox = frame.pixels
            self._has_frame.set()
            del frame
            await self.clock.sleep(max(0.0, period - (self.clock.monotonic() - started)))

    async def _process(self) -> None:
        interval = self.cfg.still_interval
        next_still = self.clock.monotonic()
        while True:
            await self._has_frame.wait()
            self._has_frame.clear()
            pixels, self._mailbox = self._mailbox, None
            if pixels is None:
                continue
            redacted = await self.pipeline.redact(self.cam, pixels)
            del pixels
            self.stats.processed += 1
            people = (
                masks.mask_boxes(redacted.people, min_area=MIN_PERSON_PX)
                if redacted.people is not None
                else np.zeros((0, 4), np.int32)
            )
            self.frames.publish(
                RedactedFrame(self.cam.cfg.name, redacted.pixels, self.clock.now(), people)
            )
            if self.clock.monotonic() >= next_still:
                next_still = self.clock.monotonic() + interval
                try:
                    await self.pipeline.store_redacted(self.cam, redacted, "stream")
                except StoreError:
                    continue  # reported in health; analysers keep their frames
                self.stats.stills += 1
