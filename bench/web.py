"""Web UI latency on loopback: the dashboard and a picture at a fixed 100 requests/s, beside
aiohttp's bare "hello" handler measured the same way in the same run.

    python bench/web.py [--json] [--seconds S] [--rate R]

The daemon runs as a subprocess on a demo data directory (one camera, a picture, a
signed-in manager) with plain HTTP on loopback, and so does the anchor; the load generator
is an open-loop Python client in this process (each request leaves at its scheduled time,
whether or not the ones before have answered, so a slow server shows as latency instead of
being hidden by a slower client). Target: p99 under 50 ms at 100 requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
PW = "bench password 12345"
VEILCAM = [sys.executable, "-m", "veilcam"]
QUIET: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
HELLO = textwrap.dedent(
    """
    import sys
    from aiohttp import web
    async def hello(request):
        return web.Response(text="Hello, world")
    app = web.Application()
    app.router.add_get("/", hello)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(port: int, deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {port}")


async def load(
    session: aiohttp.ClientSession, url: str, seconds: float, rate: float
) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    t0 = time.perf_counter()
    n = int(seconds * rate)

    async def one(at: float) -> None:
        nonlocal errors
        delay = at - (time.perf_counter() - t0)
        if delay > 0:
            await asyncio.sleep(delay)
        start = time.perf_counter()
        try:
            async with session.get(url, allow_redirects=False) as r:
                await r.read()
                if r.status != 200:
                    errors += 1
        except aiohttp.ClientError:
            errors += 1
        latencies.append((time.perf_counter() - start) * 1000)

    await asyncio.gather(*(one(i / rate) for i in range(n)))
    elapsed = time.perf_counter() - t0
    latencies.sort()
    return {
        "requests": n,
        "rps": round(n / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))], 2),
        "errors": errors,
    }


async def measure(
    base: str, hello: str, media_id: str, seconds: float, rate: float
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar, connector=aiohttp.TCPConnector(limit=64)) as s:
        page = await (await s.get(base + "/login")).text()
        m = re.search(r'name="csrf" value="([^"]+)"', page)
        assert m, "no sign-in form"
        form = {"username": "maria", "password": PW, "csrf": m.group(1)}
        r = await s.post(base + "/login", data=form, allow_redirects=False)
        assert r.status == 302, "sign-in failed"
        anchor = await load(s, hello, seconds, rate)
        for name, path in (("dashboard", "/"), ("picture", f"/pictures/{media_id}.jpg")):
            ours = await load(s, base + path, seconds, rate)
            rows.append(
                {
                    "page": name,
                    "rate": rate,
                    **ours,
                    "anchor": "aiohttp hello",
                    "anchor_p50_ms": anchor["p50_ms"],
                    "anchor_p99_ms": anchor["p99_ms"],
                    "target_p99_ms": 50,
                    "meets": ours["p99_ms"] < 50 and ours["errors"] == 0,
                }
            )
    return rows


@contextlib.contextmanager
def demo_daemon(prefix: str) -> Iterator[tuple[Path, int]]:
    """``veilcam run`` in a subprocess on a fresh data directory: one replayed fridge
    camera, a manager ``maria``, plain HTTP on a free loopback port. Yields the config file
    and the port once it listens; stops the daemon after."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        data = Path(tmp) / "data"
        port = free_port()
        config = Path(tmp) / "veilcam.toml"
        fridge = ROOT / "daemon" / "demo" / "assets" / "fridge"
        config.write_text(
            f'data_dir = "{data}"\n'
            f'[[cameras]]\nname = "fridge-1"\npurpose = "fridge"\n'
            f'source = {{ kind = "replay", path = "{fridge}" }}\n'
            f'[web]\nhost = "127.0.0.1"\nport = {port}\ntls = false\n'
        )
        add = ["users", "add", "--config", str(config), "--username", "maria", "--role", "manager"]
        subprocess.run(
            [*VEILCAM, *add, "--password-stdin"],
            input=PW + "\n",
            text=True,
            check=True,
            capture_output=True,
        )
        daemon = subprocess.Popen(
            [*VEILCAM, "--log-level", "WARNING", "run", "--config", str(config)], **QUIET
        )
        try:
            wait_up(port)
            yield config, port
        finally:
            daemon.terminate()
            daemon.wait(timeout=30)


def run(seconds: float, rate: float) -> list[dict[str, object]]:
    with demo_daemon("veilcam-web-bench-") as (config, port):
        hello_port = free_port()
        hello = subprocess.Popen([sys.executable, "-c", HELLO, str(hello_port)], **QUIET)
        try:
            wait_up(hello_port)
            media_id = subprocess.run(
                [*VEILCAM, "capture", "--config", str(config), "fridge-1"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
            return asyncio.run(
                measure(
                    f"http://127.0.0.1:{port}",
                    f"http://127.0.0.1:{hello_port}/",
                    media_id,
                    seconds,
                    rate,
                )
            )
        finally:
            hello.terminate()
            hello.wait(timeout=30)


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--rate", type=float, default=100)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    for row in run(args.seconds, args.rate):
        print(json.dumps(row) if args.json else row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
