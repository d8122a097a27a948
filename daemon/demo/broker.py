"""The demo's own MQTT broker: Debian's Mosquitto on a free loopback port, for
``veilcam demo --mqtt local`` (what ``make run`` uses), so the fleet view has something to
watch. Anonymous, loopback only, nothing kept on disk; stopped with the demo."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mosquitto_binary() -> str | None:
    found = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    return found if Path(found).exists() else None


@contextlib.contextmanager
def local_broker(folder: Path) -> Iterator[str | None]:
    """``mqtt://127.0.0.1:PORT`` of a Mosquitto started here, or None (with the reason
    printed) where it is not installed."""
    binary = mosquitto_binary()
    if binary is None:
        print("veilcam demo: no MQTT broker (install mosquitto: make system-deps)", flush=True)
        yield None
        return
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    conf = folder / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    log = (folder / "mosquitto.log").open("ab")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                print(f"veilcam demo: mosquitto did not start (see {folder})", flush=True)
                yield None
                return
            time.sleep(0.05)
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
