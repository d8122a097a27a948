"""How the pages show things: local times, temperatures in the chosen unit, a picture's
redaction summary, and the charts, drawn on the server as SVG (no script)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any


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
    # What a manager reads under the picture: what was found and covered.
    out["covered"] = (
        "blanked: could not be redacted"
        if summary.get("status") == "blanked"
        else f"covered: {regions}"
        if summary.get("regions")
        else "nobody found"
    )
    out["redaction"] = (
        f"{summary.get('status')}: {regions}; models {', '.join(summary.get('models', [])) or '-'}"
    )
    return out


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
