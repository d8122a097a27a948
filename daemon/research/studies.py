"""Research studies: a name, purpose, legal basis, dates, the research cameras it covers and
the area of the store on each camera's view (a polygon in fractions of the picture). Outside
its dates or its area nothing is recorded. An administrator starts one, and only while the
research feature gate is open (both administrators decided it); either can stop it.

Functions named ``*_job`` run on the store's writer or reader thread.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from veilcam.durations import DAY
from veilcam.errors import PrivacyRefused
from veilcam.privacy.scope import Act, insert, required

MAX_DAYS = 92  # "a few weeks": a study longer than a quarter is a new decision
MAX_POINTS = 32
ZONE = re.compile(r"[a-z0-9_-]{1,32}")

Polygon = tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class Running:
    """A study running on one camera now: what the recorder needs."""

    study_id: int
    name: str
    area: Polygon
    ends_at: float
    zones: dict[str, Polygon]  # shelf zones on this camera, by name


def _polygon(points: list[list[float]]) -> Polygon:
    return tuple((float(x), float(y)) for x, y in points)


def parse_area(value: Any, camera: str) -> Polygon:
    """A polygon as ``[[x, y], ...]`` or the text ``"x,y x,y ..."``, each in 0..1 of the
    picture's width and height; at least three corners."""
    if isinstance(value, str):
        try:
            value = [[float(v) for v in pt.split(",")] for pt in value.split()]
        except ValueError:
            raise PrivacyRefused(
                f"the area on {camera} is not a list of x,y corners (e.g. 0.1,0.2 0.9,0.2 ...)"
            ) from None
    if isinstance(value, tuple):
        value = [list(pt) if isinstance(pt, tuple) else pt for pt in value]
    if not isinstance(value, list) or not 3 <= len(value) <= MAX_POINTS:
        raise PrivacyRefused(f"the area on {camera} needs 3 to {MAX_POINTS} corners")
    out = []
    for pt in value:
        if not (
            isinstance(pt, list | tuple)
            and len(pt) == 2
            and all(isinstance(v, int | float) and 0.0 <= v <= 1.0 for v in pt)
        ):
            raise PrivacyRefused(
                f"each corner of the area on {camera} is x,y between 0 and 1 (fractions of "
                f"the picture), not {str(pt)[:40]}"
            )
        out.append((float(pt[0]), float(pt[1])))
    xs, ys = [p[0] for p in out], [p[1] for p in out]
    if max(xs) - min(xs) < 0.02 or max(ys) - min(ys) < 0.02:
        raise PrivacyRefused(f"the area on {camera} has no size")
    return tuple(out)


def create_job(
    db: Database,
    act: Act,
    *,
    name: str,
    purpose: str,
    legal_basis: str,
    starts_at: float,
    ends_at: float,
    areas: Mapping[str, Any],
    research_cameras: Sequence[str],
    gate_id: int,
    zones: Mapping[str, Mapping[str, Any]] | None = None,
) -> int:
    """A study under the open research gate ``gate_id``, on research cameras only."""
    if not areas:
        raise PrivacyRefused("a study covers at least one camera: give its area")
    unknown = [c for c in areas if c not in research_cameras]
    if unknown:
        known = ", ".join(research_cameras) or "none: set a camera's purpose to research"
        raise PrivacyRefused(f"{unknown[0][:40]!r} is not a research camera ({known})")
    if ends_at <= starts_at:
        raise PrivacyRefused("the study ends before it starts")
    if ends_at - starts_at > MAX_DAYS * DAY:
        raise PrivacyRefused(f"a study runs at most {MAX_DAYS} days")
    if ends_at <= act.now:
        raise PrivacyRefused("the study's end has already passed")
    polygons = {cam: parse_area(area, cam) for cam, area in areas.items()}
    shelves: dict[str, dict[str, Polygon]] = {}
    for cam, named in (zones or {}).items():
        if cam not in polygons:
            raise PrivacyRefused(f"shelf zones on {cam[:40]!r}, which the study does not cover")
        for zone, poly in named.items():
            if not ZONE.fullmatch(zone):
                raise PrivacyRefused(
                    f"a shelf zone's name is 1-32 of a-z, 0-9, -, _: {zone[:40]!r}"
                )
            shelves.setdefault(cam, {})[zone] = parse_area(poly, f"{cam} zone {zone}")
    study_id = insert(
        db,
        "studies",
        {
            "name": required(name, "the study's name", 100),
            "purpose": required(purpose, "the purpose", 500),
            "legal_basis": required(legal_basis, "the legal basis", 300),
            "starts_at": starts_at,
            "ends_at": ends_at,
            "cameras": json.dumps(sorted(polygons)),
            "areas": json.dumps({c: [list(p) for p in poly] for c, poly in polygons.items()}),
            "zones": json.dumps(
                {
                    c: {z: [list(p) for p in poly] for z, poly in zs.items()}
                    for c, zs in shelves.items()
                }
            ),
            "gate_id": gate_id,
            "created_by": act.actor,
            "created_at": act.now,
        },
    )
    act.audit(db, "study.create", f"study:{study_id}", ", ".join(sorted(polygons)))
    return study_id


