"""The command line: exit codes, messages, commands that need no daemon."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.daemon import run
from veilcam.cli import build_parser, main


def test_check_config_ok_and_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[retention]\nfloor_stills = "24h"\n')
    assert main(["check-config", str(good)]) == 0
    assert "ok (0 cameras, sensor line off)" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text('[retention]\nfridge_stills = "45d"\n')
    assert main(["check-config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "retention.fridge_stills: 45d exceeds the 30d cap" in err


def test_status_of_an_empty_dir_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--data-dir", str(tmp_path)]) == 2
    assert "no veilcam database in" in capsys.readouterr().err


def test_capture_without_daemon(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["capture", "fridge-1", "--data-dir", str(tmp_path)]) == 2
    assert "no veilcam daemon is running" in capsys.readouterr().err


def test_data_commands_take_data_dir() -> None:
    parser = build_parser()
    for command in ("run", "capture", "status", "verify", "demo"):
        extra = ["cam"] if command == "capture" else []
        args = parser.parse_args([command, *extra, "--data-dir", "/x"])
        assert args.data_dir == "/x"


def test_sim_sensors_prints_its_port_and_logs(tmp_path: Path) -> None:
    link = tmp_path / "tty"
    log = tmp_path / "sim.log"
    proc = run(
        "sim-sensors", "--link", str(link), "--duration", "0.5", "--log", str(log), "--seed", "1"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(link)
    kinds = [json.loads(line)["kind"] for line in log.read_text().splitlines()]
    assert kinds[0] == "plug" and kinds[-1] == "stop"
    assert not link.exists()  # cable pulled on exit


def test_bad_fault_spec(tmp_path: Path) -> None:
    proc = run("sim-sensors", "--faults", "gremlins=1", "--duration", "0.1")
    assert proc.returncode != 0 and "unknown fault 'gremlins'" in proc.stderr


def test_verify_is_audited_and_finds_tampering(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio
    import sqlite3

    from veilcam.clock import SystemClock
    from veilcam.config import RetentionConfig
    from veilcam.store import Picture, Store

    async def fill() -> str:
        async with Store(tmp_path, RetentionConfig(), SystemClock()) as store:
            return await store.add_picture(Picture("cam", "fridge", "t", b"jpeg-bytes", 1, 1))

    media_id = asyncio.run(fill())
    assert main(["verify", "--data-dir", str(tmp_path)]) == 0
    assert "pictures: 1 rows, 1 files" in capsys.readouterr().out
    conn = sqlite3.connect(tmp_path / "veilcam.db")
    assert conn.execute("SELECT action, actor FROM audit_log").fetchall()[-1][0] == "media.verify"
    conn.close()
    path = next((tmp_path / "media").rglob(f"{media_id}.vcm"))
    path.write_bytes(path.read_bytes()[:-3])
    assert main(["verify", "--data-dir", str(tmp_path)]) == 1
    assert "altered or truncated" in capsys.readouterr().err


def test_tokens_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 14, finding 4: tokens listed, made and revoked from the CLI too."""
    data = ["--data-dir", str(tmp_path / "data")]
    assert main(["tokens", "add", "--name", "screen", "--role", "auditor", *data]) == 0
    out = capsys.readouterr().out
    assert "vc_" in out and "not shown again" in out
    assert (
        main(["tokens", "add", "--name", "bad", "--role", "auditor", "--days", "999", *data]) == 2
    )
    assert "1 to 365 days" in capsys.readouterr().err
    assert main(["tokens", "list", "--json", *data]) == 0
    [token] = json.loads(capsys.readouterr().out)
    assert token["name"] == "screen" and token["state"] == "live"
    assert token["created_by"].startswith("cli:") and "token_hash" not in token
    assert main(["tokens", "revoke", "--name", "screen", *data]) == 0
    assert main(["tokens", "list", *data]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["tokens", "revoke", "--name", "screen", *data]) == 2
    assert "no live token named 'screen'" in capsys.readouterr().err
