"""Real photographs from the test assets, read as the appliance reads a picture file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from veilcam.redaction.files import read_picture


def picture(assets: Path, name: str) -> np.ndarray:
    return read_picture(next(assets.glob(f"{name}.*")))
