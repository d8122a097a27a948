"""The real model files, fetched once per session by the project's own fetch step."""

from __future__ import annotations

from pathlib import Path

import pytest

from veilcam.vision import models


@pytest.fixture(scope="session")
def model_cache() -> Path:
    cache = models.default_cache()
    models.fetch(cache)  # a no-op when `make test` has already fetched them
    return cache
