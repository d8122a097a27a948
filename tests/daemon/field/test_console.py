"""The serial console over real pseudo-terminals, driven by pexpect: ``veilcam console --port``
on a pty's far end, a technician typing at the near end, beside a running daemon (with a
simulated sensor board and a replay camera) or on the store alone."""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest
from pexpect import fdpexpect

from tests.support.daemon import DEMO_ASSETS, free_port, run, veilcam, wait_for_socket
from veilcam.errors import StoreError
from veilcam.store.keys import KeyRing, read_media
from veilcam.store.media import MediaStore

pytestmark = pytest.mark.slow

TECH, TECH_PW = "tech", "sensor-line-42-checks"
ADMIN, ADMIN_PW = "owner", "two-administrators-at-most"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[>=]")


def write_config(tmp: Path, tty: Path | None = None) -> Path:
    data = tmp / "data"
    sensors = f'[sensors]\nport = "{tty}"\n' if tty else ""
    cfg = tmp / "veilcam.toml"
    cfg.write_text(
        f'data_dir = "{data}"\n'
        '[storage]\nhealth_interval = "1s"\n'
        f"[web]\nport = {free_port()}\n"
        f"{sensors}"
        '[[cameras]]\nname = "fridge-1"\npurpose = "fridge"\n'
        f'source = {{ kind = "replay", path = "{DEMO_ASSETS / "fridge"}" }}\n'
        'triggers = { door_open_delay = "off", door_close_settle = "off" }\n'
        '[[cameras]]\nname = "aisle"\npurpose = "floor"\n'
        f'source = {{ kind = "replay", path = "{DEMO_ASSETS / "floor"}" }}\n'
        'triggers = { door_open_delay = "off", door_close_settle = "off" }\n'
    )
    return cfg


def add_user(cfg: Path, name: str, role: str, password: str) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "veilcam",
            "users",
            "add",
            "--config",
            str(cfg),
            "--username",
            name,
            "--role",
            role,
            "--password-stdin",
        ],
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr


class Session:
    """A console on a pty: ``child`` is pexpect on the near end; ``transcript`` all it read."""

    def __init__(self, cfg: Path, *extra: str, term: str = "dumb") -> None:
        self.master, self.slave = os.openpty()
        port = os.ttyname(self.slave)
        self.log = open(cfg.parent / "console.err", "a")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "veilcam",
                "console",
                "--port",
                port,
                "--config",
                str(cfg),
                "--term",
                term,
                *extra,
            ],
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
        )
        self.child = fdpexpect.fdspawn(self.master, timeout=60, encoding="utf-8")
        self.chunks: list[str] = []
        self.child.logfile_read = self  # type: ignore[assignment]

    def write(self, s: str) -> None:  # pexpect's read log: the whole transcript
        self.chunks.append(s)

    def flush(self) -> None:
        pass

    @property
    def transcript(self) -> str:
        return "".join(self.chunks)

    def login(self, user: str, password: str) -> None:
        self.child.expect("login: ")
        self.child.sendline(user)
        self.child.expect("password: ")
        self.child.sendline(password)

    def command(self, line: str, *expect: str, timeout: float = 60) -> str:
        """Type ``line``; wait for each of ``expect`` and then the next prompt; the output."""
        start = len(self.transcript)
        self.child.sendline(line)
        for pattern in expect:
            self.child.expect(pattern, timeout=timeout)
        self.child.expect(r"@veilcam> ", timeout=timeout)
        return self.transcript[start:]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass
        self.log.close()


