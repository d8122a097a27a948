"""The demo store's configuration file, written into its data directory."""

from __future__ import annotations

import json
import typing
import urllib.parse
from importlib import resources
from pathlib import Path

from veilcam.config.schema import (
    MqttConfig,
    NotifyConfig,
    StorageConfig,
    StreamConfig,
    WebConfig,
)
from veilcam.durations import Range, parse_duration

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
watchlist = {watchlist}
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

# The demo fridge runs down over six simulated minutes, then is restocked: its alerts come
# within minutes of the start (simulated time: a picture follows each door opening).
[stock]
empty_warning_after = "2m"
empty_alarm_after = "4m"
compliance_after = "2m"

# Who the notice to shoppers (/privacy, /privacy/notice.pdf) names.
[privacy]
controller = "Demo Store Ltd, 1 Market Street, Springfield"
contact = "privacy@demo-store.example, +44 20 7946 0000"

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


# Up to this speed a door opening every 45 simulated seconds leaves the redaction time for
# its two pictures (opening and closing).
DOOR_PICTURES_UP_TO = 10


def _within(seconds: float, key: str) -> int:
    """``seconds``, as close as the key's range allows: sped up far, a stretched interval
    would pass the longest one the configuration accepts."""
    section, name = key.split(".")
    struct = {
        "storage": StorageConfig,
        "web": WebConfig,
        "notify": NotifyConfig,
        "stream": StreamConfig,
        "mqtt": MqttConfig,
    }[section]
    hint = typing.get_type_hints(struct, include_extras=True)[name]
    [rng] = [m for m in hint.__metadata__ if isinstance(m, Range)]
    low, high = parse_duration(rng.low), parse_duration(rng.high)
    return int(min(max(seconds, low), high))


def assets() -> Path:
    return Path(str(resources.files("veilcam.demo") / "assets"))


def write_config(
    data_dir: Path,
    port: int,
    speed: float = 1.0,
    defrost: list[str] | None = None,
    email_to: str | None = None,
    smtp: str = "127.0.0.1:25",
    research: Path | None = None,
    watchlist: bool = False,
    mqtt: str | None = None,
) -> Path:
    """The demo's config; with simulated time running ``speed`` times faster, everything
    that should keep its real-time pace (camera frames, health writes, sign-in sessions)
    is stretched by the same factor."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = data_dir / "demo.toml"
    text = DEMO_CONFIG.format(
        config=path,
        fridge=data_dir / "fridge-1-replay",
        floor=assets() / "floor",
        port=port,
        fps=f"{2 / speed:.6g}",
        still=_within(20 * speed, "stream.still_interval"),
        reaper=_within(60 * speed, "storage.reaper_interval"),
        health=_within(5 * speed, "storage.health_interval"),
        idle=_within(30 * 60 * speed, "web.session_idle"),
        # Sped up far, a picture at every door (every 45 simulated seconds on average) would
        # outrun the redaction: then pictures on demand only.
        door_delay="2s" if speed <= DOOR_PICTURES_UP_TO else "off",
        door_settle="3s" if speed <= DOOR_PICTURES_UP_TO else "off",
        session_max=_within(12 * 3600 * speed, "web.session_max"),
        defrost=json.dumps(defrost or []),
        watchlist="true" if watchlist else "false",
    )
    if email_to is not None:
        # Alarm email to a mail server on this machine; retries keep a real-time pace, quick
        # enough to see one (a mail server on loopback is cheap to ask again).
        host, _, smtp_port = smtp.rpartition(":")
        text += NOTIFY_CONFIG.format(
            to=json.dumps(email_to),
            host=json.dumps(host or "127.0.0.1"),
            port=int(smtp_port),
            retry_min=_within(5 * speed, "notify.retry_min"),
            retry_max=_within(5 * 60 * speed, "notify.retry_max"),
        )
    text += DOOR_CONFIG.format(scene=data_dir / "door-replay", fps=f"{2 / speed:.6g}")
    if research is not None:
        text += RESEARCH_CONFIG.format(scene=research)
    if mqtt is not None:
        text += _mqtt_config(data_dir, mqtt, speed)
    path.write_text(text)
    return path


# A camera over the aisle's way in, counting visitors from person shapes only (no face is
# looked at): the replayed shopper walks in and out again about once a minute.
DOOR_CONFIG = """
[[cameras]]
name = "aisle-door"
purpose = "floor"
source = {{ kind = "replay", path = "{scene}" }}
stream = {{ fps = {fps}, still_interval = "5m" }}
counting = {{ line = [[0.5, 1.0], [0.5, 0.3]] }}
triggers = {{ door_open_delay = "off", door_close_settle = "off" }}
"""


# The research scenario: a research camera over the aisle, replaying a drawn scene (a shopper
# walks to the shelf, takes a product, leaves) at its clip rate.
RESEARCH_CONFIG = """
[[cameras]]
name = "aisle-2"
purpose = "research"
research_basis = "the demo's bread-shelf study: consent of its participants"
source = {{ kind = "replay", path = "{scene}" }}
clips = {{ fps = 10, seconds = "60s", linger = "1s" }}
"""


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


def _mqtt_config(data_dir: Path, url: str, speed: float) -> str:
    """``[mqtt]`` for a broker on this machine, ``mqtt://[USER:PASSWORD@]127.0.0.1:PORT``:
    the password goes to a file beside the config, as a real installation keeps it. The
    telemetry keeps a real-time pace (every 5 s), however fast the demo runs."""
    parts = urllib.parse.urlsplit(url)
    lines = [
        "",
        "[mqtt]",
        f"url = {json.dumps(f'{parts.scheme}://{parts.hostname}:{parts.port or 1883}')}",
        'device = "demo-box"',
        'keepalive = "5s"',  # the broker says "offline" ~8 s after the demo is killed
        f'interval = "{_within(5 * speed, "mqtt.interval")}s"',
        f'retry_min = "{_within(1 * speed, "mqtt.retry_min")}s"',
        f'retry_max = "{_within(10 * speed, "mqtt.retry_max")}s"',
    ]
    if parts.username:
        secret = data_dir / "mqtt-password"
        secret.write_text(urllib.parse.unquote(parts.password or ""))
        secret.chmod(0o600)
        lines += [f"username = {json.dumps(urllib.parse.unquote(parts.username))}"]
        lines += [f"password_file = {json.dumps(str(secret))}"]
    return "\n".join(lines) + "\n"
