"""``veilcam doctor`` and ``veilcam console``: the technician's commands."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

DataCommand = Callable[[str, str], argparse.ArgumentParser]


def cmd_doctor(args: argparse.Namespace) -> int:
    from veilcam.field.doctor import Doctor, Machine, as_dicts, can_run, print_findings
    from veilcam.field.profile import FieldProfile

    root = Path(args.root)
    config_path = (
        root / args.config.lstrip("/") if Path(args.config).is_absolute() else Path(args.config)
    )
    board = args.board
    if board is None:  # the config's board, where the config can be read
        from veilcam.config import load
        from veilcam.errors import ConfigError

        try:
            board = load(config_path).vision.board
        except (ConfigError, OSError):
            board = "generic"
    doctor = Doctor(
        FieldProfile.load(board),
        config_path,
        Machine(root),
        user=args.user,
        data_dir=Path(args.data_dir) if args.data_dir else None,
    )
    findings = doctor.run()
    if args.json:
        print(
            json.dumps(
                {"board": board, "can_run": can_run(findings), "findings": as_dicts(findings)},
                indent=2,
            )
        )
    else:
        print(f"board profile: {board}")
        print_findings(findings)
    return 0 if can_run(findings) else 1


def cmd_console(args: argparse.Namespace) -> int:
    import os

    from veilcam import console
    from veilcam.field.console_ops import new_recovery_code

    if args.new_recovery_code:
        from veilcam.cli.common import data_dir_of

        print(new_recovery_code(data_dir_of(args)))
        return 0
    console.run(
        Path(args.config),
        Path(args.data_dir) if args.data_dir else None,
        args.port,
        term=args.term or os.environ.get("TERM", "vt100"),
        baud=args.baud,
        root=Path(args.root),
        log_file=Path(args.log_file) if args.log_file else None,
        idle=args.idle,
    )
    return 0


def add_parser(data_cmd: DataCommand) -> None:
    sp = data_cmd(
        "doctor",
        "check this machine against its board profile; exit 1 if the appliance cannot run",
    )
    sp.add_argument("--board", help="board profile (default: the config's)")
    sp.add_argument("--user", default="veilcam", help="the service user (default %(default)s)")
    sp.add_argument(
        "--root", default="/", help="check a board image mounted here instead (default /)"
    )
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_doctor)

    sp = data_cmd(
        "console", "the technician's serial console: sign in, then a line shell (type help)"
    )
    sp.add_argument("--port", metavar="DEVICE", help="serial device (default: this terminal)")
    sp.add_argument("--baud", type=int, default=115200, help="(default %(default)s)")
    sp.add_argument(
        "--term", help="terminal type; dumb: plain lines, no editing (default: $TERM or vt100)"
    )
    sp.add_argument(
        "--log-file", metavar="FILE", help="the daemon's log, where there is no journal"
    )
    sp.add_argument(
        "--idle", type=float, default=900.0, help="seconds before an idle console signs out"
    )
    sp.add_argument(
        "--root", default="/", help="the board image it looks after (default /: this machine)"
    )
    sp.add_argument(
        "--new-recovery-code",
        action="store_true",
        help="print a new one-time recovery code for the device label, and exit",
    )
    sp.set_defaults(func=cmd_console)
