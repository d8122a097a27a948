"""Password guessing on loopback: 20 concurrent clients guessing sign-ins for 30 s while a
signed-in manager polls the dashboard, beside the same poll with nobody guessing.

    python bench/signin_load.py [--json] [--seconds S] [--clients N]

The daemon runs as a subprocess with its web UI on 127.0.0.1 (plain HTTP on loopback, as in
bench/web.py). The guessers run in a second process, from 127.0.0.2 (loopback answers for
all of 127/8), half on the manager's account and half on names that do not exist; the
manager's dashboard poll (20 requests/s, open loop) runs in this process from 127.0.0.1.
Half-way through, the manager signs in again from 127.0.0.3 with the right password: it
must be let in at once. Targets: signed-in p99 under 50 ms while guessing goes on, and
the real user's sign-in from another address accepted (the anchor is the same poll with
nobody guessing, measured first in the same run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web import PW, demo_daemon, load  # a sibling script, found through the line above

RATE = 20.0  # dashboard polls per second


async def sign_in(base: str, user: str, password: str, source: str) -> tuple[int, float]:
    jar = aiohttp.CookieJar(unsafe=True)
    conn = aiohttp.TCPConnector(local_addr=(source, 0))
    async with aiohttp.ClientSession(cookie_jar=jar, connector=conn) as s:
        t0 = time.perf_counter()
        first = await s.get(base + "/login")
        if first.status == 429:  # refused before the form: the address is throttled
            return first.status, (time.perf_counter() - t0) * 1000
        m = re.search(r'name="csrf" value="([^"]+)"', await first.text())
        assert m, "no sign-in form"
        t0 = time.perf_counter()
        form = {"username": user, "password": password, "csrf": m.group(1)}
        r = await s.post(base + "/login", data=form, allow_redirects=False)
        return r.status, (time.perf_counter() - t0) * 1000


async def guess(base: str, seconds: float, clients: int) -> dict[str, int]:
    """The attacker's side: ``clients`` loops, each signing in with wrong passwords."""
    statuses: Counter[str] = Counter()
    stop = time.monotonic() + seconds

    async def one(i: int) -> None:
        n = 0
        name = "maria" if i % 2 == 0 else f"nobody{i}"
        while time.monotonic() < stop:
            n += 1
            try:
                status, _ = await asyncio.wait_for(
                    sign_in(base, name, f"guess {i} {n} wrong!!", "127.0.0.2"),
                    timeout=max(0.1, stop - time.monotonic()),
                )
                statuses[str(status)] += 1
            except TimeoutError:
                statuses["still waiting at the end"] += 1
            except aiohttp.ClientError:
                statuses["error"] += 1

    await asyncio.gather(*(one(i) for i in range(clients)))
    return dict(statuses)


async def signed_in(base: str) -> aiohttp.ClientSession:
    """The manager's browser, signed in before anyone starts guessing."""
    s = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    page = await (await s.get(base + "/login")).text()
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    assert m, "no sign-in form"
    form = {"username": "maria", "password": PW, "csrf": m.group(1)}
    r = await s.post(base + "/login", data=form, allow_redirects=False)
    assert r.status == 302, f"sign-in failed: {r.status}"
    return s


async def poll(base: str, seconds: float) -> dict[str, float]:
    async with await signed_in(base) as s:
        return await load(s, base + "/", seconds, RATE)


async def attacked(base: str, seconds: float, clients: int) -> dict[str, object]:
    session = await signed_in(base)
    attacker = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--attack",
        base,
        "--seconds",
        str(seconds),
        "--clients",
        str(clients),
        stdout=asyncio.subprocess.PIPE,
    )
    await asyncio.sleep(1.0)  # let the guessing start

    async def legit() -> tuple[int, float]:
        await asyncio.sleep(seconds / 2 - 1)
        return await sign_in(base, "maria", PW, "127.0.0.3")

    async with session:
        polled, (status, ms) = await asyncio.gather(
            load(session, base + "/", seconds - 2, RATE), legit()
        )
    out, _ = await asyncio.wait_for(attacker.communicate(), timeout=seconds + 60)
    return {
        "poll": polled,
        "legit_status": status,
        "legit_ms": round(ms, 1),
        "guesses": json.loads(out),
    }


def run(seconds: float, clients: int) -> list[dict[str, object]]:
    with demo_daemon("veilcam-signin-bench-") as (_, port):
        base = f"http://127.0.0.1:{port}"
        idle = asyncio.run(poll(base, 10))
        result = asyncio.run(attacked(base, seconds, clients))
    polled = result["poll"]
    assert isinstance(polled, dict)
    return [
        {
            "bench": "signin_load",
            "case": f"dashboard p99 while {clients} clients guess for {seconds:g} s",
            "ours": polled["p99_ms"],
            "unit": "ms",
            "anchor": "the same poll, nobody guessing",
            "anchor_value": idle["p99_ms"],
            "ratio": round(polled["p99_ms"] / idle["p99_ms"], 2),
            "target": "< 50 ms",
            "met": polled["p99_ms"] < 50 and polled["errors"] == 0,
            "p50_ms": polled["p50_ms"],
            "errors": polled["errors"],
            "guesses": result["guesses"],
        },
        {
            "bench": "signin_load",
            "case": "the real user signs in from another address meanwhile",
            "ours": result["legit_ms"],
            "unit": "ms",
            "anchor": "answer",
            "anchor_value": result["legit_status"],
            "ratio": None,
            "target": "accepted (302)",
            "met": result["legit_status"] == 302,
        },
    ]


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--json", action="store_true")
    p.add_argument("--attack", metavar="BASE", help=argparse.SUPPRESS)
    args = p.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    if args.attack:
        print(json.dumps(asyncio.run(guess(args.attack, args.seconds, args.clients))))
        return 0
    for row in run(args.seconds, args.clients):
        print(json.dumps(row) if args.json else row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
