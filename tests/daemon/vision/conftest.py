"""The real model files, fetched once per session by the project's own fetch step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from veilcam.batch import read_picture
from veilcam.vision import models
from veilcam.vision.pipeline import Vision
from veilcam.vision.runtime import BoardProfile


@pytest.fixture(scope="session")
def model_cache() -> Path:
    cache = models.default_cache()
    models.fetch(cache)  # a no-op when `make test` has already fetched them
    return cache


ASSETS = Path(__file__).resolve().parents[2] / "assets.toml"


@pytest.fixture(scope="session")
def assets() -> Path:
    """Real photographs (scikit-image's sample data), fetched like the models."""
    cache = models.default_cache().parent / "test-assets"
    models.fetch(cache, manifest=models.Manifest.load(ASSETS))
    return cache


@pytest.fixture(scope="session")
def vision(model_cache: Path) -> Vision:
    return Vision(BoardProfile.load("generic"), model_cache, workers=2)


def picture(assets: Path, name: str) -> np.ndarray:
    return read_picture(next(assets.glob(f"{name}.*")))