@pytest.fixture
def store_only(tmp_path: Path) -> Path:
    cfg = write_config(tmp_path)
    add_user(cfg, TECH, "technician", TECH_PW)
    add_user(cfg, ADMIN, "admin", ADMIN_PW)
    return cfg


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Path]:
    """A daemon with a simulated sensor board and two replay cameras."""
    tty = tmp_path / "tty"
    cfg = write_config(tmp_path, tty)
    add_user(cfg, TECH, "technician", TECH_PW)
    add_user(cfg, ADMIN, "admin", ADMIN_PW)
    sim = veilcam(
        "sim-sensors",
        "--link",
        str(tty),
        "--speed",
        "20",
        "--door-interval",
        "5",
        stderr=subprocess.DEVNULL,
    )
    assert sim.stdout is not None and sim.stdout.readline().strip() == str(tty)
    err = open(tmp_path / "daemon.err", "w")
    daemon = veilcam("run", "--config", str(cfg), stderr=err)
    try:
        wait_for_socket(tmp_path / "data", daemon)
        yield cfg
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.communicate(timeout=30)
        sim.send_signal(signal.SIGINT)
        sim.communicate(timeout=10)
        err.close()


def audit(cfg: Path) -> list[tuple[str, str, str | None, str | None]]:
    with sqlite3.connect(cfg.parent / "data" / "veilcam.db") as conn:
        return conn.execute(
            "SELECT actor, action, object, detail FROM audit_log ORDER BY id"
        ).fetchall()


def test_wrong_password_refused_and_audited(store_only: Path) -> None:
    s = Session(store_only)
    try:
        s.login(TECH, "not-the-password")
        s.child.expect("login refused")
        s.login(TECH, TECH_PW)
        s.child.expect("signed in as console:tech \\(technician\\), on the store")
        s.child.sendline("exit")
        s.child.expect("signed out")
    except (pexpect.TIMEOUT, pexpect.EOF):
        pytest.fail(s.transcript)
    finally:
        s.close()
    rows = audit(store_only)
    assert (TECH, "login.failed", TECH, "bad password") in rows
    assert ("console:tech", "console.login") == rows[-3][:2] or any(
        r[:2] == ("console:tech", "console.login") for r in rows
    )
    assert "not-the-password" not in s.transcript  # the terminal never echoed it


def test_every_command_beside_the_running_daemon(running: Path, tmp_path: Path) -> None:
    log = tmp_path / "daemon.err"
    s = Session(running, "--log-file", str(log))
    try:
        started = time.monotonic()
        s.login(TECH, "a-wrong-password")  # refused by the daemon: delayed like any refusal
        s.child.expect("login refused")
        assert time.monotonic() - started >= 0.9
        s.login(TECH, TECH_PW)
        s.child.expect("through the daemon")
        s.child.expect("@veilcam> ")
        out = s.command("help", "factory-reset")
        assert all(len(line) <= 80 for line in out.splitlines())  # an 80-column terminal
        out = s.command("status", "daemon: running")
        assert "models:" in out and "disk:" in out and "clock:" in out
        assert re.search(
            r"SHA-256:\r\n    ([0-9A-F]{2}:){15}[0-9A-F]{2}\r\n    ([0-9A-F]{2}:){15}", out
        )
        out = s.command("sensors 4", "probe ")
        assert re.search(r"probe \S+ +-?\d+\.\d\d °C", out) and "door " in out
        out = s.command("camera test aisle", "focus", "advice")
        assert re.search(r"frame +1280x720 \(floor camera\)", out)
        assert re.search(r"redacted regions: .*person", out), out
        assert re.search(r"exposure +mean level \d+/255", out)
        out = s.command("camera test fridge-1", "advice")
        out = s.command("calibrate fridge-1", "(reference of fridge-1 taken|refused)")
        out = s.command("calibrate aisle", "only fridges take a reference")
        out = s.command("retention run", "retention: \\d+ pictures")
        out = s.command("db check", "db check: ok")
        out = s.command("config check", "veilcam.toml: ok")
        out = s.command("config show", "fridge-1")
        out = s.command("logs 5", "INFO")
        assert len([ln for ln in out.splitlines() if " INFO " in ln]) <= 5
        s.child.sendline("logs 1 --follow 4")
        time.sleep(1.5)  # following by now: a line written next comes through
        with log.open("a") as f:  # the daemon appends to it meanwhile too
            f.write("2026-12-06 12:00:00 INFO test: a line written while following\n")
        s.child.expect("a line written while following")
        s.child.expect("@veilcam> ")
        out = s.command("time", "synchronised: (yes|no)")
        out = s.command("time set '2020-01-01 00:00'", "not a date this board can be at")
        out = s.command("net", "lo ")
        out = s.command("nonsense", "unknown command 'nonsense'")
        s.child.sendline("exit")
        s.child.expect("signed out")
        s.child.expect("login: ")
    except (pexpect.TIMEOUT, pexpect.EOF):
        pytest.fail(s.transcript[-4000:])
    finally:
        s.close()
    transcript = s.transcript
    # No picture in any form: no JPEG or PNG bytes, no base64 runs, no data URLs.
    for marker in ("\xff\xd8\xff", "JFIF", "\x89PNG", "data:image", "/9j/", "iVBORw0"):
        assert marker not in transcript
    assert not re.search(r"[A-Za-z0-9+/]{120,}", transcript)
    rows = audit(running)
    actions = [(a, act) for a, act, _, _ in rows]
    commands = {o for a, act, o, _ in rows if a == "console:tech" and act == "console.command"}
    every = {"help", "status", "sensors", "camera", "calibrate", "retention", "db", "config"}
    assert every | {"logs", "time", "net"} <= commands, commands
    assert ("console:tech", "console.command.unknown") in actions
    assert not any("nonsense" in str(r) for r in rows)
    assert ("console:tech", "console.camera-test") in actions
    assert ("console:tech", "console.logout") in actions


