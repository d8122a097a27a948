"""Docs are checked: every config key, command and option is documented, the README stays a
front door, and the measurements in it and in docs/performance.md are the benchmarks' own."""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import msgspec
import pytest

from veilcam import config
from veilcam.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
CONFIG_DOC = (ROOT / "docs" / "config.md").read_text()
COMMANDS_DOC = (ROOT / "docs" / "commands.md").read_text()
README = (ROOT / "README.md").read_text()
RESULTS = ROOT / "bench" / "results"

STRUCTS = [
    config.Config,
    config.RetentionConfig,
    config.StorageConfig,
    config.SensorConfig,
    config.CabinetConfig,
    config.EmailConfig,
    config.WebhookConfig,
    config.NotifyConfig,
    config.CountingConfig,
    config.WatchlistConfig,
    config.SharingConfig,
    config.EmbedderConfig,
    config.ReplaySourceConfig,
    config.V4L2SourceConfig,
    config.AVSourceConfig,
    config.TriggerConfig,
    config.StreamConfig,
    config.RedactionConfig,
    config.VisionConfig,
    config.CameraConfig,
    config.WebConfig,
    config.StockConfig,
    config.PrivacyConfig,
    config.ClipConfig,
    config.UploadsConfig,
    config.MqttConfig,
    config.ReplayDepthConfig,
    config.V4L2DepthConfig,
]


@pytest.mark.parametrize("struct", STRUCTS, ids=lambda s: s.__name__)
def test_every_config_key_is_documented(struct: type) -> None:
    for field in msgspec.structs.fields(struct):
        assert f"`{field.name}`" in CONFIG_DOC, (
            f"{struct.__name__}.{field.name} missing from docs/config.md"
        )


def commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


@pytest.mark.parametrize("name", sorted(commands()))
def test_every_command_is_on_the_front_door(name: str) -> None:
    assert f"`veilcam {name}" in README, f"veilcam {name} missing from README.md"


@pytest.mark.parametrize("name", sorted(commands()))
def test_every_option_is_in_the_command_reference(name: str) -> None:
    rows = [line for line in COMMANDS_DOC.splitlines() if line.startswith(f"| `veilcam {name}")]
    assert rows, f"veilcam {name} has no row in docs/commands.md"
    options = {
        o
        for action in commands()[name]._actions
        for o in action.option_strings
        if o.startswith("--") and o != "--help"
    }
    shared = {"--config", "--data-dir"}  # said once, above the table
    missing = sorted(o for o in options - shared if not any(o in row for row in rows))
    assert not missing, f"veilcam {name}: {missing} missing from docs/commands.md"


def test_readme_is_a_front_door() -> None:
    lines = README.splitlines()
    head = "\n".join(lines[:10])
    assert "make run" in head and "make test" in head
    assert len(lines) < 120, f"README.md has {len(lines)} lines: designs belong in docs/"
    dated = [line for line in lines if re.search(r"20\d\d-[01]\d-[0-3]\d", line)]
    assert len(dated) <= 2, dated


def test_ci_runs_the_readmes_commands() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^make ci$", ci, re.M)
    ci_target = makefile[makefile.index("\nci:") :].split("\n\n")[0]
    for step in ("lint", "test", "test-twins", "wheel-check"):
        assert re.search(rf"\b{step}\b", ci_target), f"make ci does not run {step}"


def _report() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_report", ROOT / "bench" / "report.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_performance_figures_are_the_benchmarks_own() -> None:
    """docs/performance.md and the README's table are what bench/report.py writes from the
    committed results: nobody edits a measurement by hand."""
    report = _report()
    results = report.load(RESULTS)
    assert results, "bench/results/ holds no results: run `make bench`"
    assert (ROOT / "docs" / "performance.md").read_text() == report.performance(results)
    assert report.readme_block(results) in README
    assert report.reliability_block(results) in README


def test_every_decision_is_linked_from_the_architecture() -> None:
    architecture = (ROOT / "docs" / "architecture.md").read_text()
    for path in sorted((ROOT / "docs" / "decisions").glob("*.md")):
        assert f"decisions/{path.name}" in architecture, path.name
