"""``veilcam privacy``: the privacy registers from the command line, beside a running daemon
or without one. Exports take the same disclosure record as the web UI's, and are refused
without it; every one is audited under the caller's Unix user."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from veilcam.cli.common import data_dir_of, data_options
from veilcam.errors import MediaIntegrityError, VeilcamError

T = TypeVar("T")
# Every command that can take personal data off the appliance: each must demand a
# disclosure record (tests/daemon/web/test_exports_refused.py holds every command
# of the parser to this list or to NOT_PERSONAL).
EXPORTS = {"privacy export-request", "privacy export-picture"}


def _retention(args: argparse.Namespace) -> Any:
    from veilcam.config import RetentionConfig, load

    return load(args.config).retention if Path(args.config).exists() else RetentionConfig()


def _actor() -> str:
    return "cli:" + (os.environ.get("SUDO_USER") or os.environ.get("USER") or "unknown")


def _in_transaction(args: argparse.Namespace, job: Callable[..., T], *a: Any) -> T:
    """Run a writer job beside the daemon: BEGIN IMMEDIATE takes the write lock first, so
    the audit chain gets this entry after the daemon's and never forks."""
    from veilcam.privacy.scope import Act
    from veilcam.store.database import opened

    retention = _retention(args)
    with opened(data_dir_of(args), readonly=False) as db:
        now = time.time()
        act = Act(
            _actor(),
            now,
            now + retention.seconds("audit_log"),
            now + retention.seconds("requests"),
        )
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            out = job(db, act, *a)
        except BaseException:
            db.conn.execute("ROLLBACK")
            raise
        db.conn.execute("COMMIT")
        return out


def _read_pictures(args: argparse.Namespace, ids: list[str]) -> dict[str, bytes]:
    from veilcam.store.database import opened
    from veilcam.store.keys import KeyRing, read_media
    from veilcam.store.media import MediaStore
    from veilcam.store.records import media_keys

    data = data_dir_of(args)
    ring, media = KeyRing(data / "keys", create=False), MediaStore(data / "media")
    out = {}
    with opened(data) as db:
        for media_id in ids:
            keys = media_keys(db, media_id)
            if keys is None:
                continue
            try:
                out[media_id] = read_media(ring, media, media_id, **keys)
            except MediaIntegrityError:
                continue
    return out


def _write(out: str, body: bytes) -> None:
    if out == "-":
        sys.stdout.buffer.write(body)
        return
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(body)
    print(f"wrote {out} ({len(body)} bytes)", file=sys.stderr)


def cmd_export_request(args: argparse.Namespace) -> int:
    from veilcam.privacy import disclosures, exports

    disclosure_id = disclosures.parse_id(args.disclosure)
    req, rec, rows = _in_transaction(args, exports.access_job, args.request, disclosure_id)
    pics = _read_pictures(args, [r["id"] for r in rows])
    body = exports.access_zip(req, rec, [(r, pics[r["id"]]) for r in rows if r["id"] in pics])
    _write(args.output or f"veilcam-access-request-{args.request}.zip", body)
    return 0


def cmd_export_picture(args: argparse.Namespace) -> int:
    from veilcam.privacy import disclosures, exports

    disclosure_id = disclosures.parse_id(args.disclosure)
    rec = _in_transaction(args, exports.picture_job, args.media_id, disclosure_id)
    pics = _read_pictures(args, [args.media_id])
    if args.media_id not in pics:
        raise VeilcamError(f"picture {args.media_id} could not be read")
    body = exports.caption(pics[args.media_id], disclosures.mark(rec))
    _write(args.output or f"veilcam-{args.media_id[:12]}.jpg", body)
    return 0


def _show(args: argparse.Namespace, rows: Any, line: Callable[[Any], str]) -> int:
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    for r in rows:
        print(line(r))
    if not rows:
        print("none")
    return 0


def _day(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t)) if t else "-"


