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


def test_a_relative_sensor_port_is_beside_the_file(tmp_path: Path) -> None:
    """Issue 14, finding 13: the demo linked its simulated board in the folder it was
    started from; a relative port is now relative to the configuration, like data_dir."""
    path = tmp_path / "veilcam.toml"
    path.write_text('[sensors]\nport = "ttyVC0"\n')
    assert config.load(path).sensors.port == str(tmp_path / "ttyVC0")  # type: ignore[union-attr]
    path.write_text('[sensors]\nport = "/dev/ttyUSB0"\n')
    assert config.load(path).sensors.port == "/dev/ttyUSB0"  # type: ignore[union-attr]


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        config.load(tmp_path / "nope.toml")


def test_unknown_camera_is_named() -> None:
    with pytest.raises(ConfigError, match="no camera named 'x' \\(cameras: fridge-1\\)"):
        config.loads(CAMERA).camera("x")


# -- issue 14, finding 12: values that make a loop spin, or mean never ----------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[storage]\nhealth_interval = "0s"', r"storage\.health_interval: 0s is outside 1s to 1h"),
        ('[sensors]\nreconnect_max = "0s"', r"sensors\.reconnect_max: 0s is outside 1s"),
        ('[web]\nsession_idle = "999999999999999999d"', r"web\.session_idle: .* outside 1m"),
        ('[web]\nsession_idle = "' + "9" * 400 + 'd"', r"web\.session_idle: not a duration"),
        ('[web]\nlogin_max_delay = "0s"', r"web\.login_max_delay: 0s is outside"),
        ("[storage]\nmin_free_mb = 1e23", r"storage\.min_free_mb: Expected `int`"),
        ("[storage]\nmin_free_mb = 100000000000", r"storage\.min_free_mb: Expected `int` <="),
        ('[notify]\nretry_min = "20m"\nretry_max = "10m"', r"notify\.retry_min: longer than"),
        ('[web]\nsession_idle = "1d"\nsession_max = "1h"', r"web\.session_idle: longer than"),
        ('[[cabinets]]\nname = "a"\ndefrost_duration = "0s"', r"cabinets\[0\]\.defrost_duration"),
        ('[notify.email]\ndigest = "10s"', r"notify\.email\.digest: 10s is outside 1m to 7d"),
        ("a = " + "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_values_out_of_their_sane_range_are_refused(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config.loads(text)


def test_off_is_still_off() -> None:
    cfg = config.loads(
        '[notify.email]\ndigest = "off"\n[[cameras]]\nname = "c"\n'
        'purpose = "fridge"\nsource = { kind = "replay", path = "x" }\n'
        '[cameras.triggers]\ndoor_open_delay = "off"\n'
    )
    assert cfg.notify.email is not None and not is_on(cfg.notify.email.digest)
    assert not is_on(cfg.cameras[0].triggers.door_open_delay)


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "veilcam.toml"
    path.write_bytes(b'site = "caf\xe9"\n')
    with pytest.raises(ConfigError, match=r"not UTF-8 text \(byte 11"):
        config.load(path)
    path.write_bytes(b"# " + b"x" * (2 << 20))
    with pytest.raises(ConfigError, match="at most 1 MiB"):
        config.load(path)


def test_every_duration_in_the_schema_has_a_range() -> None:
    """A new duration key must say its sane range (or this fails)."""
    import typing

    import msgspec

    from veilcam.config import schema
    from veilcam.durations import Range

    missing = []
    for name in dir(schema):
        cls = getattr(schema, name)
        if not (isinstance(cls, type) and issubclass(cls, msgspec.Struct)):
            continue
        for field, hint in typing.get_type_hints(cls, include_extras=True).items():
            base = typing.get_args(hint)[0] if hasattr(hint, "__metadata__") else hint
            if isinstance(base, type) and issubclass(base, Duration):
                if not any(isinstance(m, Range) for m in getattr(hint, "__metadata__", ())):
                    missing.append(f"{name}.{field}")
    assert not missing


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ("stream = { fps = 2 }\n", "stream"),
        ('triggers = { times = ["09:00"] }\n', "triggers.times"),
    ],
)
def test_a_research_camera_takes_no_stills(extra: str, key: str) -> None:
    research = (
        '[[cameras]]\nname = "aisle"\npurpose = "research"\nresearch_basis = "consent"\n'
        'source = { kind = "replay", path = "x" }\n'
    )
    assert config.loads(research).cameras[0].purpose == "research"
    with pytest.raises(ConfigError, match=rf"cameras\[0\]\.{key}: .*clips for a running study"):
        config.loads(research + extra)