def stop_job(db: Database, act: Act, study_id: int, reason: str) -> None:
    row = db.conn.execute("SELECT stopped_at FROM studies WHERE id = ?", (study_id,)).fetchone()
    if row is None:
        raise PrivacyRefused(f"no study {study_id}")
    if row["stopped_at"] is not None:
        raise PrivacyRefused(f"study {study_id} is already stopped")
    db.conn.execute(
        "UPDATE studies SET stopped_at = ?, stopped_by = ?, stop_reason = ? WHERE id = ?",
        (act.now, act.actor, required(reason, "the reason for stopping", 500), study_id),
    )
    act.audit(db, "study.stop", f"study:{study_id}", None)


def _shape(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["cameras"] = json.loads(out["cameras"])
    out["areas"] = json.loads(out["areas"])
    out["zones"] = json.loads(out["zones"])
    return out


def list_job(db: Database, limit: int = 200) -> list[dict[str, Any]]:
    rows = db.conn.execute(
        "SELECT s.*, (SELECT count(*) FROM media m WHERE m.study_id = s.id) AS clips,"
        " (SELECT count(*) FROM research_events e WHERE e.study_id = s.id) AS events,"
        " (SELECT count(*) FROM research_poses p WHERE p.study_id = s.id) AS poses"
        " FROM studies s ORDER BY s.id DESC LIMIT ?",
        (limit,),
    )
    return [_shape(r) for r in rows]


def running_job(db: Database, now: float) -> dict[str, Running]:
    """The study each camera records for at ``now`` (the earliest started, should two
    overlap)."""
    out: dict[str, Running] = {}
    for r in db.conn.execute(
        "SELECT * FROM studies WHERE stopped_at IS NULL AND starts_at <= ? AND ends_at > ?"
        " ORDER BY starts_at",
        (now, now),
    ):
        s = _shape(r)
        for cam, poly in s["areas"].items():
            zones = {z: _polygon(p) for z, p in s["zones"].get(cam, {}).items()}
            out.setdefault(cam, Running(s["id"], s["name"], _polygon(poly), s["ends_at"], zones))
    return out


def next_change_job(db: Database, now: float) -> float | None:
    """When the set of running studies next changes by the calendar (a start or an end)."""
    row = db.conn.execute(
        "SELECT min(t) FROM (SELECT starts_at AS t FROM studies WHERE stopped_at IS NULL"
        " AND starts_at > ? UNION ALL SELECT ends_at FROM studies WHERE stopped_at IS NULL"
        " AND ends_at > ?)",
        (now, now),
    ).fetchone()
    return None if row is None or row[0] is None else float(row[0])
