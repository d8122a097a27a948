"""The ``veilcam`` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
import time
import urllib.parse
from pathlib import Path
from typing import IO, Any

from veilcam import __version__
from veilcam.cli import audit, field, fleet, keys, privacy, research, tls, tools
from veilcam.cli.accounts import cmd_tokens, cmd_users
from veilcam.cli.common import data_dir_of as _data_dir
from veilcam.config import Config, load, with_data_dir
from veilcam.errors import ConfigError, VeilcamError

log = logging.getLogger("veilcam")

DEFAULT_CONFIG = "/etc/veilcam/veilcam.toml"


def _config(args: argparse.Namespace) -> Config:
    return with_data_dir(load(args.config), args.data_dir)


def cmd_check_config(args: argparse.Namespace) -> int:
    config = load(args.file)
    print(
        f"{args.file}: ok ({len(config.cameras)} cameras, "
        f"sensor line {'on ' + config.sensors.port if config.sensors else 'off'})"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from veilcam.runtime.supervisor import run_until_signal
    from veilcam.web.app import web_services

    config = _config(args)
    asyncio.run(run_until_signal(config, extra=web_services(config)))
    return 0


def cmd_sim_sensors(args: argparse.Namespace) -> int:
    from veilcam.runtime.supervisor import stop_on_signals
    from veilcam.sensors.simulator import BoardSimulator, FaultRates

    async def main(log_file: IO[str] | None) -> None:
        sim = BoardSimulator(
            Path(args.link) if args.link else None,
            seed=args.seed,
            speed=args.speed,
            faults=FaultRates.parse(args.faults),
            log_file=log_file,
            door_interval=args.door_interval,
            scenario=args.scenario,
            protocol=args.protocol,
        )
        port = await sim.start()
        print(port, flush=True)
        # SIGTERM or SIGINT stop it cleanly, even where the shell that started it in the
        # background made it ignore SIGINT (the disposition a handler here replaces).
        with stop_on_signals() as stop:
            running = asyncio.create_task(sim.run(args.duration))
            stopped = asyncio.create_task(stop.wait())
            try:
                await asyncio.wait({running, stopped}, return_when=asyncio.FIRST_COMPLETED)
                if running.done():
                    running.result()
                    await asyncio.sleep(0.5)
            finally:
                for task in (running, stopped):
                    task.cancel()
                await asyncio.gather(running, stopped, return_exceptions=True)
                sim.close()

    with contextlib.ExitStack() as stack:
        log_file = stack.enter_context(open(args.log, "a")) if args.log else None
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(main(log_file))
    return 0


def cmd_capture(args: argparse.Namespace) -> int:
    from veilcam.control.client import call

    reply = asyncio.run(call(_data_dir(args), {"command": "capture", "camera": args.camera}))
    print(reply["media_id"])
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from veilcam.control.client import call

    reply = asyncio.run(
        call(
            _data_dir(args),
            {"command": "calibrate", "camera": args.camera, "empty": args.empty},
            reply_within=60,
        )
    )
    what = "empty picture" if reply.get("empty") else "reference"
    print(f"{what} of {reply['camera']} taken ({reply['width']}x{reply['height']})")
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    """Cold-chain alarms straight from the database (the daemon may be running)."""
    from veilcam.alerts.records import list_job
    from veilcam.store.database import opened

    with opened(_data_dir(args)) as db:
        alarms = list_job(db, open_only=args.open)
    if args.json:
        print(json.dumps(alarms, indent=2))
        return 0
    if not alarms:
        print("no alarms" + (" open" if args.open else ""))
    for a in alarms:
        state = "open" if a["closed_at"] is None else "closed"
        acked = f", acknowledged by {a['acked_by']}" if a["acked_by"] else ""
        what = f"{a['subject']}: {a['rule']}: {a['message']}{acked}"
        print(f"{a['id']:5} {state:6} {a['level']:7} {what}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """A day's cold-chain report as CSV or PDF, straight from the database."""
    from veilcam.coldchain import report
    from veilcam.store.database import opened

    config = _config(args)
    if not config.cabinets:
        raise ConfigError(f"{args.config}: no [[cabinets]] configured, nothing to report")
    try:
        day = report.parse_day(args.date, time.time())
    except ValueError as exc:
        raise ConfigError(f"--date: {exc}") from None
    with opened(Path(config.data_dir)) as db:
        rep = report.build(db, config.site, config.cabinets, day)
    if args.format == "csv":
        data = report.to_csv(rep).encode()
    else:
        from veilcam.coldchain.report_pdf import to_pdf

        data = to_pdf(rep)
    if args.output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        out = Path(args.output or f"coldchain-{config.site}-{day.isoformat()}.{args.format}")
        out.write_bytes(data)
        print(out)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from veilcam import certificate
    from veilcam.control.client import call
    from veilcam.store.status import read_offline

    data_dir = _data_dir(args)
    out: dict[str, Any] = read_offline(data_dir)
    crt, _ = certificate.paths(data_dir)
    if crt.exists():
        out["web_certificate_sha256"] = certificate.fingerprint(crt)
    try:
        out["live"] = asyncio.run(call(data_dir, {"command": "status"}, reply_within=5))["live"]
        out["daemon"] = "running"
        out["health"] = out["live"]["health"]
    except VeilcamError:
        out["daemon"] = "not running"
    if args.json:
        print(json.dumps(out, indent=2, sort_keys=True))
        return 0
    print(f"daemon: {out['daemon']}   overall: {out['overall']}")
    keys = ["temperature_readings", "door_events", "captures", "clips"]
    keys += ["research_events", "research_poses"]
    for key in (*keys, "media_files", "faults"):
        print(f"  {key.replace('_', ' '):22} {out[key]}")
    for name, h in out["health"].items():
        print(f"  {h['state']:8} {name}: {h['message']}")
    if fp := out.get("web_certificate_sha256"):
        print(f"  web UI certificate SHA-256: {fp}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from veilcam.store.verify import verify

    keep = None
    if Path(args.config).exists():  # the configured audit limit, where there is a config
        keep = load(args.config).retention.seconds("audit_log")
    problems, summary = verify(_data_dir(args), keep)
    for line in summary:
        print(line)
    for line in problems:
        print("PROBLEM:", line, file=sys.stderr)
    return 1 if problems else 0


def _loopback_mqtt(url: str) -> str:
    if url == "local":  # the demo starts a Mosquitto of its own
        return url
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "mqtt" or parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise argparse.ArgumentTypeError(f"{url!r}: the demo publishes to mqtt://127.0.0.1:PORT")
    return url


def cmd_demo(args: argparse.Namespace) -> int:
    from veilcam.demo.run import run_demo

    asyncio.run(
        run_demo(
            Path(args.data_dir).resolve(),
            port=args.port,
            duration=args.duration,
            seed=args.seed,
            faults=args.faults,
            speed=args.speed,
            scenario=args.scenario,
            email_to=args.email_to,
            smtp=args.smtp,
            mqtt=args.mqtt,
        )
    )
    return 0


# Every command, and why it cannot take personal data off the appliance; the ones that can
# are in ``privacy.EXPORTS`` and refuse without a disclosure record. A new command must be
# named in one or the other (tests/daemon/web/test_exports_refused.py).
NOT_EXPORTS = {
    "check-config": "reads a config file",
    "run": "the daemon itself",
    "capture": "stores a redacted picture on the appliance; prints its id",
    "calibrate": "stores a reference picture on the appliance; prints figures",
    "alerts": "alarm rows: cabinets and fridges, no people",
    "report": "the cold-chain report: temperatures, doors, alarms",
    "status": "counts and health",
    "verify": "checks integrity; prints problems and counts",
    "demo": "a demo store of its own",
    "models": "model files",
    "redact": "redacts files the operator gives it; reads nothing the appliance stores",
    "doctor": "checks the machine: devices, groups, models, disk, clock; prints problems",
    "console": "the technician's shell: health, readings and figures; never a picture",
    "sim-sensors": "a simulated sensor board",
    "users": "account names and roles",
    "tokens": "token names, roles and expiry (a new token is shown once to its maker)",
    "keys": "key ids and progress; never a key",
    "audit": "the newest audit entry's id and hash; the check's findings",
    "fleet": "head office's keys and signed commands; reads nothing the appliance stores",
    "tls": "the certificate's fingerprint and dates; the private key never leaves",
    "privacy requests": "the register's rows; no pictures",
    "privacy disclosures": "the register's rows; no pictures",
    "privacy holds": "the register's rows; no pictures",
    "privacy breaches": "the register's rows; no pictures",
    "privacy retention": "counts and dates per retention class",
    "privacy gates": "the feature decisions: who proposed and approved; no pictures",
    "privacy record": "the record of processing: settings, decisions, recipients' names",
    "research studies": "the studies' settings and counts; no clips",
    "research uploads": "the ledger: object keys, sizes, hashes, dates; no clips",
    "research key": "a study's upload key (decrypts uploads that already left under its "
    "disclosure record); audited",
}


def build_parser() -> argparse.ArgumentParser:
    from veilcam.sensors.simulator import SCENARIOS

    scenario_names = sorted(SCENARIOS)
    p = argparse.ArgumentParser(prog="veilcam", description=__doc__)
    p.add_argument("--version", action="version", version=f"veilcam {__version__}")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def data_cmd(name: str, help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.add_argument(
            "--config", default=DEFAULT_CONFIG, help="config file (default %(default)s)"
        )
        sp.add_argument("--data-dir", help="appliance data directory (default: from the config)")
        return sp

    sp = sub.add_parser("check-config", help="validate a config file and exit")
    sp.add_argument("file")
    sp.set_defaults(func=cmd_check_config)

    data_cmd("run", "run the appliance daemon until SIGTERM").set_defaults(func=cmd_run)

    sp = data_cmd("capture", "take a picture now through the running daemon")
    sp.add_argument("camera")
    sp.set_defaults(func=cmd_capture)

    sp = data_cmd(
        "calibrate", "take a fridge camera's reference picture (refused if anyone is in view)"
    )
    sp.add_argument("camera")
    sp.add_argument(
        "--empty",
        action="store_true",
        help="the fridge emptied, for stock monitoring (the stocked one is the reference)",
    )
    sp.set_defaults(func=cmd_calibrate)

    sp = data_cmd("alerts", "cold-chain alarms, newest first")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--open", action="store_true", help="only the ones not yet closed")
    sp.set_defaults(func=cmd_alerts)

    sp = data_cmd("report", "a day's cold-chain report per cabinet, as CSV or PDF")
    sp.add_argument("--date", default="yesterday", help="YYYY-MM-DD (default: yesterday)")
    sp.add_argument("--format", choices=["csv", "pdf"], default="csv")
    sp.add_argument("-o", "--output", help="file to write, - for stdout (default: a name)")
    sp.set_defaults(func=cmd_report)

    sp = data_cmd("users", "web UI accounts: add one, or list them")
    sp.add_argument("action", choices=["add", "list"])
    sp.add_argument("--username")
    sp.add_argument("--role", choices=["admin", "manager", "technician", "auditor"])
    sp.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    sp.set_defaults(func=cmd_users)

    keys.add_parser(data_cmd)
    audit.add_parser(data_cmd)
    tls.add_parser(data_cmd)
    privacy.add_parser(sub, DEFAULT_CONFIG)
    research.add_parser(sub, DEFAULT_CONFIG)

    sp = data_cmd("tokens", "machine tokens for the JSON API: add, list or revoke")
    sp.add_argument("action", choices=["add", "list", "revoke"])
    sp.add_argument("--name")
    sp.add_argument("--role", choices=["manager", "technician", "auditor"])
    sp.add_argument("--days", type=int, default=90, help="until it expires, 1-365 (default 90)")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_tokens)

    sp = data_cmd("status", "counts, health and faults of an appliance")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_status)

    data_cmd("verify", "check database integrity, media files and the audit chain").set_defaults(
        func=cmd_verify
    )

    sp = sub.add_parser("sim-sensors", help="simulated fridge sensor board on a pseudo-terminal")
    sp.add_argument("--link", help="make this path a symlink to the board's port")
    sp.add_argument("--seed", type=int)
    sp.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second")
    sp.add_argument("--faults", default="", help="e.g. noise=0.05,bad_checksum=0.02,unplug=0.01")
    sp.add_argument(
        "--door-interval", type=float, default=90.0, help="mean seconds between openings"
    )
    sp.add_argument("--log", help="append every line sent to this JSON-lines file")
    sp.add_argument(
        "--scenario",
        default="normal-day",
        choices=scenario_names,
        help="what goes wrong on the board (default %(default)s)",
    )
    sp.add_argument("--duration", type=float, help="stop after this many seconds")
    sp.add_argument(
        "--protocol",
        type=int,
        choices=(1, 2),
        default=2,
        help="2: CRC-16 checksums (default); 1: older firmware's XOR-8",
    )
    sp.set_defaults(func=cmd_sim_sensors)

    tools.add_parser(sub)
    fleet.add_parser(sub)
    field.add_parser(data_cmd)

    sp = sub.add_parser(
        "demo", help="run the demo store: simulated board, replay cameras, status page"
    )
    sp.add_argument("--data-dir", default=".demo-data")
    sp.add_argument("--port", type=int, default=8080)
    sp.add_argument("--duration", type=float, help="exit 0 after this many seconds")
    sp.add_argument("--seed", type=int)
    sp.add_argument("--speed", type=float, default=1.0)
    sp.add_argument("--faults", default="noise=0.002,bad_checksum=0.002")
    sp.add_argument(
        "--scenario",
        default="normal-day",
        choices=[*scenario_names, "research", "watchlist"],
        help="a sensor-board scenario; research: a study recording a shopper at a shelf;"
        " watchlist: the floor camera at the entrance, a registered shopper matched (needs"
        " the [faces] extra)",
    )
    sp.add_argument("--email-to", metavar="ADDRESS", help="mail alarms to this address")
    sp.add_argument(
        "--smtp", default="127.0.0.1:25", metavar="HOST:PORT", help="a mail server on loopback"
    )
    sp.add_argument(
        "--mqtt",
        type=_loopback_mqtt,
        metavar="URL",
        help="publish to an MQTT broker on this machine: mqtt://[USER:PASSWORD@]127.0.0.1:PORT,"
        " or local: a Mosquitto the demo starts itself",
    )
    sp.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in ("run", "demo"):
        from veilcam.runtime.memory import tune

        tune()  # before the worker threads and the first frames exist
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.func(args))
    except VeilcamError as exc:
        print(f"veilcam {args.command}: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"veilcam {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
