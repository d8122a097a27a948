"""Kill -9, again and again: the daemon SIGKILLed at random moments while it writes hard,
restarted each time, and what it had committed checked after every kill.

    python bench/chaos.py [--json] [--kills N] [--seed S]

The load: a sensor board on a pseudo-terminal at ~1,000 lines/s, the floor camera storing a redacted
still every second plus a manual capture every second, and a client signing in to the web
UI in a loop (each sign-in writes a session and two audit entries). Each cycle starts the
daemon, waits a random 0.3-3 s after its control socket appears (so kills land in every
phase: start-up, the orphan sweep, steady writing, mid-transaction), reads what is committed
from a read-only connection, and SIGKILLs it. After the kill, before the restart, every
row seen must still be there. After the last cycle the daemon starts once more and stops
cleanly; then `veilcam verify` must find the database intact, the audit chain whole and
no temporary file, and the media folder must hold exactly the pictures with rows.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pty
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import tty
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

from veilcam.sensors.protocol import Door, Message, Temperature, format_line

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "daemon" / "demo" / "assets"
PW = "chaos password 12345"
VEILCAM = [sys.executable, "-m", "veilcam"]
CONFIG = """
data_dir = "{data}"
[sensors]
port = "{tty}"
sample_period_ms = 100
[[cameras]]
name = "fridge-1"
purpose = "fridge"
source = {{ kind = "replay", path = "{assets}/fridge" }}
triggers = {{ door_open_delay = "off", door_close_settle = "off" }}
[[cameras]]
name = "floor-1"
purpose = "floor"
source = {{ kind = "replay", path = "{assets}/floor" }}
triggers = {{ door_open_delay = "off", door_close_settle = "off" }}
stream = {{ fps = 4, still_interval = "1s" }}
[storage]
min_free_mb = 0
health_interval = "1s"
[web]
host = "127.0.0.1"
port = {port}
tls = false
"""


def snapshot(db: Path) -> dict[str, Any]:
    """What is committed, read as any other reader would."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return {
            "media": {r[0] for r in conn.execute("SELECT id FROM media")},
            "temps": {r[0] for r in conn.execute("SELECT id FROM temperature_readings")},
            "audit": {r[0] for r in conn.execute("SELECT id FROM audit_log")},
            "sessions": conn.execute("SELECT count(*) FROM sessions").fetchone()[0],
        }
    finally:
        conn.close()


def wait_for(path: Path, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if proc.poll() is not None:
            raise RuntimeError(f"the daemon exited ({proc.returncode}) before {path.name}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {path.name} after {seconds} s")
        time.sleep(0.02)


class Board:
    """A sensor board that sends ~1,000 valid lines/s (two probes, a door now and then) on a
    pseudo-terminal linked at ``link``, whether or not anyone is reading."""

    def __init__(self, link: Path, rate: float = 1000.0) -> None:
        self.master, slave = pty.openpty()
        tty.setraw(slave)
        os.set_blocking(self.master, False)
        self.slave = slave
        link.symlink_to(os.ttyname(slave))
        self.rate = rate
        self.sent = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Board:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        os.close(self.master)
        os.close(self.slave)

    def _run(self) -> None:
        seq, t0 = 0, time.monotonic()
        while not self.stop.wait(0.01):
            due = int((time.monotonic() - t0) * self.rate) - self.sent
            lines = []
            for _ in range(max(0, due)):
                seq += 1
                up = int((time.monotonic() - t0) * 1000)
                msg: Message = (
                    Door(seq % 65536, up, "1", seq % 2 == 0)
                    if seq % 100 == 0
                    else Temperature(seq % 65536, up, str(1 + seq % 2), 300 + seq % 100)
                )
                lines.append(format_line(msg))
            with contextlib.suppress(BlockingIOError, OSError):
                os.write(self.master, b"".join(lines))
            with contextlib.suppress(BlockingIOError, OSError):
                os.read(self.master, 65536)  # what the host says: S and C lines
            self.sent += len(lines)


class Load:
    """Captures and sign-ins against whichever daemon is up, until stopped."""

    def __init__(self, cfg: Path, port: int) -> None:
        self.cfg, self.port = cfg, port
        self.stop = threading.Event()
        self.logins = 0
        self.captures = 0
        self.threads = [
            threading.Thread(target=self._capture, daemon=True),
            threading.Thread(target=self._sign_in, daemon=True),
        ]

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)

    def _capture(self) -> None:
        while not self.stop.wait(1.0):
            done = subprocess.run(
                [*VEILCAM, "capture", "fridge-1", "--config", str(self.cfg)],
                capture_output=True,
                timeout=60,
            )
            self.captures += done.returncode == 0

    def _sign_in(self) -> None:
        base = f"http://127.0.0.1:{self.port}"
        while not self.stop.wait(0.1):
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
            try:
                page = opener.open(base + "/login", timeout=5).read().decode()
                m = re.search(r'name="csrf" value="([^"]+)"', page)
                if not m:
                    continue
                form = {"username": "maria", "password": PW, "csrf": m.group(1), "next": "/"}
                r = opener.open(base + "/login", urllib.parse.urlencode(form).encode(), timeout=5)
                self.logins += r.status == 200
            except (urllib.error.URLError, OSError, ValueError):
                pass  # the daemon is down or going down: that is the test


