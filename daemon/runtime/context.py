"""The one application context, built by the supervisor and passed down to whatever needs it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import veilcam_native
from veilcam import __version__
from veilcam.alerts.episodes import Transition
from veilcam.alerts.mqttbox import Mirror
from veilcam.alerts.outbox import Outbox
from veilcam.capture.clips import ClipRecorder
from veilcam.capture.pipeline import Pipeline
from veilcam.capture.stream import Stream
from veilcam.certificate import Served
from veilcam.clock import Clock
from veilcam.coldchain.service import AlarmService
from veilcam.config import Config
from veilcam.events import Hub
from veilcam.faces.counting import Counting
from veilcam.faces.entrance import Entrance
from veilcam.faces.service import Watchlist
from veilcam.fleet.publisher import Publisher
from veilcam.health import Health
from veilcam.privacy.service import Privacy
from veilcam.research.service import Research
from veilcam.research.uploads import Uploader
from veilcam.sensors.ingest import DoorEvent, Reading, SensorIngest
from veilcam.stock.service import StockService
from veilcam.store import Store
from veilcam.store.rotation import Rotation


@dataclass
class App:
    """The one application context, passed down to whatever needs it."""

    config: Config
    clock: Clock
    health: Health
    store: Store
    doors: Hub[DoorEvent]
    pipeline: Pipeline
    readings: Hub[Reading] = field(default_factory=Hub)
    alarm_changes: Hub[Transition] = field(default_factory=Hub)
    ingest: SensorIngest | None = None
    outbox: Outbox | None = None
    alarms: AlarmService | None = None
    stock: StockService | None = None
    rotation: Rotation | None = None
    privacy: Privacy | None = None
    tls: Served | None = None  # the web UI's certificate, when it serves HTTPS
    research: Research | None = None
    watchlist: Watchlist | None = None
    entrance: Entrance | None = None
    counting: Counting | None = None
    uploader: Uploader | None = None
    mirror: Mirror | None = None  # alarm changes to the chain's MQTT broker
    publisher: Publisher | None = None
    recorders: dict[str, ClipRecorder] = field(default_factory=dict)
    streams: dict[str, Stream] = field(default_factory=dict)
    restarts: dict[str, int] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        return Path(self.config.data_dir)

    def live_status(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "version": __version__,
            "kernels": veilcam_native.IMPLEMENTATION,
            "health": self.health.snapshot(),
            "overall": self.health.overall(),
            "captures_this_run": self.pipeline.captures,
            "blanked_this_run": self.pipeline.blanked,
            "picture_store_failures": self.pipeline.store_failures,
            "cameras": {
                name: {"grabs": cam.grabs, "failures": cam.failures}
                for name, cam in self.pipeline.cameras.items()
            },
            "restarts": dict(self.restarts),
        }
        if self.ingest is not None:
            out["sensor_line"] = dict(self.ingest.stats)
            out["sensor_line"]["lost_by_sequence"] = self.ingest.tracker.lost
        out["streams"] = {
            name: {**dataclasses.asdict(s.stats), "analyser_drops": s.frames.dropped()}
            for name, s in self.streams.items()
        }
        return out
