"""``veilcam users`` and ``veilcam tokens``: through the running daemon's control socket
(which names the caller from the kernel), or on the store itself when no daemon runs (its
data-directory lock keeps two writers apart)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from veilcam.cli.common import data_dir_of as _data_dir
from veilcam.config import load
from veilcam.errors import VeilcamError


class _Target:
    """Where a users or tokens command goes: the running daemon's control socket, or the
    store itself when no daemon runs; and who is asking, for the offline audit entry (the
    socket names the caller itself)."""

    def __init__(self, args: argparse.Namespace) -> None:
        from veilcam.config import RetentionConfig
        from veilcam.control.server import socket_path

        self.args = args
        self.data_dir = _data_dir(args)
        self.running = socket_path(self.data_dir).exists()
        self.retention = (
            load(args.config).retention if Path(args.config).exists() else RetentionConfig()
        )
        self.actor = "cli:" + (os.environ.get("SUDO_USER") or os.environ.get("USER") or "unknown")

    def call(self, command: str, **request: Any) -> dict[str, Any]:
        from veilcam.control.client import call

        return asyncio.run(call(self.data_dir, {"command": command, **request}))

    def offline(self, kind: str, op: str, **kw: Any) -> Any:
        """``Accounts(store).op(**kw)`` or ``Tokens(store).op(**kw)`` on the store itself."""
        from veilcam.accounts import Accounts
        from veilcam.clock import SystemClock
        from veilcam.store import Store
        from veilcam.tokens import Tokens

        async def run() -> Any:
            async with Store(self.data_dir, self.retention, SystemClock()) as store:
                face = Accounts(store) if kind == "users" else Tokens(store)
                return await getattr(face, op)(**kw)

        return asyncio.run(run())


def cmd_users(args: argparse.Namespace) -> int:
    target = _Target(args)
    if args.action == "add":
        if not (args.username and args.role):
            raise VeilcamError("users add needs --username and --role")
        if not args.password_stdin:
            raise VeilcamError("give the password on standard input with --password-stdin")
        password = sys.stdin.readline().rstrip("\r\n")
        request = {"username": args.username, "role": args.role, "password": password}
        user_id = (
            target.call("users.add", **request)["id"]
            if target.running
            else target.offline("users", "add", actor=target.actor, **request)
        )
        print(f"user {args.username} ({args.role}) added, id {user_id}")
        return 0
    users = (
        target.call("users.list")["users"] if target.running else target.offline("users", "list")
    )
    for u in users:
        state = "disabled" if u["disabled"] else "active"
        print(f"{u['username']:24} {u['role']:11} {state}")
    return 0


def cmd_tokens(args: argparse.Namespace) -> int:
    """Machine tokens for the JSON API: through the running daemon, or the store itself."""
    target = _Target(args)
    if args.action in ("add", "revoke") and not args.name:
        raise VeilcamError(f"tokens {args.action} needs --name")
    if args.action == "add":
        if not args.role:
            raise VeilcamError("tokens add needs --role")
        req = {"name": args.name, "role": args.role, "days": args.days}
        token = (
            target.call("tokens.add", **req)["token"]
            if target.running
            else target.offline("tokens", "add", actor=target.actor, **req)
        )
        print(f"token {args.name} ({args.role}, {args.days} days): {token}")
        print("copy it now: it is not shown again")
        return 0
    if args.action == "revoke":
        if target.running:
            target.call("tokens.revoke", name=args.name)
        else:
            target.offline("tokens", "revoke", name=args.name, actor=target.actor)
        print(f"token {args.name} revoked")
        return 0
    tokens = (
        target.call("tokens.list")["tokens"] if target.running else target.offline("tokens", "list")
    )
    if args.json:
        print(json.dumps(tokens, indent=2))
        return 0
    if not tokens:
        print("no machine tokens")
    for t in tokens:
        expires = time.strftime("%Y-%m-%d", time.localtime(t["expires_at"]))
        print(
            f"{t['name']:24} {t['role']:11} {t['state']:8} expires {expires}  by {t['created_by']}"
        )
    return 0
