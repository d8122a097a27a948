"""``veilcam tls renew|show``: the web UI's certificate, renewed through the running daemon
(which serves it to every new connection at once) or on the data folder when none runs."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from veilcam import certificate
from veilcam.cli.accounts import _Target


def _offline(target: _Target, cert: str | None, key: str | None) -> dict[str, Any]:
    from veilcam import renewal
    from veilcam.clock import SystemClock
    from veilcam.store import Store

    site = "store"
    if Path(target.args.config).exists():
        from veilcam.config import load

        site = load(target.args.config).site

    async def run() -> dict[str, Any]:
        async with Store(target.data_dir, target.retention, SystemClock()) as store:
            return await renewal.renew(
                store, target.data_dir, site, target.actor, cert_file=cert, key_file=key
            )

    return asyncio.run(run())


def cmd_tls(args: argparse.Namespace) -> int:
    target = _Target(args)
    if args.action == "renew":
        cert = str(Path(args.cert).resolve()) if args.cert else None
        key = str(Path(args.key).resolve()) if args.key else None
        if target.running:
            out = target.call("tls.renew", cert_file=cert, key_file=key)
            out.pop("ok", None)
        else:
            out = _offline(target, cert, key)
    else:
        crt, _ = certificate.paths(target.data_dir)
        if not crt.exists():
            print("no certificate yet: the web UI makes one when it first starts")
            return 1
        out = {
            "new": certificate.fingerprint(crt),
            "not_after": certificate.not_after(crt).strftime("%Y-%m-%d"),
        }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        if out.get("old") is not None:
            print(f"old certificate SHA-256: {out['old'] or '(none)'}")
        print(f"certificate SHA-256: {out['new']}")
        print(f"valid until: {out['not_after']}")
    return 0


def add_parser(data_cmd: Any) -> None:
    sp = data_cmd(
        "tls",
        "show or renew the web UI's certificate (a new self-signed one, or one from your "
        "CA with --cert and --key); audited",
    )
    sp.add_argument("action", choices=["renew", "show"])
    sp.add_argument("--cert", help="PEM certificate (chain) to install instead of a new one")
    sp.add_argument("--key", help="its PEM private key, unencrypted")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_tls)