def test_net_set_writes_the_network_file(store_only: Path, tmp_path: Path) -> None:
    root = tmp_path / "image"
    s = Session(store_only, "--root", str(root))
    try:
        s.login(TECH, TECH_PW)
        s.child.expect("@veilcam> ")
        s.command("net set eth0 192.168.7.20/24 192.168.7.1", "systemd-networkd: eth0")
        s.command("net set eth0 192.168.7.20/24 10.0.0.1", "outside 192.168.7.0/24")
        s.command("net set eth0 192.168.7.20", "give the prefix too")
        s.command("time set '2027-03-01 10:00'", "clock left alone")
    except (pexpect.TIMEOUT, pexpect.EOF):
        pytest.fail(s.transcript[-3000:])
    finally:
        s.close()
    text = (root / "etc/systemd/network/10-veilcam-eth0.network").read_text()
    assert "Address=192.168.7.20/24" in text and "Gateway=192.168.7.1" in text


def test_recovery_code_signs_in_once(store_only: Path) -> None:
    out = run("console", "--config", str(store_only), "--new-recovery-code")
    assert out.returncode == 0, out.stderr
    code = out.stdout.strip()
    assert re.fullmatch(r"([2-9a-z]{5}-){3}[2-9a-z]{5}", code)
    s = Session(store_only)
    try:
        s.login("recovery", code)
        s.child.expect("signed in as console:recovery")
        s.child.sendline("exit")
        s.child.expect("signed out")
        s.login("recovery", code)  # used up
        s.child.expect("login refused", timeout=30)
    except (pexpect.TIMEOUT, pexpect.EOF):
        pytest.fail(s.transcript)
    finally:
        s.close()
    assert not (store_only.parent / "data" / "console-recovery").exists()


