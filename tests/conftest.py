"""Shared fixtures: a fresh data directory, a fake clock, an open store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from veilcam.clock import FakeClock
from veilcam.config import RetentionConfig
from veilcam.health import Health
from veilcam.store import Store


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def health(clock: FakeClock) -> Health:
    return Health(clock)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
async def store(data_dir: Path, clock: FakeClock) -> AsyncIterator[Store]:
    async with Store(data_dir, RetentionConfig(), clock) as s:
        yield s


@pytest.fixture
def scene() -> np.ndarray:
    """A 240x320 frame with unmistakable detail (stands in for a camera frame)."""
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)


async def settle(rounds: int = 5) -> None:
    """Let tasks woken by a FakeClock advance run their next steps."""
    for _ in range(rounds):
        await asyncio.sleep(0)