def cmd_list(args: argparse.Namespace) -> int:
    from veilcam.privacy import breaches, disclosures, gates, holds, requests
    from veilcam.store.database import opened

    with opened(data_dir_of(args)) as db:
        if args.what == "requests":
            return _show(
                args,
                requests.list_job(db),
                lambda r: (
                    f"{r['id']:5} {r['kind']:14} {r['status']:9} due {_day(r['due_at'])}"
                    f"  {r['description'][:40]}"
                ),
            )
        if args.what == "disclosures":
            return _show(
                args,
                disclosures.list_job(db),
                lambda d: (
                    f"#{d['id']:<4} {_day(d['at'])} to {d['recipient'][:30]}"
                    f" ({len(d['items'])} items, by {d['approved_by']})"
                ),
            )
        if args.what == "holds":
            return _show(
                args,
                holds.list_job(db),
                lambda h: (
                    f"#{h['id']:<4} {h['class']:14} ref {h['reference'][:20]:20}"
                    f" until {_day(h['until'])} {'lifted' if h['lifted_at'] else 'active'}"
                ),
            )
        if args.what == "gates":
            return _show(
                args,
                gates.list_job(db),
                lambda g: (
                    f"#{g['id']:<4} {g['feature']:15} {g['state']:9} proposed by "
                    f"{g['proposed_by']}"
                    + (f", decided by {g['decided_by']}" if g["decided_by"] else "")
                ),
            )
        if args.what == "breaches":
            return _show(
                args,
                breaches.list_job(db),
                lambda b: (
                    f"#{b['id']:<4} found {_day(b['discovered_at'])} "
                    + ("settled" if b["settled"] else f"NOTIFY BY {_day(b['deadline'])}")
                    + f"  {b['summary'][:40]}"
                ),
            )
        from veilcam.config import load

        cfg = load(args.config) if Path(args.config).exists() else None
        limits = {}
        if cfg is not None:
            limits = {n: cfg.retention.seconds(n) for n in type(cfg.retention).__struct_fields__}
        return _show(
            args,
            holds.report_job(db, time.time(), limits),
            lambda c: (
                f"{c['class']:18} {c['count']:7} held, oldest {_day(c['oldest'])},"
                f" {c['deleted_30d']} deleted in 30 days, {c['under_hold']} under hold"
            ),
        )


def cmd_record(args: argparse.Namespace) -> int:
    """The record of processing activities, as Markdown and PDF (or one of them)."""
    from veilcam.config import load
    from veilcam.privacy import gates, record
    from veilcam.store.database import opened

    if not Path(args.config).exists():
        raise VeilcamError(f"the record is made from the configuration: {args.config} not found")
    config = load(args.config)
    with opened(data_dir_of(args)) as db:
        rec = record.build(config, gates.list_job(db), record.recipients_job(db))
    outdir = Path(args.output or ".")
    outdir.mkdir(parents=True, exist_ok=True)
    stem = outdir / f"processing-record-{config.site}"
    if args.format in ("md", "both"):
        _write(str(stem.with_suffix(".md")), record.markdown(rec).encode())
    if args.format in ("pdf", "both"):
        _write(str(stem.with_suffix(".pdf")), record.pdf(rec))
    return 0


def add_parser(sub: Any, config_default: str) -> None:
    sp = sub.add_parser(
        "privacy",
        help="the privacy registers: list them, export under a disclosure record",
        description="the privacy registers: list them, export under a disclosure record",
    )
    psub = sp.add_subparsers(dest="privacy_command", required=True, metavar="ACTION")
    for name, help_ in (
        ("requests", "shoppers' requests, open ones first"),
        ("disclosures", "the disclosure register"),
        ("holds", "legal holds"),
        ("breaches", "the breach register, with each notification deadline"),
        ("gates", "feature gates: who proposed and who decided each feature"),
        ("retention", "the retention report: per class, what is held and what was deleted"),
    ):
        p = psub.add_parser(name, help=help_, description=help_)
        data_options(p, config_default)
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=cmd_list, what=name)
    for name, help_, func, target in (
        ("export-request", "an access request's zip", cmd_export_request, "request"),
        ("export-picture", "one picture, captioned", cmd_export_picture, "media_id"),
    ):
        p = psub.add_parser(name, help=help_ + " (needs a disclosure record)", description=help_)
        data_options(p, config_default)
        if target == "request":
            p.add_argument("request", type=int)
        else:
            p.add_argument("media_id")
        p.add_argument(
            "--disclosure", required=True, help="the disclosure record number it leaves under"
        )
        p.add_argument("-o", "--output", help="file to write, - for stdout")
        p.set_defaults(func=func)
    help_ = "the record of processing activities (GDPR Art. 30) as Markdown and PDF"
    p = psub.add_parser("record", help=help_, description=help_)
    data_options(p, config_default)
    p.add_argument("-o", "--output", help="folder to write into (default: here)")
    p.add_argument("--format", choices=["md", "pdf", "both"], default="both")
    p.set_defaults(func=cmd_record)
