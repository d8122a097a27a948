"""A clip's movement data as one table, for the data team: its events (enter, dwell, reach,
take) and each person's body landmarks per frame (rows of kind ``pose``), in time order.

Two formats: JSON Lines (one object per row; a pose row's ``points`` maps each landmark to
``[x, y, visibility]`` or null) and Apache Parquet (``pyarrow``, the ``parquet`` extra): one
column per landmark, a fixed-size list of three floats or null. Coordinates are fractions
of the picture; ``track`` is valid within the clip only.
"""

from __future__ import annotations

import io
import json
from typing import Any

from sqlite_utils import Database

from veilcam.capture.movement import BODY

FORMATS = ("jsonl", "parquet")
EVENT_COLUMNS = ("track", "at", "kind", "zone", "x", "y", "depth_mm", "duration")


def rows_job(db: Database, clip_id: str) -> list[dict[str, Any]]:
    """The clip's events and pose frames, in time order (events first at the same time)."""
    events = [
        dict(r)
        for r in db.conn.execute(
            f"SELECT {', '.join(EVENT_COLUMNS)} FROM research_events"
            " WHERE clip_id = ? ORDER BY at, id",
            (clip_id,),
        )
    ]
    poses = [
        {"track": r["track"], "at": r["at"], "kind": "pose", "points": json.loads(r["points"])}
        for r in db.conn.execute(
            "SELECT track, at, points FROM research_poses WHERE clip_id = ? ORDER BY at, id",
            (clip_id,),
        )
    ]
    out = events + poses
    out.sort(key=lambda r: (r["at"], r["kind"] == "pose", r["track"]))
    return out


def jsonl(rows: list[dict[str, Any]]) -> bytes:
    lines = []
    for r in rows:
        if r["kind"] == "pose":
            r = {**r, "points": dict(zip(BODY, r["points"], strict=True))}
        lines.append(json.dumps(r, sort_keys=True).encode() + b"\n")
    return b"".join(lines)


def parquet(rows: list[dict[str, Any]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    point = pa.list_(pa.float32(), 3)
    schema = pa.schema(
        [
            ("track", pa.int32()),
            ("at", pa.float64()),
            ("kind", pa.string()),
            ("zone", pa.string()),
            ("x", pa.float64()),
            ("y", pa.float64()),
            ("depth_mm", pa.float64()),
            ("duration", pa.float64()),
            *((name, point) for name in BODY),
        ]
    )
    columns: dict[str, list[Any]] = {name: [] for name in schema.names}
    for r in rows:
        for name in EVENT_COLUMNS:
            columns[name].append(r.get(name))
        points = r.get("points") or [None] * len(BODY)
        for name, p in zip(BODY, points, strict=True):
            columns[name].append(p)
    table = pa.Table.from_pydict(columns, schema=schema)
    out = io.BytesIO()
    pq.write_table(table, out, compression="zstd")
    return out.getvalue()


def encode(rows: list[dict[str, Any]], fmt: str) -> bytes:
    if fmt == "parquet":
        return parquet(rows)
    if fmt == "jsonl":
        return jsonl(rows)
    raise ValueError(f"events format must be one of {', '.join(FORMATS)}, not {fmt!r}")
