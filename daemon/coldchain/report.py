"""Daily cold-chain reports: per cabinet and local calendar day, from the stored readings.

Figures, as an inspector would check them against the raw records:

- min, max and mean of the day's valid readings (fault values are not temperatures);
- time out of range: each reading above the cabinet's warning limit counts until the next
  reading, at most ``MAX_GAP`` (a silent probe is missing data, not warm time);
- excursions: runs of readings above the limit, from the first warm reading to the first
  reading back within it (or the last warm one plus its interval), with their peak; those
  shorter than ``MIN_EXCURSION`` are only counted, as brief excursions;
- door openings that began in the day, and the time the door stood open within the day.

As CSV (one ``summary`` row per cabinet, one ``excursion`` row per excursion); the PDF, with a
chart per cabinet, is ``report_pdf``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from sqlite_utils import Database

from veilcam.alerts.episodes import duration_text
from veilcam.coldchain.limits import limits_for
from veilcam.coldchain.queries import overrides_job

if TYPE_CHECKING:
    from veilcam.config import CabinetConfig

MAX_GAP = 5 * 60.0  # seconds a reading stands for, at most
# Shorter runs above the limit (a door opening's warm air at the probe) are counted in the
# time out of range and as brief excursions, but not listed one by one.
MIN_EXCURSION = 5 * 60.0


@dataclass(slots=True)
class Excursion:
    start: float
    end: float
    peak: float
    ongoing: bool = False  # still above the limit when the day (or the data) ended

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(slots=True)
class CabinetDay:
    cabinet: str
    profile: str
    limit: float  # the warning limit, °C
    alarm_limit: float
    readings: int = 0
    minimum: float | None = None
    maximum: float | None = None
    mean: float | None = None
    out_of_range: float = 0.0  # seconds
    excursions: list[Excursion] = field(default_factory=list)
    brief_excursions: int = 0
    door_openings: int | None = None  # None: the cabinet has no door switch
    door_open_time: float = 0.0
    faults: int = 0
    series: list[tuple[float, float]] = field(default_factory=list)
    doors: list[tuple[float, float]] = field(default_factory=list)


@dataclass(slots=True)
class Report:
    site: str
    day: dt.date
    start: float
    end: float
    cabinets: list[CabinetDay]


FIRST_DAY = dt.date(2000, 1, 1)


def parse_day(text: str | None, now: float) -> dt.date:
    """``YYYY-MM-DD``, or yesterday (local) when empty or ``yesterday``. A day before
    ``FIRST_DAY`` or after today is refused: there is nothing to report, and the ends of the
    calendar (0001-01-01, 9999-12-31) have no local midnight on either side."""
    today = dt.datetime.fromtimestamp(now).date()
    if not text or text == "yesterday":
        return today - dt.timedelta(days=1)
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a date like 2026-11-23: {text[:20]!r}") from None
    if not FIRST_DAY <= day <= today:
        raise ValueError(f"reports cover {FIRST_DAY} to today ({today}), not {day}")
    return day


def day_bounds(day: dt.date) -> tuple[float, float]:
    """The local day's start and end as epoch seconds (23 or 25 hours on DST days)."""
    start = dt.datetime.combine(day, dt.time()).astimezone()
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time()).astimezone()
    return start.timestamp(), end.timestamp()


def temperature_figures(
    points: list[tuple[float, float]], limit: float, end: float
) -> tuple[float, list[Excursion]]:
    """Time above ``limit`` and the excursions, from time-ordered (t, °C) points in a day
    that ends at ``end``."""
    total, runs = 0.0, []
    current: Excursion | None = None
    for i, (t, c) in enumerate(points):
        nxt = points[i + 1][0] if i + 1 < len(points) else None
        held = min((nxt if nxt is not None else end) - t, MAX_GAP)
        if c > limit:
            total += held
            if current is None:
                current = Excursion(t, t + held, c)
                runs.append(current)
            current.peak = max(current.peak, c)
            current.end = t + held
            if nxt is None or nxt - t > MAX_GAP:  # the data stops while warm
                current.ongoing = nxt is None
                current = None
        elif current is not None:
            current.end = t
            current = None
    return total, runs


