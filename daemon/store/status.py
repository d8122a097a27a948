"""The appliance's state as `veilcam status` and the status page show it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from veilcam.health import worst
from veilcam.store import records
from veilcam.store.database import opened
from veilcam.store.media import SUFFIX


def _media_files(data_dir: Path) -> int:
    root = data_dir / "media"
    return sum(1 for _ in root.glob(f"*/*{SUFFIX}")) if root.is_dir() else 0


def collect(db: Database, data_dir: Path, *, count_files: bool = True) -> dict[str, Any]:
    """Blocking; run on a reader thread. Counts come from committed rows; ``count_files``
    also lists the media folder (a diagnostic, too costly for every page refresh)."""
    out: dict[str, Any] = records.counts(db)
    if count_files:
        out["media_files"] = _media_files(data_dir)
    out["faults_by_kind"] = records.fault_counts(db)
    out["health"] = records.get_health(db)
    out["latest_temperatures"] = [
        dict(t, received=dt.datetime.fromtimestamp(t["received_at"]).strftime("%H:%M:%S"))
        for t in records.latest_temperatures(db)
    ]
    out["overall"] = worst(h["state"] for h in out["health"].values())
    return out


def read_offline(data_dir: Path) -> dict[str, Any]:
    """Status straight from the files, whether or not a daemon is running."""
    with opened(data_dir) as db:
        return collect(db, data_dir)
