"""The supervisor: builds the application context, starts services in order, stops them in reverse.

Each long-running service is a coroutine run under a watch: if it fails it is
reported in health and restarted with back-off while the others keep running.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import veilcam_native
from veilcam import __version__
from veilcam.alerts.anchor import AuditAnchor
from veilcam.alerts.outbox import Outbox
from veilcam.alerts.recorder import Recorder
from veilcam.capture.camera import Camera
from veilcam.capture.clips import ClipRecorder
from veilcam.capture.pipeline import REDACT_WORKERS, Pipeline
from veilcam.capture.sources import make_source
from veilcam.capture.stream import Stream
from veilcam.capture.triggers import Triggers
from veilcam.clock import Clock, SystemClock
from veilcam.coldchain.service import AlarmService
from veilcam.config import Config
from veilcam.control.server import ControlServer
from veilcam.errors import ModelError
from veilcam.events import Hub
from veilcam.faces.counting import Counting
from veilcam.faces.entrance import Entrance
from veilcam.faces.service import REMINDERS, Watchlist
from veilcam.faces.visits import Visits
from veilcam.fleet.commands import Commands, load_key
from veilcam.fleet.publisher import Publisher
from veilcam.fleet.shop import ShopFeed
from veilcam.fleet.stills import StillsFeed
from veilcam.fleet.telemetry import Telemetry
from veilcam.health import Health
from veilcam.privacy import gates
from veilcam.privacy.deadlines import Deadlines
from veilcam.privacy.service import Privacy
from veilcam.redaction.redactor import FailClosedRedactor, Redactor, VisionRedactor
from veilcam.research.service import Research
from veilcam.research.uploads import Uploader
from veilcam.runtime.commands import control_handlers
from veilcam.runtime.context import App
from veilcam.runtime.fleet import fleet_handlers
from veilcam.runtime.memory import trim
from veilcam.runtime.sdnotify import Notifier
from veilcam.sensors.ingest import SensorIngest
from veilcam.sensors.reader import SensorReader
from veilcam.stock.service import StockService
from veilcam.store import Store, audit, records
from veilcam.store.reaper import Reaper
from veilcam.store.references import References
from veilcam.store.rotation import Rotation
from veilcam.vision.pipeline import Vision
from veilcam.vision.runtime import BoardProfile

log = logging.getLogger(__name__)

BACKOFF_MIN, BACKOFF_MAX = 1.0, 60.0
STABLE_AFTER = 60.0  # a service that ran this long restarts from the shortest back-off
TRIM_EVERY = 60.0  # seconds of real time between returns of free heap pages


async def supervise(
    name: str,
    factory: Callable[[], Awaitable[Any]],
    health: Health,
    clock: Clock,
    restarts: dict[str, int],
) -> None:
    delay = BACKOFF_MIN
    while True:
        started = clock.monotonic()
        try:
            await factory()
            log.info("service %s finished", name)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a failed service is restarted, not fatal
            if clock.monotonic() - started > STABLE_AFTER:
                delay = BACKOFF_MIN
            restarts[name] = restarts.get(name, 0) + 1
            log.error("service %s failed: %s; restarting in %.0fs", name, exc, delay, exc_info=exc)
            health.set(f"service:{name}", "error", f"failed ({exc}); restarting in {delay:.0f}s")
            await clock.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)
            health.set(f"service:{name}", "ok", "restarted")


async def _cancel(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def load_redactor(config: Config, health: Health) -> Redactor:
    """The vision redactor for the configured board and model cache; if a model is missing
    or altered, a redactor that blanks every picture, and the reason as a health error."""
    cache = Path(config.vision.models_dir) if config.vision.models_dir else None
    try:
        vision = Vision(BoardProfile.load(config.vision.board), cache, workers=REDACT_WORKERS)
    except ModelError as exc:
        health.set("models", "error", f"{exc}; every picture is stored blank")
        log.error("%s; every picture will be stored blank", exc)
        return FailClosedRedactor(str(exc))
    runs = f"faces on {vision.face_runs_on}, people and hands on {vision.segmenter.runs_on}"
    if vision.notes:  # the profile's accelerator is missing: working, on the CPU
        health.set("models", "warning", f"{runs}; {'; '.join(vision.notes)}")
    else:
        health.set("models", "ok", runs)
    return VisionRedactor(vision)


def _build_pipeline(config: Config, store: Store, health: Health, redactor: Redactor) -> Pipeline:
    cameras = {c.name: Camera(c, make_source(c), health) for c in config.cameras}
    return Pipeline(cameras, redactor, store, health)


async def _persist_health(app: App, interval: float) -> None:
    while True:
        await _write_health(app)
        await app.clock.sleep(interval)


async def _write_health(app: App, final: bool = False) -> None:
    now = app.clock.now()
    rows = [
        (name, "stopped" if final else s.state, s.message, s.since, now)
        for name, s in app.health.statuses().items()
    ]
    await app.store.db.write(records.put_health, rows)


@contextlib.asynccontextmanager
async def running(
    config: Config,
    *,
    clock: Clock | None = None,
    redactor: Redactor | None = None,
    notifier: Notifier | None = None,
    extra: Sequence[tuple[str, Callable[[App], Awaitable[Any]]]] = (),
) -> Any:
    """Start every service in order; on exit, stop them in reverse. Yields the App."""
    clock = clock or SystemClock()
    health = Health(clock)
    notifier = notifier or Notifier()
    log.info(
        "veilcam %s starting; kernels: %s%s",
        __version__,
        veilcam_native.IMPLEMENTATION,
        (" with x86 SIMD" + (" and AVX-512" if veilcam_native.WIDE else ""))
        if veilcam_native.SIMD
        else "",
    )
    if veilcam_native.IMPORT_ERROR:
        log.warning(
            "native kernels not loaded (%s); running the Python twins", veilcam_native.IMPORT_ERROR
        )
    async with contextlib.AsyncExitStack() as stack:
        store = await stack.enter_async_context(
            Store(Path(config.data_dir), config.retention, clock)
        )
        if redactor is None:
            redactor = (
                await asyncio.to_thread(load_redactor, config, health)
                if config.cameras
                else FailClosedRedactor()
            )
        if isinstance(redactor, VisionRedactor) and redactor.store is None:
            redactor.store = References(Path(config.data_dir))
        pipeline = _build_pipeline(config, store, health, redactor)
        stack.callback(pipeline.close)
        app = App(config, clock, health, store, Hub(), pipeline)
        await store.audit(audit.Entry("system", "daemon.start", detail=__version__))

        def start(name: str, factory: Callable[[], Awaitable[Any]]) -> None:
            task = asyncio.create_task(
                supervise(name, factory, health, clock, app.restarts), name=f"service:{name}"
            )
            stack.push_async_callback(_cancel, task)

        # Registered after the services, so it runs after they are stopped: a final snapshot.
        stack.push_async_callback(_write_health, app, True)
        start("health", lambda: _persist_health(app, config.storage.health_interval))
        reaper = Reaper(
            store,
            clock,
            health,
            interval=config.storage.reaper_interval,
            min_free_bytes=config.storage.min_free_mb * 2**20,
        )
        start("reaper", reaper.run)
        start("memory", _trim_memory)
        app.rotation = Rotation(store)
        start("keys", app.rotation.run)
        notify = config.notify
        outbox = None
        fridges = [c for c in config.cameras if c.purpose == "fridge"]
        if (notify.email or notify.webhook) is not None:  # alarms, stock, privacy deadlines
            outbox = Outbox(notify, config.site, store, clock, health)
            app.outbox = outbox
            start("outbox", outbox.run)
        if config.mqtt is not None:  # the chain's broker: telemetry and alarm changes
            app.publisher = Publisher(config.mqtt, config.site, store, clock, health)
            app.mirror = app.publisher.mirror
            if config.mqtt.command_key is not None:  # signed commands from head office
                key = load_key(config.mqtt.command_key)
                commands = Commands(app.publisher, key, fleet_handlers(app), config.mqtt.device)
                app.publisher.on_command = commands.handle
            start("mqtt", app.publisher.run)
            if config.mqtt.stills and config.mqtt.stills_disclosure is not None:  # opt-in
                stills = StillsFeed(
                    app.publisher, config.mqtt.stills, config.mqtt.stills_disclosure, health
                )
                pipeline.stored.append(stills.stored)
                start("mqtt_stills", stills.run)

        def wire(recorder: Recorder) -> None:
            """The live view's feed, and the broker's for alarms that name no person
            (cold chain, stock, privacy deadlines; never the watchlist's)."""
            recorder.transitions = app.alarm_changes
            if app.publisher is not None:
                recorder.mirror, recorder.mqtt_wake = app.mirror, app.publisher.wake

        app.privacy = privacy = Privacy(store, config, clock)
        await privacy.refresh()  # the open feature gates, before any camera starts
        pipeline.gate = lambda feature: gates.check(privacy.open_gates, feature)
        deadlines = Deadlines(
            app.privacy,
            health,
            mail=outbox is not None,
            outbox_wake=outbox.wake if outbox is not None else None,
        )
        wire(deadlines.recorder)
        start("privacy", deadlines.run)
        if notify.email is not None:  # the audit log's head, off the box once a day
            anchor = AuditAnchor(store, config.site, outbox.wake if outbox else None)
            start("audit_anchor", anchor.run)
        if fridges:
            references = (
                redactor.store
                if isinstance(redactor, VisionRedactor) and redactor.store is not None
                else References(Path(config.data_dir))
            )
            stock = StockService(
                config,
                store,
                clock,
                health,
                references,
                outbox_wake=outbox.wake if outbox is not None else None,
                notify=outbox is not None,
            )
            wire(stock.recorder)
            pipeline.stored.append(lambda _camera, _media: stock.wake.set())
            app.stock = stock
            start("stock", stock.run)
        if config.cabinets:
            alarms = AlarmService(
                config.cabinets,
                store,
                clock,
                health,
                app.readings,
                app.doors,
                watch_link=config.sensors is not None,
                notify=notify if outbox is not None else None,
                site=config.site,
                wake=outbox.wake if outbox is not None else None,
            )
            wire(alarms.recorder)
            app.alarms = alarms
            start("alarms", alarms.run)
        if config.sensors is not None:
            sc = config.sensors
            app.ingest = SensorIngest(store, clock, health, app.doors, app.readings)
            start("sensor_ingest", app.ingest.run)
            reader = SensorReader(
                sc.port,
                sc.baudrate,
                app.ingest,
                clock=clock,
                health=health,
                sample_period_ms=sc.sample_period_ms,
                reconnect_max=sc.reconnect_max,
                stats=app.ingest.stats,
            )
            start("sensor_reader", reader.run)
        if config.cameras:
            triggers = Triggers(pipeline, config.cameras, app.doors, clock)
            start("triggers", triggers.run)
        for cam in config.cameras:
            if cam.stream is not None:
                stream = Stream(pipeline.cameras[cam.name], cam.stream, pipeline, clock)
                app.streams[cam.name] = stream
                start(f"stream:{cam.name}", stream.run)
        app.research = research = Research(store, config, clock, privacy)
        await research.refresh()
        start("research", research.run)
        for cam in config.cameras:
            if cam.purpose == "research":
                recorder = ClipRecorder(
                    pipeline,
                    pipeline.cameras[cam.name],
                    clock,
                    health,
                    cam.clips,
                    research.study_for,
                )
                app.recorders[cam.name] = recorder
                start(f"clips:{cam.name}", recorder.run)
        shared = redactor.vision if isinstance(redactor, VisionRedactor) else None
        app.watchlist = watchlist = Watchlist(
            store, clock, privacy, vision=shared, embedder=config.watchlist.embedder
        )
        watchlist.reminders = Recorder(
            REMINDERS,
            store,
            health,
            notify if outbox is not None else None,
            config.site,
            outbox.wake if outbox is not None else None,
            retention="watchlist",
            health_key="watchlist_records",
        )
        watchlist.reminders.transitions = app.alarm_changes
        start("watchlist", watchlist.run)
        if any(c.watchlist for c in config.cameras):
            app.entrance = entrance = Entrance(
                watchlist,
                store,
                clock,
                health,
                notify if outbox is not None else None,
                config.site,
                outbox.wake if outbox is not None else None,
            )
            entrance.recorder.transitions = app.alarm_changes
            pipeline.inspectors.append(entrance)
            stack.callback(entrance.close)
        if any(c.counting is not None for c in config.cameras):
            app.counting = Counting(store, clock, health, app.streams)
            start("counting", app.counting.run)
            if any(c.counting is not None and c.counting.mode == "dedup" for c in config.cameras):
                visits = Visits(watchlist, app.counting, clock, health)
                pipeline.inspectors.append(visits)
                stack.callback(visits.close)
        if config.uploads is not None:
            app.uploader = Uploader(store, clock, health, config.uploads, privacy, config.site)
            start("uploads", app.uploader.run)
        if app.publisher is not None:  # after every service whose figures it publishes
            shop = ShopFeed(config, store, clock, app.uploader)
            telemetry = Telemetry(app.publisher, health, app.alarms, config, shop)
            start("telemetry", telemetry.run)
        control = ControlServer(app.data_dir, control_handlers(app), store.audit)
        start("control", control.run)
        for name, make in extra:
            start(name, functools.partial(make, app))
        stack.push_async_callback(
            store.audit, audit.Entry("system", "daemon.stop", detail=__version__)
        )
        # Ready means commands work: wait until the control socket listens.
        async with asyncio.timeout(10):
            await control.listening.wait()
        notifier.notify("READY=1", "STATUS=running")
        if notifier.watchdog_interval:
            start("watchdog", lambda: _watchdog(notifier, clock))
        try:
            yield app
        finally:
            notifier.notify("STOPPING=1")
            log.info("veilcam stopping")


async def _trim_memory() -> None:
    """Every minute of real time (memory is a real-time matter, whatever the clock says),
    hand the allocator's free pages back to the system."""
    while True:
        await asyncio.sleep(TRIM_EVERY)
        await asyncio.to_thread(trim)


async def _watchdog(notifier: Notifier, clock: Clock) -> None:
    assert notifier.watchdog_interval is not None
    while True:
        notifier.notify("WATCHDOG=1")
        await clock.sleep(notifier.watchdog_interval)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[asyncio.Event]:
    """An event set by SIGTERM or SIGINT while the block runs."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        yield stop
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def run_until_signal(config: Config, **kwargs: Any) -> None:
    """The daemon's main: run until SIGTERM or SIGINT, then unwind."""
    with stop_on_signals() as stop:
        async with running(config, **kwargs):
            await stop.wait()
