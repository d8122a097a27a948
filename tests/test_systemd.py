"""The shipped unit is valid and hardened (systemd-analyze, offline)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ANALYZE = shutil.which("systemd-analyze")
pytestmark = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze not installed")


def unit_copy(tmp_path: Path) -> Path:
    # verify insists that ExecStart exists: point it at this checkout's veilcam
    exe = Path(sys.executable).parent / "veilcam"
    text = (ROOT / "systemd" / "veilcam.service").read_text().replace("/usr/bin/veilcam", str(exe))
    unit = tmp_path / "veilcam.service"
    unit.write_text(text)
    return unit


def test_unit_verifies(tmp_path: Path) -> None:
    out = subprocess.run(
        [ANALYZE, "verify", str(unit_copy(tmp_path))], capture_output=True, text=True, timeout=60
    )
    problems = [ln for ln in out.stderr.splitlines() if "veilcam.service" in ln]
    assert out.returncode == 0 and not problems, out.stderr


def test_unit_is_hardened(tmp_path: Path) -> None:
    out = subprocess.run(
        [ANALYZE, "security", "--offline=true", str(unit_copy(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    match = re.search(
        r"Overall exposure level for veilcam.service: (\d+\.\d+)", out.stdout + out.stderr
    )
    assert match, out.stdout + out.stderr
    assert float(match.group(1)) <= 2.5, out.stdout
