"""The demo store: simulated sensor board, replay cameras over the shipped pictures, the daemon."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import secrets
from importlib import resources
from pathlib import Path
from typing import Any

from .app import App, running, stop_on_signals
from .clock import ScaledClock
from .config import Config, load
from .sensors.simulator import BoardSimulator, FaultRates
from .web.server import web_services

log = logging.getLogger(__name__)

DEMO_CONFIG = """\
# Written by `veilcam demo`; edit and run `veilcam run --config {config}` to use it as is.
site = "demo-store"
data_dir = "."

[sensors]
port = "ttyVC0"
sample_period_ms = 1000

[[cameras]]
name = "fridge-1"
purpose = "fridge"
source = {{ kind = "replay", path = "{fridge}" }}
[cameras.triggers]
doors = ["1"]
door_open_delay = "{door_delay}"
door_close_settle = "{door_settle}"

[[cameras]]
name = "floor-1"
purpose = "floor"
source = {{ kind = "replay", path = "{floor}" }}
[cameras.triggers]
doors = []
door_open_delay = "off"
door_close_settle = "off"
[cameras.stream]
fps = {fps}
still_interval = "{still}s"

[[cabinets]]
name = "dairy"
profile = "chiller"
probe = "1"
door = "1"
defrost_times = {defrost}
defrost_duration = "25m"

[[cabinets]]
name = "frozen"
profile = "freezer"
probe = "2"

[retention]
floor_stills = "72h"

[storage]
min_free_mb = 256
reaper_interval = "{reaper}s"
health_interval = "{health}s"

[web]
host = "127.0.0.1"
port = {port}
session_idle = "{idle}s"
session_max = "{session_max}s"
"""


def assets() -> Path:
    return Path(str(resources.files("veilcam") / "demo_assets"))


def write_config(
    data_dir: Path,
    port: int,
    speed: float = 1.0,
    defrost: list[str] | None = None,
    email_to: str | None = None,
    smtp: str = "127.0.0.1:25",
) -> Path:
    """The demo's config; with simulated time running ``speed`` times faster, everything
    that should keep its real-time pace (camera frames, health writes, sign-in sessions)
    is stretched by the same factor."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "demo.toml"
    text = DEMO_CONFIG.format(
        config=path,
        fridge=assets() / "fridge",
        floor=assets() / "floor",
        port=port,
        fps=f"{2 / speed:.6g}",
        still=int(20 * speed),
        reaper=int(60 * speed),
        health=int(5 * speed),
        idle=int(30 * 60 * speed),
        # Sped up, a picture at every door would outrun the redaction: pictures on demand.
        door_delay="2s" if speed <= 1 else "off",
        door_settle="3s" if speed <= 1 else "off",
        session_max=int(12 * 3600 * speed),
        defrost=json.dumps(defrost or []),
    )
    if email_to is not None:
        # Alarm email to a mail server on this machine; retries keep a real-time pace.
        host, _, smtp_port = smtp.rpartition(":")
        text += NOTIFY_CONFIG.format(
            to=json.dumps(email_to),
            host=json.dumps(host or "127.0.0.1"),
            port=int(smtp_port),
            retry_min=int(30 * speed),
            retry_max=int(30 * 60 * speed),
        )
    path.write_text(text)
    return path


NOTIFY_CONFIG = """
[notify]
retry_min = "{retry_min}s"
retry_max = "{retry_max}s"

[notify.email]
to = [{to}]
sender = "veilcam@demo-store.example"
host = {host}
port = {port}
security = "none"
"""


async def _first_admin(app: App) -> None:
    """No default credentials: the demo makes its administrator with a random one-time
    password, printed once, to be changed at the first sign-in."""
    from .accounts import Accounts

    accounts = Accounts(app.store)
    if await accounts.list():
        return
    password = secrets.token_urlsafe(12)
    await accounts.add("admin", "admin", password, actor="demo")

    def must_change(db: Any) -> None:
        db.conn.execute("UPDATE users SET must_change = 1 WHERE username = 'admin'")

    await app.store.db.write(must_change)
    print(
        f"veilcam demo: sign in as admin with the one-time password {password} "
        "(shown only now; you will choose a new one)",
        flush=True,
    )


async def run_demo(
    data_dir: Path,
    *,
    port: int,
    duration: float | None,
    seed: int | None,
    faults: str,
    speed: float,
    scenario: str = "normal-day",
    email_to: str | None = None,
    smtp: str = "127.0.0.1:25",
) -> None:
    defrost = None
    if scenario == "defrost-cycles":  # the board defrosts every 6 h from now: tell the rules
        start = dt.datetime.now()
        defrost = sorted({(start + dt.timedelta(hours=6 * k)).strftime("%H:%M") for k in range(4)})
    config: Config = load(write_config(data_dir, port, speed, defrost, email_to, smtp))
    assert config.sensors is not None
    sim_log = (data_dir / "sim.log").open("a")
    sim = BoardSimulator(
        Path(config.sensors.port),
        seed=seed,
        speed=speed,
        faults=FaultRates.parse(faults),
        log_file=sim_log,
        door_interval=180.0,
        scenario=scenario,
    )
    await sim.start()
    web = config.web
    try:
        with stop_on_signals() as stop:
            clock = ScaledClock(speed) if speed != 1.0 else None
            async with running(config, clock=clock, extra=web_services(config)) as app:
                if web:
                    scheme = "https" if web.tls else "http"
                    print(
                        f"veilcam demo: web UI on {scheme}://{web.host}:{web.port}/  "
                        f"data in {data_dir}  (Ctrl-C stops)",
                        flush=True,
                    )
                    await _first_admin(app)
                board = asyncio.create_task(sim.run())
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(duration):
                        await stop.wait()
                board.cancel()
                await asyncio.gather(board, return_exceptions=True)
                await asyncio.sleep(0.5)  # let the reader take what the board already sent
    finally:
        sim.close()
        sim_log.close()
