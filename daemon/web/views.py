"""Read-side queries for the web pages and the API (reader-thread jobs), and the SVG charts
drawn on the server."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlite_utils import Database

SETTINGS_DEFAULTS = {"temperature_unit": "C", "alert_email": ""}


def when(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def local_midnight(now: float) -> float:
    d = dt.datetime.fromtimestamp(now)
    return d.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def picture_row(r: Any) -> dict[str, Any]:
    out = dict(r)
    out["when"] = when(r["created_at"])
    out["expires"] = when(r["expires_at"])
    summary = json.loads(r["redaction"])
    regions = ", ".join(f"{n} {k}" for k, n in summary.get("regions", {}).items()) or "none found"
    out["redaction"] = (
        f"{summary.get('status')}: {regions}; models {', '.join(summary.get('models', [])) or '-'}"
    )
    return out


def pictures_job(
    db: Database, camera: str | None, since: float | None, until: float | None, limit: int = 60
) -> list[dict[str, Any]]:
    sql, args = "SELECT * FROM media WHERE 1 = 1", list[Any]()
    if camera:
        sql += " AND camera = ?"
        args.append(camera)
    if since is not None:
        sql += " AND created_at >= ?"
        args.append(since)
    if until is not None:
        sql += " AND created_at < ?"
        args.append(until)
    sql += " ORDER BY created_at DESC LIMIT ?"
    args.append(limit)
    return [picture_row(r) for r in db.conn.execute(sql, args)]


def picture_job(db: Database, media_id: str) -> dict[str, Any] | None:
    r = db.conn.execute("SELECT * FROM media WHERE id = ?", (media_id,)).fetchone()
    return picture_row(r) if r else None


def latest_per_camera_job(db: Database) -> dict[str, dict[str, Any]]:
    rows = db.conn.execute(
        "SELECT m.* FROM media m JOIN (SELECT camera, max(created_at) AS t FROM media"
        " GROUP BY camera) l ON l.camera = m.camera AND l.t = m.created_at"
    )
    return {r["camera"]: picture_row(r) for r in rows}


def temperatures_job(db: Database, since: float) -> dict[str, list[tuple[float, int]]]:
    out: dict[str, list[tuple[float, int]]] = {}
    for r in db.conn.execute(
        "SELECT probe, received_at, centi_c FROM temperature_readings WHERE received_at >= ?"
        " ORDER BY received_at",
        (since,),
    ):
        out.setdefault(r["probe"], []).append((r["received_at"], r["centi_c"]))
    return out


def doors_job(db: Database, since: float, limit: int = 200) -> list[dict[str, Any]]:
    rows = db.conn.execute(
        "SELECT received_at, door, state FROM door_events WHERE received_at >= ?"
        " ORDER BY received_at DESC LIMIT ?",
        (since, limit),
    )
    return [dict(r, when=when(r["received_at"])) for r in rows]


def door_summary_job(db: Database, midnight: float) -> tuple[int, str]:
    n = db.conn.execute(
        "SELECT count(*) FROM door_events WHERE state = 'open' AND received_at >= ?", (midnight,)
    ).fetchone()[0]
    last = db.conn.execute(
        "SELECT state FROM door_events ORDER BY received_at DESC, id DESC LIMIT 1"
    ).fetchone()
    return int(n), last[0] if last else "unknown"


def audit_job(db: Database, limit: int = 300) -> list[dict[str, Any]]:
    rows = db.conn.execute("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", (limit,))
    return [dict(r, when=when(r["at"])) for r in rows]


def settings_job(db: Database) -> dict[str, str]:
    out = dict(SETTINGS_DEFAULTS)
    for r in db.conn.execute("SELECT key, value FROM settings"):
        out[r["key"]] = r["value"]
    return out


def put_setting_job(db: Database, key: str, value: str, now: float, by: str) -> None:
    db.conn.execute(
        "INSERT INTO settings (key, value, changed_at, changed_by) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
        " changed_at = excluded.changed_at, changed_by = excluded.changed_by",
        (key, value, now, by),
    )


def show_temp(centi_c: int, unit: str) -> str:
    c = centi_c / 100
    return f"{c * 9 / 5 + 32:.1f} °F" if unit == "F" else f"{c:.1f} °C"


def svg_line(
    points: list[tuple[float, int]], width: int, height: int, css: str, axes: bool = False
) -> str:
    """A polyline of (time, centi-degrees) scaled into a width x height box."""
    if not points:
        return f'<svg class="{css}" viewBox="0 0 {width} {height}" role="img"></svg>'
    t0, t1 = points[0][0], points[-1][0]
    lo, hi = min(v for _, v in points), max(v for _, v in points)
    span_t, span_v = (t1 - t0) or 1.0, (hi - lo) or 1
    pad = 4
    coords = " ".join(
        f"{pad + (t - t0) / span_t * (width - 2 * pad):.1f},"
        f"{height - pad - (v - lo) / span_v * (height - 2 * pad):.1f}"
        for t, v in points
    )
    label = f"from {lo / 100:.1f} to {hi / 100:.1f} °C"
    extra = ""
    if axes:
        extra = (
            f'<text x="{pad}" y="12" font-size="11">{hi / 100:.1f} °C</text>'
            f'<text x="{pad}" y="{height - pad}" font-size="11">{lo / 100:.1f} °C</text>'
        )
    return (
        f'<svg class="{css}" viewBox="0 0 {width} {height}" role="img" aria-label="{label}">'
        f'{extra}<polyline fill="none" stroke="#2b6cb0" stroke-width="1.5" '
        f'points="{coords}"/></svg>'
    )
