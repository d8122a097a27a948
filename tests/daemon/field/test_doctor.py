"""``veilcam doctor`` against a board laid out in a scratch root: a healthy one passes, and
each fault the issue names is reported with its fix, with the exit code saying whether the
appliance can run."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from veilcam.cli import main
from veilcam.field.doctor import Doctor, Machine
from veilcam.field.profile import FieldProfile
from veilcam.vision import models

VIDEO_GID = os.getgid()  # the scratch devices' group, named video in the scratch etc/group


def board(tmp: Path, cache: Path) -> Path:
    """A healthy board under ``tmp``: user, groups, devices, data directory, config."""
    root = tmp / "root"
    (root / "etc/veilcam").mkdir(parents=True)
    (root / "dev").mkdir()
    (root / "run/systemd/timesync").mkdir(parents=True)
    (root / "run/systemd/timesync/synchronized").touch()
    uid = os.getuid()
    (root / "etc/passwd").write_text(f"veilcam:x:{uid}:{VIDEO_GID}::/var/lib/veilcam:/bin/false\n")
    (root / "etc/group").write_text(
        f"video:x:{VIDEO_GID}:veilcam\ndialout:x:60020:veilcam\nrender:x:60021:veilcam\napex:x:60022:veilcam\n"
    )
    for node in ("video0", "ttyVC0"):
        (root / "dev" / node).touch()
        os.chmod(root / "dev" / node, 0o660)
    data = root / "var/lib/veilcam"
    data.mkdir(parents=True, mode=0o750)
    os.chmod(data, 0o750)
    (root / "etc/veilcam/veilcam.toml").write_text(
        f"""data_dir = "/var/lib/veilcam"
[vision]
models_dir = "{cache}"
[storage]
min_free_mb = 1
[sensors]
port = "/dev/ttyVC0"
[[cameras]]
name = "fridge-1"
purpose = "fridge"
source = {{ kind = "v4l2", device = "/dev/video0" }}
"""
    )
    zone = root / "sys/class/thermal/thermal_zone0"
    zone.mkdir(parents=True)
    (zone / "temp").write_text("52000\n")
    return root


@pytest.fixture
def cache(tmp_path: Path, model_cache: Path) -> Path:
    """A copy of the model cache (links; the one a test alters is a real copy)."""
    c = tmp_path / "models"
    c.mkdir()
    for f in model_cache.iterdir():
        if f.is_file():
            (c / f.name).symlink_to(f)
    return c


def doctor(root: Path, *extra: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    rc = main(
        ["doctor", "--config", "/etc/veilcam/veilcam.toml", "--root", str(root), "--json", *extra]
    )
    return rc, json.loads(capsys.readouterr().out)


def problems(report: dict, check: str, level: str = "problem") -> list[dict]:
    return [f for f in report["findings"] if f["check"] == check and f["level"] == level]


def test_healthy_board_can_run(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, report = doctor(board(tmp_path, cache), capsys=capsys)
    assert rc == 0 and report["can_run"], report
    assert {f["level"] for f in report["findings"]} == {"ok"}, report


def test_missing_camera_device(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = board(tmp_path, cache)
    (root / "dev/video0").unlink()
    rc, report = doctor(root, capsys=capsys)
    (found,) = problems(report, "devices")
    assert rc == 1 and "camera fridge-1: /dev/video0 does not exist" in found["message"]
    assert "udevadm trigger" in found["fix"]


def test_missing_group(tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = board(tmp_path, cache)
    group = root / "etc/group"
    group.write_text(group.read_text().replace("dialout:x:60020:veilcam", "dialout:x:60020:"))
    rc, report = doctor(root, capsys=capsys)
    (found,) = problems(report, "groups")
    assert rc == 1 and found["message"] == "veilcam is not in group dialout"
    assert found["fix"] == "usermod -aG dialout veilcam"
    group.write_text(f"video:x:{VIDEO_GID}:veilcam\n")  # no dialout group at all
    rc, report = doctor(root, capsys=capsys)
    assert [f["fix"] for f in problems(report, "groups")] == ["groupadd --system dialout"]


def test_model_with_a_wrong_hash(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = board(tmp_path, cache)
    target = cache / "palm_lite.tflite"
    data = bytearray(target.read_bytes())
    target.unlink()
    data[1000] ^= 0xFF
    target.write_bytes(bytes(data))
    rc, report = doctor(root, capsys=capsys)
    (found,) = problems(report, "models")
    assert rc == 1 and "palm_lite" in found["message"]
    assert found["fix"] == f"veilcam models fetch --cache {cache}"


def test_full_disk(tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A real full file system: a 2 MB tmpfs as the data directory, filled."""
    root = board(tmp_path, cache)
    data = root / "var/lib/veilcam"
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0750", "tmpfs", str(data)], capture_output=True
    ).returncode:
        pytest.skip("cannot mount a tmpfs here (not root)")
    try:
        with open(data / "fill", "wb") as f, pytest.raises(OSError):
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        rc, report = doctor(root, capsys=capsys)
        (found,) = problems(report, "disk")
        assert rc == 1 and found["message"].startswith("0 MB free")
        assert "journalctl --vacuum-size" in found["fix"]
    finally:
        subprocess.run(["umount", str(data)], check=True)


