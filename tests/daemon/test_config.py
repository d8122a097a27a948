from pathlib import Path

import pytest

from veilcam import config
from veilcam.durations import Duration, format_duration, is_on
from veilcam.errors import ConfigError
from veilcam.retention import CLASSES

CAMERA = """
[[cameras]]
name = "fridge-1"
purpose = "fridge"
source = { kind = "replay", path = "pics" }
"""


def test_defaults_are_valid() -> None:
    cfg = config.loads("")
    assert cfg.cameras == [] and cfg.sensors is None
    for name, rc in CLASSES.items():
        assert cfg.retention.seconds(name) == rc.default


@pytest.mark.parametrize("name", [n for n, rc in CLASSES.items() if rc.cap is not None])
def test_every_cap_is_enforced(name: str) -> None:
    over = format_duration(CLASSES[name].cap + 3600)
    with pytest.raises(ConfigError, match=rf"retention\.{name}: {over} exceeds the .* cap"):
        config.loads(f'[retention]\n{name} = "{over}"')


@pytest.mark.parametrize("name", [n for n, c in CLASSES.items() if c.floor is None])
def test_shorter_limits_are_accepted(name: str) -> None:
    cfg = config.loads(f'[retention]\n{name} = "1h"')
    assert cfg.retention.seconds(name) == 3600


def test_sensor_records_have_no_cap() -> None:
    assert config.loads('[retention]\nsensor_records = "3650d"').retention.sensor_records


def test_sensor_records_are_kept_at_least_a_year() -> None:
    with pytest.raises(ConfigError, match="shorter than the 365d .* must be kept for food safety"):
        config.loads('[retention]\nsensor_records = "90d"')


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[retention]\nfrige_stills = "1d"', r"retention\.frige_stills: unknown key"),
        ('colour = "red"', r"colour: unknown key"),
        ('[retention]\nfridge_stills = "30 days"', r"retention\.fridge_stills: not a duration"),
        ("[storage]\nmin_free_mb = -1", r"storage\.min_free_mb: Expected `int` >= 0"),
        (CAMERA.replace('"replay"', '"webcam"'), r"cameras\[0\]\.source\.kind: .*one of"),
        (CAMERA.replace('kind = "replay", ', ""), r"cameras\[0\]\.source\.kind: required"),
        (CAMERA.replace('"fridge-1"', '"Fridge 1"'), r"cameras\[0\]\.name"),
        (CAMERA + CAMERA, r"cameras\[1\]\.name: 'fridge-1' is used twice"),
        (CAMERA + 'triggers = { times = ["25:00"] }', r"cameras\[0\]\.triggers\.times\[0\]"),
        ("site = ", "not valid TOML"),
    ],
)
def test_errors_name_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config.loads(text)


def test_trigger_off() -> None:
    cfg = config.loads(CAMERA + 'triggers = { door_open_delay = "off" }')
    assert not is_on(cfg.cameras[0].triggers.door_open_delay)
    assert is_on(cfg.cameras[0].triggers.door_close_settle)
    assert cfg.cameras[0].triggers.door_close_settle == 3


def test_durations_are_seconds_once_loaded() -> None:
    """Decoded once, as the file loads: every user reads a number of seconds."""
    cfg = config.loads(
        CAMERA
        + 'grab_timeout = "1.5m"\n[web]\nsession_idle = "2h"\n[storage]\nhealth_interval = "7s"'
    )
    assert cfg.cameras[0].grab_timeout == 90.0 and isinstance(cfg.cameras[0].grab_timeout, float)
    assert cfg.web is not None and cfg.web.session_idle == 7200
    assert cfg.storage.health_interval == 7
    assert repr(Duration("90s")) == "Duration('90s')" and format_duration(Duration("2h")) == "2h"
    with pytest.raises(ConfigError, match=r"storage\.health_interval: not a duration"):
        config.loads("[storage]\nhealth_interval = 5")
    with pytest.raises(ConfigError, match=r"triggers\.door_open_delay: not a duration.*or 'off'"):
        config.loads(CAMERA + 'triggers = { door_open_delay = "never" }')


def test_load_resolves_paths_relative_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "veilcam.toml"
    path.write_text('data_dir = "data"\n' + CAMERA)
    cfg = config.load(path)
    assert cfg.data_dir == str(tmp_path / "data")
    assert cfg.cameras[0].source.path == str(tmp_path / "pics")  # type: ignore[union-attr]


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        config.load(tmp_path / "nope.toml")


def test_unknown_camera_is_named() -> None:
    with pytest.raises(ConfigError, match="no camera named 'x' \\(cameras: fridge-1\\)"):
        config.loads(CAMERA).camera("x")
