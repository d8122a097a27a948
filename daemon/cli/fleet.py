"""``veilcam fleet keygen|sign|watch``: head office's side of the boxes' broker. ``keygen``
makes the site's command key pair (the public half goes to each box as
``[mqtt] command_key``); ``sign`` prints a signed command to publish on
``<prefix>/<site>/<device>/command`` (e.g. with ``mosquitto_pub -s``); ``watch`` shows every
box on a broker, live."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from veilcam.durations import parse_duration
from veilcam.errors import ConfigError


def _keygen(out: Path) -> int:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    out.mkdir(parents=True, exist_ok=True)
    private, public = out / "command-key.pem", out / "command-key.pub"
    if private.exists():
        raise ConfigError(f"{private} exists: a site keeps its key (remove it to replace it)")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    print(f"private key (keep at head office): {private}")
    print(f"public key (each box's [mqtt] command_key): {public}")
    return 0


def _arg(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ConfigError(f"--arg {text!r}: give KEY=VALUE")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value  # a bare word is a string


def _sign(args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from veilcam.fleet.commands import MAX_AHEAD, sign

    try:
        key = serialization.load_pem_private_key(Path(args.key).read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--key {args.key}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"--key {args.key}: not an Ed25519 private key")
    ttl = parse_duration(args.ttl)
    if not 0 < ttl <= MAX_AHEAD:
        raise ConfigError(f"--ttl {args.ttl}: between 1s and 1d")
    fields = dict(_arg(a) for a in args.arg)
    message = sign(key, args.site, args.device, args.name, fields, time.time() + ttl)
    sys.stdout.write(message.decode() + "\n")
    return 0


async def _watch(args: argparse.Namespace) -> int:
    import urllib.parse

    import aiomqtt
    from rich.console import Console
    from rich.live import Live

    from veilcam.alerts.outbox import read_secret
    from veilcam.fleet.watch import SUBSCRIPTIONS, FleetView, table

    url = urllib.parse.urlsplit(args.broker)
    if url.scheme not in ("mqtt", "mqtts") or not url.hostname:
        raise ConfigError(f"--broker {args.broker!r}: give mqtt://HOST:PORT or mqtts://HOST:PORT")
    password = read_secret(args.password_file, "--password-file")
    tls = aiomqtt.TLSParameters(ca_certs=args.ca) if url.scheme == "mqtts" else None
    view = FleetView(args.prefix)
    console = Console()
    client = aiomqtt.Client(
        url.hostname,
        url.port or (8883 if tls else 1883),
        username=args.username,
        password=password,
        tls_params=tls,
    )
    try:
        async with client:
            for topic in SUBSCRIPTIONS:
                await client.subscribe(f"{args.prefix}/{topic}", qos=1)
            if args.once is not None:  # collect, print once, exit: scripts and dumb terminals
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(args.once):
                        async for m in client.messages:
                            view.update(m.topic.value, _bytes(m.payload))
                console.print(table(view))
                return 0
            with Live(table(view), console=console, refresh_per_second=2) as live:
                async for m in client.messages:
                    view.update(m.topic.value, _bytes(m.payload))
                    live.update(table(view))
    except aiomqtt.MqttError as exc:
        raise ConfigError(f"broker {args.broker}: {exc}") from None
    return 0


def _bytes(payload: Any) -> bytes:
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    return b"" if payload is None else str(payload).encode()


def cmd_fleet(args: argparse.Namespace) -> int:
    if args.action == "keygen":
        return _keygen(Path(args.out))
    if args.action == "watch":
        if not args.broker:
            raise ConfigError("fleet watch: give --broker URL")
        with contextlib.suppress(KeyboardInterrupt):
            return asyncio.run(_watch(args))
        return 0
    return _sign(args)


def add_parser(sub: Any) -> None:
    sp = sub.add_parser(
        "fleet",
        help="head office: the site's command key pair; a signed command for a box",
        description=__doc__,
    )
    sp.add_argument("action", choices=["keygen", "sign", "watch"])
    sp.add_argument("name", nargs="?", help="sign: capture, ack, limits or status")
    sp.add_argument("--out", default=".", metavar="DIR", help="keygen: where the pair goes")
    sp.add_argument("--key", metavar="FILE", help="sign: the site's private command key")
    sp.add_argument("--site", help="sign: the box's site")
    sp.add_argument("--device", default="main", help="sign: the box's device name")
    sp.add_argument(
        "--arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="sign: an argument (JSON or a word), e.g. camera=fridge-1 or alarm=12",
    )
    sp.add_argument("--ttl", default="5m", help="sign: how long the command stays valid")
    sp.add_argument("--broker", metavar="URL", help="watch: mqtt(s)://HOST:PORT")
    sp.add_argument("--ca", metavar="FILE", help="watch: the broker's CA certificate")
    sp.add_argument("--username", help="watch: the broker login")
    sp.add_argument("--password-file", metavar="FILE", help="watch: its password")
    sp.add_argument("--prefix", default="veilcam", help="watch: the boxes' topic prefix")
    sp.add_argument(
        "--once",
        type=float,
        metavar="SECONDS",
        help="watch: listen this long, print the table once and exit",
    )
    sp.set_defaults(func=_checked)


def _checked(args: argparse.Namespace) -> int:
    if args.action == "sign" and not (args.name and args.key and args.site):
        raise ConfigError("fleet sign: give NAME, --key FILE and --site SITE")
    return cmd_fleet(args)
