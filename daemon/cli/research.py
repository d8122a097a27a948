"""``veilcam research``: the studies, the upload ledger, and a study's upload key for the
chain's data team (the only way to read what was uploaded), from the command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from veilcam.cli.common import data_dir_of, data_options
from veilcam.errors import VeilcamError


def _day(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t)) if t else "-"


def _show(args: argparse.Namespace, rows: list[dict[str, Any]], line: Any) -> int:
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
    else:
        for r in rows:
            print(line(r))
        if not rows:
            print("none")
    return 0


def cmd_studies(args: argparse.Namespace) -> int:
    from veilcam.research import studies
    from veilcam.store.database import opened

    with opened(data_dir_of(args)) as db:
        rows = studies.list_job(db)
    return _show(
        args,
        rows,
        lambda s: (
            f"#{s['id']:<4} {s['name'][:30]:30} {_day(s['starts_at'])} - {_day(s['ends_at'])}"
            f"  {', '.join(s['cameras'])}  {s['clips']} clips, {s['events']} events"
            + ("  STOPPED" if s["stopped_at"] else "")
        ),
    )


def cmd_uploads(args: argparse.Namespace) -> int:
    from veilcam.research.uploads import ledger_job
    from veilcam.store.database import opened

    with opened(data_dir_of(args)) as db:
        rows = ledger_job(db)
    return _show(
        args,
        rows,
        lambda u: (
            f"{u['object_key'][:60]:60} "
            + (
                f"deleted {_day(u['deleted_at'])}"
                if u["deleted_at"]
                else f"sent {_day(u['uploaded_at'])} {u['size']} B sha256 {u['sha256'][:12]}"
                if u["uploaded_at"]
                else f"waiting ({u['attempts']} tries: {u['last_error'] or '-'})"
            )
        ),
    )


def cmd_key(args: argparse.Namespace) -> int:
    """Write a study's upload key to a file for the data team, audited."""
    from veilcam.cli.privacy import _in_transaction
    from veilcam.research.uploads import study_key

    data = data_dir_of(args)
    path = data / "keys" / f"study-{args.study}.key"
    if not path.exists():
        raise VeilcamError(f"study {args.study} has no upload key yet (nothing uploaded)")
    key_id, key = study_key(data / "keys", args.study)
    fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps({"key_id": key_id, "aes_256_gcm_key_hex": key.hex()}) + "\n")
    _in_transaction(
        args, lambda db, act: act.audit(db, "study.key.export", f"study:{args.study}", key_id)
    )
    print(f"wrote {args.output} ({key_id}); hand it to the data team only", file=sys.stderr)
    return 0


def add_parser(sub: Any, config_default: str) -> None:
    sp = sub.add_parser(
        "research",
        help="research studies, the upload ledger, a study's upload key",
        description="research studies, the upload ledger, a study's upload key",
    )
    rsub = sp.add_subparsers(dest="research_command", required=True, metavar="ACTION")
    for name, help_, func in (
        ("studies", "studies with their dates, cameras, clips and events", cmd_studies),
        ("uploads", "the upload ledger: every object sent, and when it was deleted", cmd_uploads),
    ):
        p = rsub.add_parser(name, help=help_, description=help_)
        data_options(p, config_default)
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=func)
    help_ = "write a study's upload key (to decrypt its objects) to a new file, audited"
    p = rsub.add_parser("key", help=help_, description=help_)
    data_options(p, config_default)
    p.add_argument("study", type=int)
    p.add_argument("-o", "--output", required=True, help="new file to write (mode 0600)")
    p.set_defaults(func=cmd_key)
