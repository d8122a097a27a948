"""Running the daemon: a small config over the demo pictures, the command in a subprocess, a
free port, the control socket."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from veilcam.config import Config, loads
from veilcam.demo.config import assets

DEMO_ASSETS = assets()


def config_for(data_dir: Path, extra: str = "") -> Config:
    return loads(
        f'data_dir = "{data_dir}"\n'
        '[storage]\nhealth_interval = "1s"\n'
        '[[cameras]]\nname = "fridge-1"\npurpose = "fridge"\n'
        f'source = {{ kind = "replay", path = "{DEMO_ASSETS / "fridge"}" }}\n' + extra
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def veilcam(*args: str, **kw: Any) -> subprocess.Popen[str]:
    """``veilcam ARGS`` in a subprocess, its output piped."""
    pipes: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    return subprocess.Popen([sys.executable, "-m", "veilcam", *args], text=True, **{**pipes, **kw})


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``veilcam ARGS`` to its end."""
    return subprocess.run(
        [sys.executable, "-m", "veilcam", *args], capture_output=True, text=True, timeout=timeout
    )


def status_json(data_dir: Path) -> dict[str, Any]:
    out = run("status", "--data-dir", str(data_dir), "--json")
    assert out.returncode == 0, out.stderr
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def wait_for_socket(data: Path, proc: subprocess.Popen[str]) -> None:
    """Until the daemon's control socket takes a connection (a killed daemon leaves its socket
    file behind: only a connection proves readiness)."""
    for _ in range(400):
        with socket.socket(socket.AF_UNIX) as s:
            try:
                s.connect(str(data / "control.sock"))
                return
            except OSError:
                pass
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.05)
    raise AssertionError("daemon never opened its control socket")
