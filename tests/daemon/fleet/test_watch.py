"""``veilcam fleet watch``: the desk's table from what boxes publish, and the command run
against a real broker over TLS with head office's password."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from tests.daemon.fleet.test_publisher import config, publishing
from tests.support.aio import until
from tests.support.mqtt import READER, READER_PASSWORD, broker
from veilcam.alerts.episodes import Source, Transition
from veilcam.alerts.mqttbox import Message, payload
from veilcam.alerts.recorder import Recorder
from veilcam.clock import SystemClock
from veilcam.config import RetentionConfig
from veilcam.fleet.publisher import Publisher
from veilcam.fleet.watch import FleetView, table
from veilcam.health import Health
from veilcam.store import Store


def _text(view: FleetView, now: float) -> str:
    console = Console(width=160, record=True, color_system=None)
    console.print(table(view, now))
    return console.export_text()


def test_the_table_follows_the_messages() -> None:
    view = FleetView()
    alarm = {"state": "on", "level": "alarm", "subject": "dairy", "rule": "temperature"}
    view.update("veilcam/shop-7/main/availability", b"online", 100)
    view.update("veilcam/shop-7/main/health", payload({"overall": "warning", "parts": {
        "camera:fridge-1": {"state": "error"}, "sensor_link": {"state": "ok"}}}), 100)  # fmt: skip
    view.update("veilcam/shop-7/main/cabinet/dairy/temperature", payload({"value": 9.46, "at": 40}))
    view.update("veilcam/shop-7/main/alarm/coldchain/dairy/temperature", payload(alarm))
    view.update("veilcam/shop-9/main/availability", b"offline", 100)
    view.update("other/thing", b"x")
    text = _text(view, 100)
    assert "shop-7" in text and "online" in text and "OFFLINE" in text
    assert "warning (camera:fridge-1)" in text
    assert "ALARM: dairy temperature" in text and "dairy 9.5 °C, 60 s ago" in text
    assert view.ignored == 1
    view.update("veilcam/shop-7/main/alarm/coldchain/dairy/temperature", payload({"state": "off"}))
    assert "ALARM" not in _text(view, 100)


async def test_watch_over_tls_shows_every_box(tmp_path: Path, data_dir: Path) -> None:
    with broker(tmp_path / "broker") as b:
        async with Store(data_dir, RetentionConfig(), SystemClock()) as store:
            health = Health(store.clock)
            pub = Publisher(config(b), "shop-7", store, store.clock, health)
            recorder = Recorder(Source("coldchain", "Cabinet", {}), store, health)
            recorder.mirror, recorder.mqtt_wake = pub.mirror, pub.wake
            tr = Transition("coldchain", "dairy", "temperature", "open", "alarm", 1.0, 9.5, "warm")
            await recorder.apply([tr])
            reading = payload({"value": 9.5, "at": store.clock.now()})
            await pub.enqueue([Message("telemetry", "cabinet/dairy/temperature", reading, True)])
            async with publishing(pub):

                async def sent() -> bool:
                    return pub.sent >= 2

                await until(sent)
                secret = tmp_path / "office-password"
                secret.write_text(READER_PASSWORD)
                env = {**os.environ, "COLUMNS": "160", "TERM": "dumb"}
                args = [sys.executable, "-m", "veilcam", "fleet", "watch", "--broker", b.tls_url]
                args += ["--ca", str(b.ca), "--username", READER, "--password-file", str(secret)]
                proc = await asyncio.create_subprocess_exec(
                    *args, "--once", "2", env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
                )
                out, err = await proc.communicate()
    text = out.decode()
    assert proc.returncode == 0, err.decode()
    assert "shop-7" in text and "online" in text, text
    assert "ALARM: dairy temperature" in text and "dairy 9.5 °C" in text, text
    bad = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "veilcam", "fleet", "watch", "--broker", "http://x",
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    _, err = await bad.communicate()
    assert bad.returncode != 0 and "give mqtt://HOST:PORT" in err.decode()
