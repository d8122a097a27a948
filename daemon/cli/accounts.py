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


async def _offline_accounts(args: argparse.Namespace, retention: Any, op: str, **kw: Any) -> Any:
    """With the daemon stopped: open the store directly (the data-dir lock keeps two
    writers apart)."""
    from veilcam.accounts import Accounts
    from veilcam.clock import SystemClock
    from veilcam.store import Store

    async with Store(_data_dir(args), retention, SystemClock()) as store:
        acc = Accounts(store)
        return await (acc.add(**kw) if op == "add" else acc.list())


def cmd_users(args: argparse.Namespace) -> int:
    from veilcam.config import RetentionConfig
    from veilcam.control.client import call
    from veilcam.control.server import socket_path

    data_dir = _data_dir(args)
    running = socket_path(data_dir).exists()
    retention = load(args.config).retention if Path(args.config).exists() else RetentionConfig()
    actor = "cli:" + (os.environ.get("SUDO_USER") or os.environ.get("USER") or "unknown")
    if args.action == "add":
        if not (args.username and args.role):
            raise VeilcamError("users add needs --username and --role")
        if not args.password_stdin:
            raise VeilcamError("give the password on standard input with --password-stdin")
        password = sys.stdin.readline().rstrip("\r\n")
        request = {"username": args.username, "role": args.role, "password": password}
        if running:
            reply = asyncio.run(call(data_dir, {"command": "users.add", **request}))
            user_id = reply["id"]
        else:
            user_id = asyncio.run(_offline_accounts(args, retention, "add", actor=actor, **request))
        print(f"user {args.username} ({args.role}) added, id {user_id}")
        return 0
    users = (
        asyncio.run(call(data_dir, {"command": "users.list"}))["users"]
        if running
        else asyncio.run(_offline_accounts(args, retention, "list"))
    )
    for u in users:
        state = "disabled" if u["disabled"] else "active"
        print(f"{u['username']:24} {u['role']:11} {state}")
    return 0


async def _offline_tokens(args: argparse.Namespace, retention: Any, op: str, **kw: Any) -> Any:
    from veilcam.clock import SystemClock
    from veilcam.store import Store
    from veilcam.tokens import Tokens

    async with Store(_data_dir(args), retention, SystemClock()) as store:
        return await getattr(Tokens(store), op)(**kw)


def cmd_tokens(args: argparse.Namespace) -> int:
    """Machine tokens for the JSON API: through the running daemon, or the store itself."""
    from veilcam.config import RetentionConfig
    from veilcam.control.client import call
    from veilcam.control.server import socket_path

    data_dir = _data_dir(args)
    retention = load(args.config).retention if Path(args.config).exists() else RetentionConfig()
    running = socket_path(data_dir).exists()
    actor = "cli:" + (os.environ.get("SUDO_USER") or os.environ.get("USER") or "unknown")
    if args.action in ("add", "revoke") and not args.name:
        raise VeilcamError(f"tokens {args.action} needs --name")
    if args.action == "add":
        if not args.role:
            raise VeilcamError("tokens add needs --role")
        req = {"name": args.name, "role": args.role, "days": args.days}
        token = (
            asyncio.run(call(data_dir, {"command": "tokens.add", **req}))["token"]
            if running
            else asyncio.run(_offline_tokens(args, retention, "add", actor=actor, **req))
        )
        print(f"token {args.name} ({args.role}, {args.days} days): {token}")
        print("copy it now: it is not shown again")
        return 0
    if args.action == "revoke":
        if running:
            asyncio.run(call(data_dir, {"command": "tokens.revoke", "name": args.name}))
        else:
            asyncio.run(_offline_tokens(args, retention, "revoke", name=args.name, actor=actor))
        print(f"token {args.name} revoked")
        return 0
    tokens = (
        asyncio.run(call(data_dir, {"command": "tokens.list"}))["tokens"]
        if running
        else asyncio.run(_offline_tokens(args, retention, "list"))
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