def run(kills: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    with tempfile.TemporaryDirectory(prefix="veilcam-chaos-") as tmp:
        data, link, cfg = Path(tmp) / "data", Path(tmp) / "tty", Path(tmp) / "veilcam.toml"
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        cfg.write_text(CONFIG.format(data=data, tty=link, assets=ASSETS, port=port))
        subprocess.run(
            [*VEILCAM, "users", "add", "--config", str(cfg), "--username", "maria"]
            + ["--role", "manager", "--password-stdin"],
            input=(PW + "\n").encode(),
            check=True,
            capture_output=True,
        )
        lost: list[str] = []
        swept = 0
        t0 = time.monotonic()
        with Board(link) as board:
            sock = data / "control.sock"
            with Load(cfg, port) as load:
                for _ in range(kills):
                    daemon = subprocess.Popen(
                        [*VEILCAM, "run", "--config", str(cfg)],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE,
                    )
                    wait_for(sock, daemon)
                    time.sleep(rng.uniform(0.3, 3.0))
                    seen = snapshot(data / "veilcam.db")
                    daemon.send_signal(signal.SIGKILL)
                    _, err = daemon.communicate(timeout=30)
                    swept += sum(int(m) for m in re.findall(rb"removed (\d+) media files", err))
                    after = snapshot(data / "veilcam.db")
                    for what in ("media", "temps", "audit"):
                        if missing := seen[what] - after[what]:
                            lost.append(f"{len(missing)} {what} rows after a kill")
                    sock.unlink(missing_ok=True)  # a killed daemon leaves it behind
                captures, logins = load.captures, load.logins
            daemon = subprocess.Popen([*VEILCAM, "run", "--config", str(cfg)], **quiet)
            wait_for(sock, daemon)
            time.sleep(2)
            daemon.send_signal(signal.SIGTERM)
            clean_stop = daemon.wait(timeout=60) == 0
            lines_sent = board.sent
        final = snapshot(data / "veilcam.db")
        verify = subprocess.run(
            [*VEILCAM, "verify", "--data-dir", str(data)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        files = {p.stem for p in (data / "media").glob("*/*.vcm")}
        return {
            "bench": "chaos",
            "kills": kills,
            "seconds": round(time.monotonic() - t0),
            "committed_rows_lost": len(lost),
            "lost": lost,
            "integrity_ok": "database: integrity ok" in verify.stdout,
            "audit_chain_ok": verify.returncode == 0 and "audit log:" in verify.stdout,
            "verify_exit": verify.returncode,
            "orphan_files_left": len(files - final["media"]),
            "rows_without_file": len(final["media"] - files),
            "orphans_swept_at_restarts": swept,
            "clean_final_stop": clean_stop,
            "pictures": len(final["media"]),
            "readings": len(final["temps"]),
            "lines_sent_per_s": round(lines_sent / (time.monotonic() - t0)),
            "audit_entries": len(final["audit"]),
            "captures_answered": captures,
            "sign_ins": logins,
            "verify": verify.stdout.strip().splitlines()[-6:],
        }


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--kills", type=int, default=100)
    p.add_argument("--seed", type=int, default=14)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    result = run(args.kills, args.seed)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    ok = (
        result["committed_rows_lost"] == 0
        and result["integrity_ok"]
        and result["audit_chain_ok"]
        and result["orphan_files_left"] == 0
        and result["rows_without_file"] == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
