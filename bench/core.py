"""Appliance-core benchmarks, each measured beside its anchor in the same run.

    python bench/core.py [--json] [--quick]

- sensor-line parsing rate (target >= 100,000 lines/s, one core); anchor: a bare
  ``bytes.split`` over the same lines, the least any parser must do.
- SQLite ingest at 10,000 readings/s through the real parser and ingest service,
  with the event loop's worst stall (target < 20 ms); anchor: the same loop's worst
  stall while idle.
- resident memory of the demo daemon after 10 minutes (target < 150 MB; --quick: 1
  minute); anchor: a Python process that has only imported the daemon's modules.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from veilcam.clock import SystemClock
from veilcam.config import RetentionConfig
from veilcam.events import Hub
from veilcam.health import Health
from veilcam.sensors import protocol
from veilcam.sensors.ingest import SensorIngest
from veilcam.sensors.protocol import Door, Heartbeat, Temperature, format_line, parse_line
from veilcam.store import Store

RESULTS: list[dict[str, object]] = []


def report(
    bench: str,
    case: str,
    ours: float,
    unit: str,
    anchor: str,
    anchor_value: float,
    target: str,
    ok: bool | None,  # None: a figure for information, no verdict
) -> None:
    row = {
        "bench": bench,
        "case": case,
        "ours": round(ours, 3),
        "unit": unit,
        "anchor": anchor,
        "anchor_value": round(anchor_value, 3),
        "ratio": round(ours / anchor_value, 3) if anchor_value else None,
        "target": target,
        "met": ok,
    }
    RESULTS.append(row)


def lines(n: int, version: int = 2) -> list[bytes]:
    out = []
    for i in range(n):
        seq, up = i % 65536, i * 100
        if i % 50 == 0:
            out.append(format_line(Door(seq, up, "1", i % 100 == 0), version))
        elif i % 97 == 0:
            out.append(format_line(Heartbeat(seq, up, "vc-1.2", 2, 1), version))
        else:
            out.append(format_line(Temperature(seq, up, str(i % 2 + 1), 350 + i % 40), version))
    return out


def best_of(fn, repeats: int = 5) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_parse() -> None:
    """Protocol 2 (CRC-16, what boards send) against the anchor; protocol 1 (XOR-8, older
    firmware) with the native checksum kernel and with its Python twin."""
    v2, v1 = lines(200_000), lines(200_000, 1)

    def parse(data: list[bytes]) -> Callable[[], None]:
        def run() -> None:
            for line in data:
                parse_line(line)

        return run

    def anchor() -> None:
        for line in v2:
            line.rstrip(b"\r\n").split(b",")

    t_anchor = best_of(anchor)
    for case, data in (("protocol 2 (CRC-16)", v2), ("protocol 1, native XOR-8", v1)):
        rate = len(data) / best_of(parse(data))
        report(
            "sensor_parse",
            case,
            rate,
            "lines/s",
            "bytes.split",
            len(v2) / t_anchor,
            ">= 100000 lines/s",
            rate >= 100_000,
        )
    from veilcam_native import _checksum_py

    native = protocol.xor8
    protocol.xor8 = _checksum_py.xor8  # type: ignore[assignment]
    try:
        t_twin = best_of(parse(v1), 3)
    finally:
        protocol.xor8 = native
    twin_rate = len(v1) / t_twin
    report(
        "sensor_parse",
        "protocol 1, python twin (VEILCAM_NO_EXTENSIONS)",
        twin_rate,
        "lines/s",
        "bytes.split",
        len(v2) / t_anchor,
        ">= 100000 lines/s",
        twin_rate >= 100_000,
    )


async def worst_stall(seconds: float, work=None) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    stall = 0.0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal stall
        while not done.is_set():
            t0 = loop.time()
            await asyncio.sleep(0.001)
            stall = max(stall, loop.time() - t0 - 0.001)

    tick = asyncio.create_task(ticker())
    result = await work() if work else await asyncio.sleep(seconds)
    done.set()
    await tick
    return stall * 1000, result


async def bench_ingest(seconds: float) -> None:
    rate = 10_000
    data = [ln for ln in lines(int(rate * seconds)) if b"VCT" in ln]
    with tempfile.TemporaryDirectory() as tmp:
        clock = SystemClock()
        async with Store(Path(tmp), RetentionConfig(), clock) as store:
            ingest = SensorIngest(store, clock, Health(clock), Hub())
            runner = asyncio.create_task(ingest.run())
            idle_stall, _ = await worst_stall(1.0)

            peak_backlog = 0

            async def feed(offered: float | None) -> float:
                nonlocal peak_backlog
                loop = asyncio.get_running_loop()
                start = loop.time()
                batch = rate // 100  # what the reader delivers in 10 ms
                for i in range(0, len(data), batch):
                    for line in data[i : i + batch]:
                        ingest(parse_line(line))
                    peak_backlog = max(peak_backlog, ingest.backlog)
                    pause = start + (i + batch) / offered - loop.time() if offered else 0.0
                    await asyncio.sleep(max(0.0, pause))
                while ingest.backlog:  # noqa: ASYNC110 - polling a counter, 1 ms resolution
                    await asyncio.sleep(0.001)
                return loop.time() - start

            stall, _ = await worst_stall(0, lambda: feed(rate))
            sustained_backlog = peak_backlog
            elapsed = await feed(None)
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
            stored = await store.db.read(
                lambda db: db.conn.execute("SELECT count(*) FROM temperature_readings").fetchone()[
                    0
                ]
            )
    assert stored == 2 * len(data), (stored, len(data), ingest.stats)
    report(
        "sqlite_ingest",
        f"peak backlog at 10,000 readings/s for {seconds:g}s",
        sustained_backlog,
        "rows",
        "rows arriving per 0.1 s flush",
        rate / 10,
        "backlog stays ~ one flush",
        sustained_backlog <= 3 * rate / 10,
    )
    report(
        "sqlite_ingest",
        "event loop worst stall while ingesting 10,000/s",
        stall,
        "ms",
        "idle loop worst stall",
        idle_stall,
        "< 20 ms",
        stall < 20,
    )
    report(
        "sqlite_ingest",
        "unthrottled parse + commit throughput",
        len(data) / elapsed,
        "readings/s",
        "target rate",
        rate,
        ">= 10000 readings/s",
        len(data) / elapsed >= rate,
    )


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


# What a demo's memory is made of, each measured in a process of its own: the modules the
# daemon imports, then the models with one interpreter each after a frame of each camera
# kind (a second set is made when the two cameras' redactions overlap).
IMPORTS = "import veilcam.runtime.supervisor, veilcam.web.app, veilcam.demo.run"
MODELS = (
    IMPORTS + "; import numpy as np; from veilcam.runtime.memory import tune, trim; tune()\n"
    "from veilcam.vision.pipeline import Policy, Vision\n"
    "from veilcam.vision.runtime import BoardProfile\n"
    "v = Vision(BoardProfile.load('generic'))\n"
    "f = np.random.default_rng(1).integers(0, 256, (720, 1280, 3), np.uint8)\n"
    "v.find(f, Policy(hands=True)); v.find(f, Policy()); trim()"
)


def settled_rss(code: str) -> float:
    """Resident memory of a Python process that ran ``code`` and then waits."""
    proc = subprocess.Popen(
        [sys.executable, "-c", code + "\nimport sys; print(flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    proc.stdout.readline()  # done
    rss = rss_mb(proc.pid)
    proc.stdin.close()
    proc.wait(timeout=30)
    return rss


def bench_memory(minutes: float) -> None:
    anchor_rss = settled_rss(IMPORTS)
    models_rss = settled_rss(MODELS)
    report(
        "daemon_memory",
        "imports and the models, one interpreter each, after a frame",
        models_rss,
        "MB",
        "python + daemon imports",
        anchor_rss,
        "(what the demo's figure is made of)",
        None,
    )
    with tempfile.TemporaryDirectory() as tmp:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        demo = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "veilcam",
                "--log-level",
                "WARNING",
                "demo",
                "--data-dir",
                tmp,
                "--port",
                str(port),
                "--duration",
                str(minutes * 60 + 5),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        samples = []
        end = time.monotonic() + minutes * 60
        while time.monotonic() < end:
            time.sleep(min(10.0, max(0.1, end - time.monotonic())))
            samples.append(rss_mb(demo.pid))
        demo.wait(timeout=60)
    final = samples[-1]
    report(
        "daemon_memory",
        f"demo RSS after {minutes:g} min (peak {max(samples):.1f} MB)",
        final,
        "MB",
        "python + daemon imports",
        anchor_rss,
        "< 150 MB",
        final < 150,
    )


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--quick", action="store_true", help="1-minute memory run, shorter ingest")
    p.add_argument("--only", choices=["parse", "ingest", "memory"])
    args = p.parse_args()
    os.environ.pop("VEILCAM_NO_EXTENSIONS", None)
    if args.only in (None, "parse"):
        bench_parse()
    if args.only in (None, "ingest"):
        asyncio.run(bench_ingest(3.0 if args.quick else 10.0))
    if args.only in (None, "memory"):
        bench_memory(1.0 if args.quick else 10.0)
    for row in RESULTS:
        if args.json:
            print(json.dumps(row))
        else:
            mark = {True: "ok  ", False: "MISS", None: "info"}[row["met"]]
            print(
                f"{mark} {row['bench']:14} {row['case']:48} {row['ours']:>12} {row['unit']:10} "
                f"vs {row['anchor']} {row['anchor_value']} (ratio {row['ratio']}); "
                f"target {row['target']}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
