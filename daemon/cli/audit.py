"""``veilcam audit head|verify``: the audit log's head to anchor elsewhere, and the local
chain checked against the heads that left the box (``--against FILE``)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from veilcam.cli.common import data_dir_of
from veilcam.config import load
from veilcam.errors import ConfigError


def cmd_audit(args: argparse.Namespace) -> int:
    from veilcam.retention import CLASSES
    from veilcam.store import anchor
    from veilcam.store.database import opened

    config = load(args.config) if Path(args.config).exists() else None
    site = config.site if config else "store"
    keep = config.retention.seconds("audit_log") if config else float(CLASSES["audit_log"].default)
    if args.action == "head":
        with opened(data_dir_of(args)) as db:
            head = anchor.head_job(db)
        if head is None:
            print("the audit log is empty", file=sys.stderr)
            return 1
        print(head.line(site))
        return 0
    if not args.against:
        raise ConfigError("audit verify: give --against FILE, the heads published so far")
    heads = anchor.parse_heads(Path(args.against).read_text(errors="replace"))
    if not heads:
        raise ConfigError(f"{args.against}: no published audit heads in it")
    with opened(data_dir_of(args)) as db:
        problems, summary = anchor.check_against(db, heads, time.time(), keep)
    if args.json:
        print(json.dumps({"ok": not problems, "problems": problems, "summary": summary}))
    else:
        for line in summary:
            print(line)
        for line in problems:
            print("PROBLEM:", line, file=sys.stderr)
    return 1 if problems else 0


def add_parser(data_cmd: Any) -> None:
    sp = data_cmd(
        "audit",
        "the audit log's head (to keep elsewhere), or the log checked against published heads",
    )
    sp.add_argument("action", choices=["head", "verify"])
    sp.add_argument("--against", metavar="FILE", help="verify: the published heads, one per line")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_audit)
