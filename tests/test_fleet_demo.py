"""The demo store with people in its pictures, publishing to a real Mosquitto: head office,
subscribed to everything, gets health, temperatures, doors and the warm night's alarm, and
never a picture or anything biometric; killed with SIGKILL, the box is reported offline by
the broker's last will."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO

from tests.daemon.fleet.test_publisher import subscribed
from tests.support.aio import until
from tests.support.daemon import free_port
from tests.support.mqtt import PASSWORD, USER, broker

BASE = "veilcam/demo-store/demo-box"
# How pictures begin, raw and in base64: JPEG, PNG, WebP/RIFF, GIF, the vault's own files.
IMAGE_MAGIC = [b"\xff\xd8\xff", b"\x89PNG", b"RIFF", b"GIF8", b"VCM"]
# Words of a key that would name biometric data (a key's words: "face_template" is two).
# "template" alone is biometric; Home Assistant's "value_template" is a Jinja template.
BIOMETRIC = {
    "embedding", "embeddings", "landmark", "landmarks", "descriptor", "face", "faces",
    "keypoint", "keypoints", "pose", "poses", "biometric", "iris", "fingerprint",
}  # fmt: skip


@contextlib.asynccontextmanager
async def _log(path: Path) -> AsyncIterator[IO[bytes]]:
    with path.open("wb") as f:
        yield f


def _biometric(doc: object, path: str = "") -> Iterator[str]:
    """Where ``doc`` holds something biometric: a key that names it, or a vector of numbers
    (an embedding, a template, landmarks) rather than a reading."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            words = set(str(key).lower().replace("-", "_").split("_"))
            if words & BIOMETRIC or str(key).lower() in ("template", "templates"):
                yield f"{path}/{key}"
            yield from _biometric(value, f"{path}/{key}")
    elif isinstance(doc, list):
        if len(doc) > 8 and all(isinstance(v, int | float | list) for v in doc):
            yield f"{path}: a vector of {len(doc)}"
        for i, value in enumerate(doc):
            yield from _biometric(value, f"{path}/{i}")


def _looks_like_image(data: bytes) -> bool:
    if any(m in data for m in IMAGE_MAGIC):
        return True
    return any(base64.b64encode(m)[:4] in data for m in IMAGE_MAGIC)


async def test_head_office_sees_the_store_and_never_a_person(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    with broker(tmp_path / "broker") as b:
        async with subscribed(b, "#") as got, _log(tmp_path / "demo.err") as errors:
            demo = subprocess.Popen(  # noqa: ASYNC220 (stopped with a signal, never awaited)
                [
                    sys.executable,
                    "-m",
                    "veilcam",
                    "demo",
                    "--data-dir",
                    str(data),
                    "--port",
                    str(free_port()),
                    "--scenario",
                    "warm-night",
                    "--speed",
                    "600",
                    "--duration",
                    "200",
                    "--seed",
                    "3",
                    "--mqtt",
                    f"mqtt://{USER}:{PASSWORD}@127.0.0.1:{b.port}",
                ],
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )
            try:

                def topics() -> set[str]:
                    return {m.topic.value for m in got}

                async def alarm_and_pictures() -> bool:
                    assert demo.poll() is None, (tmp_path / "demo.err").read_text()[-3000:]
                    seen = topics()
                    warm = f"{BASE}/alarm/coldchain/dairy/temperature" in seen
                    stock = f"{BASE}/stock/fridge-1/restock" in seen
                    counted = f"{BASE}/visitors/aisle-door/today" in seen
                    pictures = list((data / "media").glob("*/*.vcm"))
                    return warm and stock and counted and len(pictures) >= 3

                await until(alarm_and_pictures, 120)
                started = time.monotonic()
                demo.send_signal(signal.SIGKILL)
                demo.wait(10)

                async def offline() -> bool:
                    last = [m.payload for m in got if m.topic.value == f"{BASE}/availability"]
                    return bool(last) and last[-1] == b"offline"

                await until(offline, 30)
                assert time.monotonic() - started < 20  # 1.5 keepalives of 5 s, and some
            finally:
                if demo.poll() is None:
                    demo.kill()
                demo.wait(10)
        await asyncio.sleep(0)
    seen = topics()
    assert f"{BASE}/health" in seen
    assert any(t.endswith("/temperature") for t in seen)
    assert any(t.endswith("/door") for t in seen)
    availability = [m.payload for m in got if m.topic.value == f"{BASE}/availability"]
    assert availability[0] == b"online" and availability[-1] == b"offline"
    for m in got:
        body = bytes(m.payload)  # type: ignore[arg-type]
        assert len(body) < 16_384, (m.topic.value, len(body))
        assert not _looks_like_image(body), m.topic.value
        if m.topic.value.endswith("/availability"):
            continue
        biometric = list(_biometric(json.loads(body)))
        assert not biometric, (m.topic.value, biometric)
    alarm = next(
        json.loads(m.payload)  # type: ignore[arg-type]
        for m in got
        if m.topic.value == f"{BASE}/alarm/coldchain/dairy/temperature"
    )
    assert alarm["change"] == "open" and alarm["value"] > 8.0


def test_make_run_s_demo_brings_its_own_broker_and_the_desk_sees_it(tmp_path: Path) -> None:
    """`veilcam demo --mqtt local` (what `make run` does): the demo starts Mosquitto, prints
    the `veilcam fleet watch` command, and that command shows the box online."""
    demo = subprocess.Popen(
        [sys.executable, "-m", "veilcam", "demo", "--data-dir", str(tmp_path / "demo"),
         "--port", str(free_port()), "--mqtt", "local", "--duration", "120"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert demo.stdout is not None
        line = ""
        deadline = time.monotonic() + 90
        while "veilcam fleet watch" not in line:
            assert time.monotonic() < deadline and demo.poll() is None, "no fleet view printed"
            line = demo.stdout.readline()
        command = line.rsplit(": ", 1)[1].split()
        assert command[:3] == ["veilcam", "fleet", "watch"]
        for _ in range(20):  # the first telemetry is a moment away
            out = subprocess.run(
                [sys.executable, "-m", "veilcam", *command[1:], "--once", "2"],
                capture_output=True, text=True, env={**os.environ, "COLUMNS": "160"}, timeout=60,
            )  # fmt: skip
            assert out.returncode == 0, out.stderr
            if "demo-store" in out.stdout and "online" in out.stdout:
                break
        assert "demo-store" in out.stdout and "demo-box" in out.stdout and "online" in out.stdout
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.communicate()
    assert not list((tmp_path / "demo" / "broker").glob("*.db"))  # the broker kept nothing
