import asyncio
import time

import numpy as np

from tests.support.capture import FixedSource, Real, Slow
from veilcam.capture.camera import Camera
from veilcam.capture.pipeline import Pipeline
from veilcam.capture.stream import Stream
from veilcam.clock import SystemClock
from veilcam.config import CameraConfig, ReplaySourceConfig, StreamConfig
from veilcam.durations import Duration
from veilcam.health import Health
from veilcam.store import Store


def stream_for(
    store: Store, health: Health, scene: np.ndarray, redactor: object, **cfg: object
) -> tuple[Stream, Pipeline]:
    scfg = StreamConfig(**cfg)  # type: ignore[arg-type]
    cam_cfg = CameraConfig(
        name="floor", purpose="floor", source=ReplaySourceConfig(path="."), stream=scfg
    )
    cam = Camera(cam_cfg, FixedSource(scene), health)
    pipeline = Pipeline({"floor": cam}, redactor, store, health)  # type: ignore[arg-type]
    return Stream(cam, scfg, pipeline, SystemClock()), pipeline


async def run_for(stream: Stream, pipeline: Pipeline, seconds: float) -> None:
    task = asyncio.create_task(stream.run())
    await asyncio.sleep(seconds)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    pipeline.close()


async def test_slow_redaction_drops_frames_instead_of_blocking_capture(
    store: Store, health: Health, scene: np.ndarray
) -> None:
    class Sluggish(Real):
        def redact(self, pixels, camera=None):  # type: ignore[no-untyped-def]
            time.sleep(0.15)
            return super().redact(pixels, camera)

    stream, pipeline = stream_for(
        store, health, scene, Sluggish(), fps=20, still_interval=Duration("1s")
    )
    await run_for(stream, pipeline, 1.5)
    s = stream.stats
    assert s.grabbed >= 15  # grabbing kept its pace
    assert s.processed <= 11
    # every grabbed frame is processed, dropped, or still in the mailbox / being redacted
    assert 0 <= s.grabbed - s.dropped - s.processed <= 2
    assert s.stills >= 1
    stills = await store.db.read(
        lambda db: db.conn.execute(
            "SELECT count(*) FROM media WHERE trigger = 'stream'"
        ).fetchone()[0]
    )
    assert stills == s.stills


async def test_slow_analyser_loses_frames_counted_and_bounded(
    store: Store, health: Health, scene: np.ndarray
) -> None:
    stream, pipeline = stream_for(
        store, health, scene, Real(), fps=20, still_interval=Duration("60s"), analyser_queue=2
    )
    sub = stream.subscribe()
    await run_for(stream, pipeline, 1.0)
    assert sub.queue.qsize() == 2  # never more than its queue
    assert stream.frames.dropped() == stream.stats.processed - 2
    frame = sub.queue.get_nowait()
    assert frame.pixels[20:50, 20:50].max() == 0  # analysers only ever see redacted pixels


async def test_stream_survives_redaction_timeouts(
    store: Store, health: Health, scene: np.ndarray, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from veilcam.capture import pipeline as capture

    monkeypatch.setattr(capture, "REDACT_TIMEOUT", 0.1)
    stream, pipeline = stream_for(
        store, health, scene, Slow(), fps=5, still_interval=Duration("1s")
    )
    await run_for(stream, pipeline, 0.8)
    assert stream.stats.processed >= 2
    reasons = await store.db.read(
        lambda db: [r[0] for r in db.conn.execute("SELECT blank_reason FROM media")]
    )
    assert reasons and all("timed out" in r for r in reasons)
