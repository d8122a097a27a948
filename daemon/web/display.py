"""How the pages show things: local times, temperatures in the chosen unit, a picture's
redaction summary, and the charts, drawn on the server as SVG (no script)."""

from __future__ import annotations

import datetime as dt
import html
import json
from typing import Any


def when(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def local_midnight(now: float) -> float:
    d = dt.datetime.fromtimestamp(now)
    return d.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def picture_row(r: Any) -> dict[str, Any]:
    out = dict(r)
    for secret in ("kid", "dek", "dek_next"):  # a picture's data key never leaves the store
        out.pop(secret, None)
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


def escape(text: str) -> str:
    return html.escape(text, quote=True)


def svg_ratio(points: list[tuple[float, float]], width: int = 800, height: int = 160) -> str:
    """A line of (time, share 0..1) on a fixed 0-100% scale, with the time at each end."""
    pad, top = 4, 14
    if not points:
        return f'<svg class="chart" viewBox="0 0 {width} {height}" role="img"></svg>'
    t0, t1 = points[0][0], points[-1][0]
    span = (t1 - t0) or 1.0
    inner = height - pad - top
    coords = " ".join(
        f"{pad + (t - t0) / span * (width - 2 * pad):.1f},{top + (1 - v) * inner:.1f}"
        for t, v in points
    )
    lo, hi = min(v for _, v in points), max(v for _, v in points)
    label = f"from {lo:.0%} to {hi:.0%}"
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{label}">'
        f'<line x1="{pad}" x2="{width - pad}" y1="{top}" y2="{top}" stroke="#ddd"/>'
        f'<line x1="{pad}" x2="{width - pad}" y1="{top + inner}" y2="{top + inner}" '
        f'stroke="#ddd"/><text x="{pad}" y="11" font-size="11">100%</text>'
        f'<text x="{width - 4 * pad}" y="11" font-size="11" text-anchor="end">'
        f"{escape(when(t1))}</text>"
        f'<polyline fill="none" stroke="#2b6cb0" stroke-width="1.5" points="{coords}"/>'
        f'<text x="{pad}" y="{height - pad}" font-size="11">0% · {escape(when(t0))}</text></svg>'
    )
