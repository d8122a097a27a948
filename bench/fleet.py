"""The MQTT outbox to a real broker: messages per second through the outbox, and the time to
drain 100,000 messages queued while the broker was away, beside a plain aiomqtt publisher
sending the same messages with QoS 1 straight to the same broker (the broker's own
throughput for a client, without SQLite), in the same run.

    python bench/fleet.py [--json] [--messages N] [--queued N]

Debian's mosquitto on loopback (plain, no password: the link's cost, not TLS's, is what
differs between the two sides); a subscriber counts every message on both sides, so a
number is only reported once everything arrived.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiomqtt

PAYLOAD = json.dumps({"value": 4.25, "unit": "°C", "at": 1796580000.0}).encode()  # telemetry
IN_FLIGHT = 200  # the publisher's batch: the anchor keeps as many in flight


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def mosquitto(folder: Path) -> Iterator[int]:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = free_port()
    conf = folder / "mosquitto.conf"
    conf.write_text(
        f"user root\nlistener {port} 127.0.0.1\nallow_anonymous true\n"
        "max_queued_messages 0\nmax_inflight_messages 0\nlog_dest none\n"
    )
    proc = subprocess.Popen(
        [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("mosquitto did not start")
            time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.asynccontextmanager
async def counting(port: int, topic: str) -> AsyncIterator[list[int]]:
    """A subscriber counting what arrives on ``topic``: ``[count]``."""
    seen = [0]
    async with aiomqtt.Client("127.0.0.1", port, max_queued_incoming_messages=0) as client:
        await client.subscribe(topic, qos=1)

        async def count() -> None:
            async for _ in client.messages:
                seen[0] += 1

        task = asyncio.create_task(count())
        try:
            yield seen
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _until(seen: list[int], n: int, limit: float = 600) -> None:
    deadline = time.monotonic() + limit
    while seen[0] < n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {seen[0]} of {n} messages arrived")
        await asyncio.sleep(0.005)


async def anchor(port: int, n: int) -> float:
    """Seconds for a plain publisher to send ``n`` messages, QoS 1, IN_FLIGHT at a time."""
    async with (
        counting(port, "anchor/#") as seen,
        aiomqtt.Client("127.0.0.1", port, max_inflight_messages=IN_FLIGHT) as client,
    ):
        client.pending_calls_threshold = IN_FLIGHT + 10
        t0 = time.perf_counter()
        for start in range(0, n, IN_FLIGHT):
            batch = range(start, min(n, start + IN_FLIGHT))
            await asyncio.gather(
                *(client.publish(f"anchor/t/{i % 7}", PAYLOAD, qos=1) for i in batch)
            )
        await _until(seen, n)
        return time.perf_counter() - t0


def _config(port: int) -> Any:
    from veilcam.config import MqttConfig

    return MqttConfig(url=f"mqtt://127.0.0.1:{port}", retry_min=0.2, retry_max=1.0)  # type: ignore[arg-type]


async def _publisher(folder: Path, port: int) -> AsyncIterator[Any]:
    from veilcam.clock import SystemClock
    from veilcam.config import RetentionConfig
    from veilcam.fleet.publisher import Publisher
    from veilcam.health import Health
    from veilcam.store import Store

    async with Store(folder, RetentionConfig(), SystemClock()) as store:
        cfg = _config(port)
        cfg = type(cfg)(
            **{**{f: getattr(cfg, f) for f in cfg.__struct_fields__}, "queue_limit": 1_000_000}
        )
        yield Publisher(cfg, "bench", store, store.clock, Health(store.clock))


def _messages(start: int, n: int) -> list[Any]:
    from veilcam.alerts.mqttbox import Message

    return [Message("telemetry", f"t/{i % 7}", PAYLOAD) for i in range(start, start + n)]


async def through(folder: Path, port: int, n: int) -> float:
    """Seconds from the first of ``n`` messages queued (in batches of 100, as services queue
    them) to the last one at the subscriber, the publisher running all along."""
    gen = _publisher(folder, port)
    pub = await anext(gen)
    task = asyncio.create_task(pub.run())
    try:
        while not pub.connected:  # noqa: ASYNC110 (the publisher has no event for it)
            await asyncio.sleep(0.01)
        async with counting(port, "veilcam/bench/main/t/#") as seen:
            t0 = time.perf_counter()
            for start in range(0, n, 100):
                await pub.enqueue(_messages(start, min(100, n - start)))
            await _until(seen, n)
            return time.perf_counter() - t0
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await gen.aclose()


async def drain(folder: Path, port: int, n: int) -> tuple[float, float]:
    """``n`` messages queued with no broker link, then the publisher started: seconds to
    queue them, and seconds from its start until the subscriber has them all."""
    gen = _publisher(folder, port)
    pub = await anext(gen)
    try:
        t0 = time.perf_counter()
        for start in range(0, n, 10_000):
            await pub.enqueue(_messages(start, min(10_000, n - start)))
        queued = time.perf_counter() - t0
        async with counting(port, "veilcam/bench/main/t/#") as seen:
            t0 = time.perf_counter()
            task = asyncio.create_task(pub.run())
            try:
                await _until(seen, n)
                return queued, time.perf_counter() - t0
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    finally:
        await gen.aclose()


async def main_async(n: int, queued_n: int) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp, mosquitto(Path(tmp)) as port:
        base = Path(tmp)
        (base / "a").mkdir()
        (base / "b").mkdir()
        plain = await anchor(port, n)
        ours = await through(base / "a", port, n)
        plain_big = await anchor(port, queued_n)
        queued, drained = await drain(base / "b", port, queued_n)
    return [
        {
            "bench": "fleet",
            "case": f"outbox to broker, {n:,} messages queued 100 at a time",
            "ours": round(n / ours),
            "unit": "msg/s",
            "anchor": "plain aiomqtt publisher, QoS 1, same messages",
            "anchor_value": round(n / plain),
            "ratio": round(plain / ours, 2),
        },
        {
            "bench": "fleet",
            "case": f"drain {queued_n:,} messages queued while the broker was away",
            "ours": round(drained, 2),
            "unit": "s",
            "anchor": f"plain publisher: {queued_n:,} messages",
            "anchor_value": round(plain_big, 2),
            "ratio": round(drained / plain_big, 2),
            "queue_s": round(queued, 2),
        },
    ]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true")
    p.add_argument("--messages", type=int, default=20_000)
    p.add_argument("--queued", type=int, default=100_000)
    args = p.parse_args()
    rows = asyncio.run(main_async(args.messages, args.queued))
    for row in rows:
        print(json.dumps(row) if args.json else row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
