"""Shared fixtures: a fresh data directory, a fake clock, an open store, the real models and
test pictures (fetched once per session by the project's own fetch step)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from argon2 import PasswordHasher

from tests.support.kernels import IMPLEMENTATIONS, use
from tests.support.leaks import leaks
from tests.support.web import PW
from veilcam.clock import FakeClock
from veilcam.config import RetentionConfig
from veilcam.health import Health
from veilcam.store import Store
from veilcam.vision import models
from veilcam.vision.pipeline import Vision
from veilcam.vision.runtime import BoardProfile

_MADE: set[str] = set()  # secrets made in this process during the current test


@pytest.fixture(autouse=True)
def audit_holds_no_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """After every test, the audit log of every data folder it made holds no password,
    session id, token, picture content, key or template (tests/support/leaks.py)."""
    real_urlsafe, real_hash = secrets.token_urlsafe, PasswordHasher.hash

    def urlsafe(n: int | None = None) -> str:
        token = real_urlsafe(n)
        _MADE.add(token)
        return token

    def hashed(self: PasswordHasher, password: str | bytes, **kw: Any) -> str:
        _MADE.add(password if isinstance(password, str) else password.decode())
        return real_hash(self, password, **kw)

    monkeypatch.setattr(secrets, "token_urlsafe", urlsafe)
    monkeypatch.setattr(PasswordHasher, "hash", hashed)
    _MADE.clear()
    _MADE.add(PW)
    yield
    found = [leak for db in tmp_path.rglob("veilcam.db") for leak in leaks(db, _MADE)]
    assert not found, "\n".join(found[:10])


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


@pytest.fixture(scope="session")
def model_cache() -> Path:
    cache = models.default_cache()
    models.fetch(cache)  # a no-op when `make test` has already fetched them
    return cache


@pytest.fixture(scope="session")
def face_models() -> Path:
    """The model cache with the face-feature models too (``veilcam models fetch --faces``)."""
    cache = models.default_cache()
    models.fetch(cache, extras=("faces",))
    return cache


ASSETS = Path(__file__).resolve().parent / "assets.toml"


@pytest.fixture(scope="session")
def assets() -> Path:
    """Real photographs (scikit-image's sample data), fetched like the models."""
    cache = models.default_cache().parent / "test-assets"
    models.fetch(cache, manifest=models.Manifest.load(ASSETS))
    return cache


@pytest.fixture(scope="session")
def vision(model_cache: Path) -> Vision:
    return Vision(BoardProfile.load("generic"), model_cache, workers=2)


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def kernels(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """The kernel wrappers wired to the NumPy twins, then (where built) to the native modules:
    a test that takes this fixture runs once per implementation."""
    chosen: SimpleNamespace = IMPLEMENTATIONS[request.param]
    use(monkeypatch, chosen)
    return chosen
