"""Continuous cameras on the injected clock: grabbing keeps its pace whatever redaction does,
dropped frames are counted, analysers see only redacted pixels and lose frames, counted."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from tests.support.aio import until
from tests.support.capture import FixedSource, Gated, Hung, Real
from veilcam.capture import pipeline as capture
from veilcam.capture.camera import Camera
from veilcam.capture.pipeline import Pipeline
from veilcam.capture.stream import Stream
from veilcam.clock import FakeClock
from veilcam.config import CameraConfig, ReplaySourceConfig, StreamConfig
from veilcam.durations import Duration
from veilcam.health import Health
from veilcam.store import Store

FPS = 20
PERIOD = 1 / FPS


def stream_for(
    store: Store,
    health: Health,
    scene: np.ndarray,
    clock: FakeClock,
    redactor: object,
    **cfg: object,
) -> tuple[Stream, Pipeline]:
    scfg = StreamConfig(fps=FPS, **cfg)  # type: ignore[arg-type]
    cam_cfg = CameraConfig(
        name="floor", purpose="floor", source=ReplaySourceConfig(path="."), stream=scfg
    )
    cam = Camera(cam_cfg, FixedSource(scene), health)
    pipeline = Pipeline({"floor": cam}, redactor, store, health)  # type: ignore[arg-type]
    return Stream(cam, scfg, pipeline, clock), pipeline


async def frames(stream: Stream, clock: FakeClock, n: int) -> None:
    """Let ``n`` frame periods pass, one grab each: the grabber sleeps a period on the clock."""
    for _ in range(n):
        grabbed = stream.stats.grabbed

        async def next_grab(before: int = grabbed) -> bool:
            return stream.stats.grabbed > before

        clock.advance(PERIOD)
        await until(next_grab)


async def test_slow_redaction_drops_frames_instead_of_blocking_capture(
    store: Store, health: Health, scene: np.ndarray, clock: FakeClock
) -> None:
    redactor = Gated()
    stream, pipeline = stream_for(
        store, health, scene, clock, redactor, still_interval=Duration("1s")
    )
    task = asyncio.create_task(stream.run())
    try:
        await until(lambda: _at_least(stream, grabbed=1))
        await frames(stream, clock, FPS - 1)  # a second of frames, redaction held
        s = stream.stats
        assert s.grabbed == FPS  # grabbing kept its pace
        assert s.processed == 0
        # one frame being redacted, one in the mailbox, the rest replaced there and counted
        assert s.dropped == FPS - 2
        for _ in range(3):  # three redactions get through
            redactor.gate.release()
        await until(lambda: _at_least(stream, processed=2))
        await frames(stream, clock, 2)
        redactor.gate.release()
        await until(lambda: _at_least(stream, processed=3))
        s = stream.stats
        assert 0 <= s.grabbed - s.dropped - s.processed <= 2
        await until(lambda: _stills_stored(store, 1))
        assert s.stills == 1  # the first processed frame; the next one is due a second later
    finally:
        redactor.gate.release(100)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        pipeline.close()


async def test_slow_analyser_loses_frames_counted_and_bounded(
    store: Store, health: Health, scene: np.ndarray, clock: FakeClock
) -> None:
    stream, pipeline = stream_for(
        store, health, scene, clock, Real(), still_interval=Duration("60s"), analyser_queue=2
    )
    sub = stream.subscribe()
    task = asyncio.create_task(stream.run())
    try:
        for n in range(1, 8):
            await until(lambda n=n: _at_least(stream, processed=n))  # type: ignore[misc]
            clock.advance(PERIOD)
        assert sub.queue.qsize() == 2  # never more than its queue
        assert stream.frames.dropped() == stream.stats.processed - 2
        frame = sub.queue.get_nowait()
        assert frame.pixels[20:50, 20:50].max() == 0  # analysers only ever see redacted pixels
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        pipeline.close()


async def test_stream_survives_redaction_timeouts(
    store: Store,
    health: Health,
    scene: np.ndarray,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(capture, "REDACT_TIMEOUT", 0.05)  # real seconds: a watchdog on work
    redactor = Hung()
    stream, pipeline = stream_for(
        store, health, scene, clock, redactor, still_interval=Duration("1s")
    )
    task = asyncio.create_task(stream.run())
    try:
        await until(lambda: _at_least(stream, processed=1))
        clock.advance(1)  # the next still is due
        await frames(stream, clock, 1)
        await until(lambda: _at_least(stream, processed=2))
        await until(lambda: _stills_stored(store, 2))
        reasons = await store.db.read(
            lambda db: [r[0] for r in db.conn.execute("SELECT blank_reason FROM media")]
        )
        assert reasons and all("timed out" in r for r in reasons)
    finally:
        redactor.release()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        pipeline.close()


async def _at_least(stream: Stream, grabbed: int = 0, processed: int = 0) -> bool:
    return stream.stats.grabbed >= grabbed and stream.stats.processed >= processed


async def _stills_stored(store: Store, n: int) -> bool:
    count = await store.db.read(
        lambda db: db.conn.execute(
            "SELECT count(*) FROM media WHERE trigger = 'stream'"
        ).fetchone()[0]
    )
    return int(count) >= n
