"""The machine and the code a benchmark run measured, as JSON, so that every figure in
docs/performance.md says where and when it was taken.

    python bench/machine.py > bench/results/machine.json
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import veilcam_native

ROOT = Path(__file__).resolve().parents[1]


def cpu() -> dict[str, object]:
    model, flags = platform.processor() or platform.machine(), ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model in ("", platform.machine()):
                model = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = value
    except OSError:
        pass
    return {
        "model": model,
        "cores": os.cpu_count(),
        "avx2": " avx2" in f" {flags} ",
        "avx512": " avx512bw" in f" {flags} ",
    }


def commit() -> str:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def main() -> int:
    info = {
        "date": dt.date.today().isoformat(),
        "cpu": cpu(),
        "python": platform.python_version(),
        "kernels": veilcam_native.IMPLEMENTATION,
        "commit": commit(),
    }
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
