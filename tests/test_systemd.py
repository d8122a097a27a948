"""The shipped units are valid and hardened (systemd-analyze, offline), and board/install.sh
lays every file out in a scratch root with the right owner and mode, idempotently.

Skipped where systemd's tools are missing, except in CI (``VEILCAM_REQUIRE_SYSTEMD=1``, set
by .ci/run after `make system-deps` installed them), where a skip would hide a regression.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ANALYZE = shutil.which("systemd-analyze")
SYSUSERS = shutil.which("systemd-sysusers")
if os.environ.get("VEILCAM_REQUIRE_SYSTEMD") == "1":
    assert ANALYZE and SYSUSERS, "systemd's tools are required here: make system-deps"
pytestmark = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze not installed")
UNITS = {
    "veilcam.service": "veilcam.service",
    "veilcam-console@.service": "veilcam-console@ttyGS0.service",
}


def unit_copy(tmp_path: Path, name: str = "veilcam.service") -> Path:
    # verify insists that ExecStart exists: point it at this checkout's veilcam
    exe = Path(sys.executable).parent / "veilcam"
    text = (ROOT / "systemd" / name).read_text().replace("/usr/bin/veilcam", str(exe))
    unit = tmp_path / UNITS[name]
    unit.write_text(text)
    return unit


@pytest.mark.parametrize("name", sorted(UNITS))
def test_units_verify(tmp_path: Path, name: str) -> None:
    unit = unit_copy(tmp_path, name)
    out = subprocess.run([ANALYZE, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    problems = [ln for ln in out.stderr.splitlines() if "veilcam" in ln]
    assert out.returncode == 0 and not problems, out.stderr


def test_daemon_unit_is_hardened(tmp_path: Path) -> None:
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
    assert float(match.group(1)) <= 2.0, out.stdout


def test_daemon_unit_notifies_and_is_watched() -> None:
    text = (ROOT / "systemd" / "veilcam.service").read_text()
    assert "Type=notify" in text and re.search(r"^WatchdogSec=\d+", text, re.M)


def install(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(ROOT / "board" / "install.sh"), "--root", str(root), "--no-venv", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def ids(root: Path, table: str) -> dict[str, int]:
    rows = (root / "etc" / table).read_text().splitlines()
    return {r.split(":")[0]: int(r.split(":")[2]) for r in rows if r}


@pytest.mark.skipif(SYSUSERS is None or os.geteuid() != 0, reason="needs root and sysusers")
def test_install_lays_out_every_file(tmp_path: Path) -> None:
    root = tmp_path / "image"
    root.mkdir()
    check = install(root, "--check", "--board", "coral")
    assert (
        check.returncode == 1
        and "would install /usr/lib/systemd/system/veilcam.service" in check.stdout
    )
    assert not (root / "usr").exists()  # --check changed nothing
    first = install(root, "--board", "coral")
    assert first.returncode == 0, first.stderr
    users, groups = ids(root, "passwd"), ids(root, "group")
    veilcam_uid, veilcam_gid = users["veilcam"], groups["veilcam"]
    expected = {
        "usr/lib/systemd/system/veilcam.service": (0o644, 0, 0),
        "usr/lib/systemd/system/veilcam-console@.service": (0o644, 0, 0),
        "usr/lib/sysusers.d/veilcam.conf": (0o644, 0, 0),
        "usr/lib/sysusers.d/veilcam-board.conf": (0o644, 0, 0),
        "usr/lib/tmpfiles.d/veilcam.conf": (0o644, 0, 0),
        "usr/lib/udev/rules.d/99-veilcam.rules": (0o644, 0, 0),
        "usr/lib/systemd/journald.conf.d/veilcam.conf": (0o644, 0, 0),
        "usr/share/doc/veilcam/README.md": (0o644, 0, 0),
        "usr/share/doc/veilcam/field.md": (0o644, 0, 0),
        "etc/veilcam": (0o750, 0, veilcam_gid),
        "etc/veilcam/veilcam.toml": (0o640, 0, veilcam_gid),
        "var/lib/veilcam": (0o750, veilcam_uid, veilcam_gid),
        "var/lib/veilcam/models": (0o750, veilcam_uid, veilcam_gid),
    }
    for rel, (mode, uid, gid) in expected.items():
        st = (root / rel).stat()
        assert (st.st_mode & 0o7777, st.st_uid, st.st_gid) == (mode, uid, gid), rel
    for rel in ("usr/lib/systemd/system/veilcam.service", "usr/lib/udev/rules.d/99-veilcam.rules"):
        source = "board/udev/99-veilcam.rules" if "udev" in rel else "systemd/veilcam.service"
        assert (root / rel).read_bytes() == (ROOT / source).read_bytes()
    assert os.readlink(root / "usr/bin/veilcam") == "/opt/veilcam/bin/veilcam"
    # The service user is in the groups that open the board's devices, the coral's apex too.
    members = {
        line.split(":")[0]: line.split(":")[3].split(",")
        for line in (root / "etc/group").read_text().splitlines()
    }
    assert all("veilcam" in members[g] for g in ("video", "dialout", "apex"))
    config = (root / "etc/veilcam/veilcam.toml").read_text()
    assert 'board = "coral"' in config
    # Idempotent: nothing changes the second time, and --check agrees.
    (root / "etc/veilcam/veilcam.toml").write_text(config + "# the operator's edit\n")
    again = install(root, "--board", "coral")
    assert again.returncode == 0 and again.stdout.strip() == "nothing to do: up to date", (
        again.stdout
    )
    assert "the operator's edit" in (root / "etc/veilcam/veilcam.toml").read_text()
    assert install(root, "--check", "--board", "coral").stdout.strip() == "up to date"
    # A file someone loosened is put right.
    (root / "usr/lib/systemd/system/veilcam.service").chmod(0o666)
    fixed = install(root, "--board", "coral")
    assert "installed /usr/lib/systemd/system/veilcam.service" in fixed.stdout
    assert (root / "usr/lib/systemd/system/veilcam.service").stat().st_mode & 0o777 == 0o644


def test_install_refuses_unknown_options(tmp_path: Path) -> None:
    out = install(tmp_path, "--frobnicate")
    assert out.returncode == 2 and "unknown option --frobnicate" in out.stderr
    out = install(tmp_path, "--board", "pdp11")
    assert out.returncode == 2 and "no board profile pdp11" in out.stderr