def test_reset_admin_needs_confirmation_and_tells_both(store_only: Path) -> None:
    s = Session(store_only)
    try:
        s.login(TECH, TECH_PW)
        s.child.expect("@veilcam> ")
        s.child.sendline("users reset-admin owner")
        s.child.expect("type owner again")
        s.command("owner-typo", "nothing done")
        s.child.sendline("users reset-admin tech")
        s.child.expect("type tech again")
        s.command("tech", "not an administrator")
        s.child.sendline("users reset-admin owner")
        s.child.expect("type owner again")
        out = s.command("owner", "one-time password for owner: ")
        password = re.search(r"one-time password for owner: (\S+)", out)
        assert password
    except (pexpect.TIMEOUT, pexpect.EOF):
        pytest.fail(s.transcript)
    finally:
        s.close()
    rows = audit(store_only)
    assert ("console:tech", "console.reset-admin.cancelled", "owner", None) in rows
    assert (
        "console:tech",
        "console.reset-admin",
        "owner",
        "one-time password, must change",
    ) in rows
    with sqlite3.connect(store_only.parent / "data" / "veilcam.db") as conn:
        alarm = conn.execute("SELECT source, subject, rule, message FROM alarms").fetchone()
        assert alarm[:3] == ("accounts", "owner", "admin_reset") and "tech" in alarm[3]
        mails = conn.execute("SELECT subject FROM outbox").fetchall()
        assert ("veilcam: administrator owner's password reset",) in mails
        must = conn.execute("SELECT must_change FROM users WHERE username = 'owner'").fetchone()
        assert must == (1,)
    # The old password no longer works; the new one is right but must first be changed
    # in the web UI (the console has no way to change it).
    s = Session(store_only)
    try:
        s.login(ADMIN, ADMIN_PW)
        s.child.expect("login refused")
        s.login(ADMIN, password.group(1))
        s.child.expect("password correct but to be changed: sign in to the web UI once first")
    except (pexpect.TIMEOUT, pexpect.EOF):
        pytest.fail(s.transcript)
    finally:
        s.close()


def _store_pictures(data: Path, count: int = 3) -> list[tuple[str, bytes]]:
    """Pictures in the store as the daemon keeps them (encrypted, each its own key)."""
    import asyncio

    from veilcam.clock import SystemClock
    from veilcam.config import RetentionConfig
    from veilcam.store import Store
    from veilcam.store.store import Picture

    jpeg = (DEMO_ASSETS / "fridge" / "shelf-2-shopper.jpg").read_bytes()

    async def add() -> list[str]:
        async with Store(data, RetentionConfig(), SystemClock()) as store:
            pic = Picture("fridge-1", "fridge", "manual", jpeg, 1280, 720)
            return [await store.add_picture(pic) for _ in range(count)]

    return [(media_id, jpeg) for media_id in asyncio.run(add())]


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_factory_reset(store_only: Path, tmp_path: Path) -> None:
    data = store_only.parent / "data"
    pictures = _store_pictures(data)
    copies = _files(data / "media")  # what flash wear-levelling or a backup might keep
    keys_before = _files(data / "keys")
    assert len(copies) == 3 and keys_before
    copy = tmp_path / "copy"
    shutil.copytree(data / "media", copy)
    with sqlite3.connect(data / "veilcam.db") as conn:
        rows = conn.execute("SELECT id, kid, dek, dek_next FROM media").fetchall()
    ring = KeyRing(data / "keys", create=False)  # before: the copies read back, as a control
    for (media_id, kid, dek, dek_next), (_, jpeg) in zip(rows, pictures, strict=True):
        assert read_media(ring, MediaStore(copy), media_id, kid, dek, dek_next) == jpeg
    s = Session(store_only)
    try:
        s.login(TECH, TECH_PW)
        s.child.expect("@veilcam> ")
        s.child.sendline("factory-reset")
        s.child.expect("type FACTORY RESET to confirm: ")
        s.command("factory reset", "nothing done")  # not exactly the words: nothing happens
        assert _files(data / "media") == copies and _files(data / "keys") == keys_before
        s.child.sendline("factory-reset")
        s.child.expect("type FACTORY RESET to confirm: ")
        s.child.sendline("FACTORY RESET")
        s.child.expect(r"factory reset done: (\d+) keys destroyed")
        s.login(TECH, TECH_PW)  # the accounts went with the database
        s.child.expect("cannot sign in: no veilcam database")
    except (pexpect.TIMEOUT, pexpect.EOF):
        pytest.fail(s.transcript)
    finally:
        s.close()
    left = _files(data)
    assert not any(name.startswith(("keys", "media", "veilcam.db")) for name in left), left
    for blob in left.values():
        assert b"\xff\xd8\xff" not in blob and b"JFIF" not in blob
    # Even with a copy of the media files and of the database rows that wrapped their keys
    # (taken before the reset: a backup, or blocks the flash kept), nothing decrypts: the
    # key that wrapped them is gone.
    with pytest.raises(StoreError):
        ring = KeyRing(data / "keys", create=False)
        for media_id, kid, dek, dek_next in rows:
            read_media(ring, MediaStore(copy), media_id, kid, dek, dek_next)