def test_below_the_configured_free_space(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = board(tmp_path, cache)
    conf = root / "etc/veilcam/veilcam.toml"
    conf.write_text(conf.read_text().replace("min_free_mb = 1", "min_free_mb = 1000000"))
    rc, report = doctor(root, capsys=capsys)
    assert rc == 1 and "below 1000000 MB" in problems(report, "disk")[0]["message"]


def test_unsynchronised_clock(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = board(tmp_path, cache)
    (root / "run/systemd/timesync/synchronized").unlink()
    rc, report = doctor(root, capsys=capsys)
    (found,) = problems(report, "clock", "warning")
    assert rc == 0 and "not synchronised" in found["message"]  # it runs, with a warning
    assert "timedatectl set-ntp true" in found["fix"]


def test_clock_before_any_build_cannot_run(tmp_path: Path, cache: Path) -> None:
    class Epoch(Machine):
        def now(self) -> dt.datetime:
            return dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

    root = board(tmp_path, cache)
    d = Doctor(FieldProfile.load("generic"), root / "etc/veilcam/veilcam.toml", Epoch(root))
    found = [f for f in d.run() if f.check == "clock"]
    assert found[0].level == "problem" and "1970-01-01" in found[0].message


def test_absent_accelerator_runtime(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = board(tmp_path, cache)
    rc, report = doctor(root, "--board", "coral", capsys=capsys)
    warned = {f["message"] for f in problems(report, "accelerator", "warning")}
    assert "tflite-runtime absent: LiteRT on the CPU" in warned  # not installed here
    assert "/dev/apex_0 missing: the models run on the CPU" in warned
    assert rc == 0  # the CPU does the work
    rc, report = doctor(root, "--board", "jetson", capsys=capsys)
    messages = " ".join(f["message"] for f in problems(report, "accelerator", "warning"))
    assert "CUDAExecutionProvider" in messages or "ONNX Runtime absent" in messages


def test_device_its_user_cannot_open(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = board(tmp_path, cache)
    os.chmod(root / "dev/ttyVC0", 0o600)
    rc, report = doctor(root, capsys=capsys)
    assert rc == 1 and "chmod g+rw /dev/ttyVC0" in problems(report, "devices")[0]["fix"]


def test_hot_board(tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = board(tmp_path, cache)
    (root / "sys/class/thermal/thermal_zone0/temp").write_text("101000\n")
    rc, report = doctor(root, capsys=capsys)
    assert rc == 1 and problems(report, "thermal")[0]["message"].startswith("101 °C")


def test_plain_output_names_the_fix(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = board(tmp_path, cache)
    shutil.rmtree(root / "var/lib/veilcam")
    rc = main(["doctor", "--config", "/etc/veilcam/veilcam.toml", "--root", str(root)])
    out = capsys.readouterr().out
    assert rc == 1
    assert "PROBLEM  permissions: data directory" in out
    assert "fix: systemd-tmpfiles --create" in out
    assert out.rstrip().endswith("warning(s)") and "veilcam cannot run: 1 problem(s)" in out
    assert models.default_cache()  # the real cache is left alone
