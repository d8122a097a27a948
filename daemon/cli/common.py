"""What the command line's modules share."""

from __future__ import annotations

import argparse
from pathlib import Path

from veilcam.config import load


def data_dir_of(args: argparse.Namespace) -> Path:
    if getattr(args, "data_dir", None):
        return Path(args.data_dir)
    return Path(load(args.config).data_dir)


def data_options(p: argparse.ArgumentParser, config_default: str) -> None:
    """The options every command on the appliance's data takes."""
    p.add_argument("--config", default=config_default, help="config file (default %(default)s)")
    p.add_argument("--data-dir", help="appliance data directory (default: from the config)")
