"""What the command line's modules share."""

from __future__ import annotations

import argparse
from pathlib import Path

from veilcam.config import load


def data_dir_of(args: argparse.Namespace) -> Path:
    if getattr(args, "data_dir", None):
        return Path(args.data_dir)
    return Path(load(args.config).data_dir)
