"""``veilcam keys rotate|status``: the media key, through the running daemon (which
re-encrypts in the background) or on the store itself when no daemon runs."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from veilcam.cli.accounts import _Target


def _offline(target: _Target, start: bool) -> dict[str, Any]:
    from veilcam.clock import SystemClock
    from veilcam.store import Store
    from veilcam.store.rotation import Rotation

    def show(p: Any) -> None:
        print(f"\r{p.moved + p.damaged}/{p.total} pictures", end="", file=sys.stderr, flush=True)

    async def run() -> dict[str, Any]:
        async with Store(target.data_dir, target.retention, SystemClock()) as store:
            rotation = Rotation(store)
            if start:
                await rotation.start(target.actor)
            if start or (store.keys is not None and store.keys.retired):
                await rotation.finish(show)
                print(file=sys.stderr)
            return await rotation.status()

    return asyncio.run(run())


def cmd_keys(args: argparse.Namespace) -> int:
    target = _Target(args)
    if args.action == "rotate":
        if target.running:
            kid = target.call("keys.rotate")["key"]
            print(f"media key {kid} is current; the daemon re-encrypts every picture now")
            print("follow it with: veilcam keys status")
            return 0
        status = _offline(target, start=True)
    else:
        status = (
            target.call("keys.status")["rotation"] if target.running else _offline(target, False)
        )
    if args.json:
        print(json.dumps(status, indent=2))
        return 0
    print(f"current media key: {status['current']}")
    if status["old_keys"]:
        print(f"rotation running: {status['left']} of {status['pictures']} pictures left")
    else:
        print(f"no rotation running; {status['pictures']} pictures, all under the current key")
    if status["damaged"]:
        print(f"{status['damaged']} damaged picture files could not be re-encrypted")
    return 0


def add_parser(data_cmd: Any) -> None:
    sp = data_cmd(
        "keys",
        "rotate the media encryption key (old pictures re-encrypted, old key destroyed) "
        "or show the rotation's progress",
    )
    sp.add_argument("action", choices=["rotate", "status"])
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_keys)