def cabinet_job(
    db: Database, cab: CabinetConfig, start: float, end: float, ui: dict[str, float]
) -> CabinetDay:
    """One cabinet's day; ``ui`` holds limits set in the web UI (the current ones)."""
    lim = limits_for(cab)
    lim = replace(
        lim,
        warn_above=ui.get("warn_above", lim.warn_above),
        alarm_above=ui.get("alarm_above", lim.alarm_above),
    )
    out = CabinetDay(cab.name, cab.profile, lim.warn_above, lim.alarm_above)
    rows = db.conn.execute(
        "SELECT received_at, centi_c FROM temperature_readings WHERE probe = ?"
        " AND received_at >= ? AND received_at < ? ORDER BY received_at, id",
        (cab.probe, start, end),
    ).fetchall()
    points = [(float(t), c / 100) for t, c in rows]
    out.series = points
    out.readings = len(points)
    if points:
        values = [c for _, c in points]
        out.minimum, out.maximum = min(values), max(values)
        out.mean = sum(values) / len(values)
        out.out_of_range, runs = temperature_figures(points, lim.warn_above, end)
        out.excursions = [e for e in runs if e.duration >= MIN_EXCURSION]
        out.brief_excursions = len(runs) - len(out.excursions)
    out.faults = db.conn.execute(
        "SELECT count(*) FROM sensor_faults WHERE at >= ? AND at < ? AND detail = ?",
        (start, end, f"probe {cab.probe}"),
    ).fetchone()[0]
    if cab.door is not None:
        events = db.conn.execute(
            "SELECT received_at, state FROM door_events WHERE door = ? AND received_at < ?"
            " AND received_at >= ? ORDER BY received_at, id",
            (cab.door, end, start - 86400),  # an opening that began the day before
        ).fetchall()
        opened: float | None = None
        out.door_openings = 0
        for t, state in events:
            if state == "open" and opened is None:
                opened = t
                if t >= start:
                    out.door_openings += 1
            elif state == "closed" and opened is not None:
                if t > start:
                    out.doors.append((max(opened, start), t))
                opened = None
        if opened is not None:  # still open at the end of the data
            last = points[-1][0] if points else end
            out.doors.append((max(opened, start), max(last, opened)))
        out.door_open_time = sum(b - a for a, b in out.doors)
    return out


def build(db: Database, site: str, cabinets: list[CabinetConfig], day: dt.date) -> Report:
    start, end = day_bounds(day)
    ui = overrides_job(db)
    days = [cabinet_job(db, c, start, end, ui.get(c.name, {})) for c in cabinets]
    return Report(site, day, start, end, days)


# --- CSV ---------------------------------------------------------------------------------

CSV_FIELDS = [
    "date", "cabinet", "record", "start", "end", "limit_c", "readings", "min_c", "max_c",
    "mean_c", "peak_c", "duration_s", "out_of_range_s", "excursions", "brief_excursions",
    "door_openings", "door_open_s", "faults",
]  # fmt: skip


def iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t).astimezone().isoformat(timespec="seconds")


def _r(v: float | None, digits: int = 2) -> str:
    return "" if v is None else f"{v:.{digits}f}"


def to_csv(report: Report) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    day = report.day.isoformat()
    for c in report.cabinets:
        w.writerow(
            {
                "date": day,
                "cabinet": c.cabinet,
                "record": "summary",
                "start": iso(report.start),
                "end": iso(report.end),
                "limit_c": _r(c.limit, 1),
                "readings": c.readings,
                "min_c": _r(c.minimum),
                "max_c": _r(c.maximum),
                "mean_c": _r(c.mean),
                "out_of_range_s": round(c.out_of_range),
                "excursions": len(c.excursions),
                "brief_excursions": c.brief_excursions,
                "door_openings": "" if c.door_openings is None else c.door_openings,
                "door_open_s": "" if c.door_openings is None else round(c.door_open_time),
                "faults": c.faults,
            }
        )
        for e in c.excursions:
            w.writerow(
                {
                    "date": day,
                    "cabinet": c.cabinet,
                    "record": "excursion" + (" (continues)" if e.ongoing else ""),
                    "start": iso(e.start),
                    "end": iso(e.end),
                    "limit_c": _r(c.limit, 1),
                    "peak_c": _r(e.peak),
                    "duration_s": round(e.duration),
                }
            )
    return buf.getvalue()


def _clock(t: float) -> str:
    return dt.datetime.fromtimestamp(t).strftime("%H:%M")


def excursion_text(e: Excursion) -> dict[str, str]:
    """An excursion as a reader sees it, in the PDF table and on the reports page."""
    return {
        "start": _clock(e.start),
        "end": _clock(e.end) + (" (continues)" if e.ongoing else ""),
        "peak": f"{e.peak:.1f} °C",
        "duration": duration_text(e.duration),
    }