def test_editing_terminal_completes_and_remembers(store_only: Path) -> None:
    """On a VT100 terminal (prompt_toolkit): Tab completes a command, the up arrow brings
    back the last line, the password is never echoed. Its screen updates put escape
    sequences between the words, so the patterns stop short of spaces."""
    s = Session(store_only, term="vt100")
    c = s.child
    try:
        c.expect("login:")
        c.send(TECH + "\r")
        c.expect("password:")
        c.send(TECH_PW + "\r")
        c.expect("signed in as console:tech")
        c.expect("@veilcam>")
        c.send("config ch\t")  # Tab: "config check", the only completion
        c.expect("eck")
        c.send("\r")
        c.expect("veilcam.toml: ok")
        c.expect("@veilcam>")
        c.send("\x1b[A")  # up: the last line again
        c.expect("check")
        c.send("\r")
        c.expect("veilcam.toml: ok")
        c.expect("@veilcam>")
        c.send("exit\r")
        c.expect("signed out")
    except (pexpect.TIMEOUT, pexpect.EOF):
        pytest.fail(ANSI.sub("", s.transcript))
    finally:
        s.close()
    assert TECH_PW not in s.transcript
    typed = [d for a, act, _, d in audit(store_only) if act == "console.command"]
    assert typed == ["config check", "config check"]  # completed, then recalled


def test_idle_console_signs_out(store_only: Path) -> None:
    s = Session(store_only, "--idle", "1")
    try:
        s.login(TECH, TECH_PW)
        s.child.expect("@veilcam> ")
        s.child.expect("signed out: idle", timeout=20)
        s.child.expect("login: ")
    except (pexpect.TIMEOUT, pexpect.EOF):
        pytest.fail(s.transcript)
    finally:
        s.close()
    assert ("console:tech", "console.logout") in [(a, act) for a, act, _, _ in audit(store_only)]


def test_daemon_restart_signs_the_console_out(tmp_path: Path) -> None:
    """Sessions live in the daemon's memory: after its restart the next command says so and
    the console asks for a sign-in again, instead of failing every command."""
    cfg = write_config(tmp_path)
    add_user(cfg, TECH, "technician", TECH_PW)
    data = tmp_path / "data"
    daemon = veilcam("run", "--config", str(cfg), stderr=subprocess.DEVNULL)
    s = Session(cfg)
    try:
        wait_for_socket(data, daemon)
        s.login(TECH, TECH_PW)
        s.child.expect("through the daemon")
        s.child.expect("@veilcam> ")
        daemon.send_signal(signal.SIGTERM)
        daemon.communicate(timeout=30)
        daemon = veilcam("run", "--config", str(cfg), stderr=subprocess.DEVNULL)
        wait_for_socket(data, daemon)
        s.child.sendline("help")
        s.child.expect("console session unknown or expired")
        s.child.expect("signed out: sign in again")
        s.login(TECH, TECH_PW)
        s.child.expect("through the daemon")
    except (pexpect.TIMEOUT, pexpect.EOF):
        pytest.fail(s.transcript)
    finally:
        s.close()
        daemon.send_signal(signal.SIGTERM)
        daemon.communicate(timeout=30)
