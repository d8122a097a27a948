"""Docs are checked: every config key and every CLI command is documented."""

from pathlib import Path

import msgspec
import pytest

from veilcam import config
from veilcam.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
CONFIG_DOC = (ROOT / "docs" / "config.md").read_text()
README = (ROOT / "README.md").read_text()


def keys(struct: type, prefix: str = "") -> list[str]:
    out = []
    for field in msgspec.structs.fields(struct):
        out.append(field.name)
    return out


STRUCTS = [
    config.Config,
    config.RetentionConfig,
    config.StorageConfig,
    config.SensorConfig,
    config.ReplaySourceConfig,
    config.V4L2SourceConfig,
    config.AVSourceConfig,
    config.TriggerConfig,
    config.StreamConfig,
    config.CameraConfig,
    config.WebConfig,
]


@pytest.mark.parametrize("struct", STRUCTS, ids=lambda s: s.__name__)
def test_every_config_key_is_documented(struct: type) -> None:
    for key in keys(struct):
        assert f"`{key}`" in CONFIG_DOC, f"{struct.__name__}.{key} missing from docs/config.md"


def test_every_command_is_in_the_readme() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in sub.choices:  # type: ignore[union-attr]
        assert f"`veilcam {name}" in README, f"veilcam {name} missing from README.md"


def test_readme_opens_with_the_two_commands() -> None:
    head = "\n".join(README.splitlines()[:10])
    assert "make run" in head and "make test" in head
