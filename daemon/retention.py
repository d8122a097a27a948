"""Retention classes: the product's limits, shared by config, schema and reaper.

A cap is a promise to shoppers, so it lives in code: configuration may shorten a
limit, never lengthen it, and the database refuses rows that would outlive it.
"""

from __future__ import annotations

from dataclasses import dataclass

from veilcam.durations import DAY, HOUR, format_duration


@dataclass(frozen=True, slots=True)
class RetentionClass:
    name: str
    table: str | None  # None: held in memory only, never persisted
    default: float
    cap: float | None  # None: not personal data, no cap
    what: str
    # A longer limit individual rows may carry under a recorded legal hold (never the default).
    hold_cap: float | None = None
    # The shortest limit allowed: records the law wants kept (food-safety temperatures).
    floor: float | None = None

    @property
    def db_cap(self) -> float | None:
        """The ceiling the database CHECK enforces per row."""
        return self.hold_cap if self.hold_cap is not None else self.cap


CLASSES: dict[str, RetentionClass] = {
    c.name: c
    for c in (
        RetentionClass("fridge_stills", "media", 30 * DAY, 30 * DAY, "redacted fridge stills"),
        RetentionClass("floor_stills", "media", 72 * HOUR, 30 * DAY, "redacted shop-floor stills"),
        RetentionClass(
            "research_clips",
            "media",
            30 * DAY,
            30 * DAY,
            "a research study's redacted clips and their movement events, from recording",
        ),
        RetentionClass(
            "face_evidence",
            "media",
            72 * HOUR,
            72 * HOUR,
            "face evidence crops (watchlist match)",
            hold_cap=30 * DAY,
        ),
        RetentionClass(
            "visitor_templates",
            None,
            24 * HOUR,
            24 * HOUR,
            "visitor de-duplication templates (memory only)",
        ),
        RetentionClass("watchlist", "watchlist", 365 * DAY, 3 * 365 * DAY, "watchlist entries"),
        RetentionClass("audit_log", "audit_log", 183 * DAY, 183 * DAY, "audit and access logs"),
        RetentionClass(
            "sensor_records",
            "sensor",
            400 * DAY,
            None,
            "temperature, door and sensor-fault records",
            floor=365 * DAY,
        ),
        RetentionClass(
            "stock_records",
            "stock_checks",
            400 * DAY,
            None,
            "stock checks of fridge stills and the state of each facing (no pictures)",
        ),
        RetentionClass(
            "requests",
            "requests",
            3 * 365 * DAY,
            3 * 365 * DAY,
            "data-subject requests and disclosure records",
        ),
    )
}

# Media kinds stored as pictures, and the class that bounds each.
MEDIA_CLASS = {
    "fridge": "fridge_stills",
    "floor": "floor_stills",
    "evidence": "face_evidence",
    "clip": "research_clips",
}


def check_limit(name: str, seconds: float) -> str | None:
    """The reason ``seconds`` is not acceptable for class ``name``, or None."""
    rc = CLASSES[name]
    if seconds <= 0:
        return "must be longer than zero"
    if rc.floor is not None and seconds < rc.floor:
        return (
            f"{format_duration(seconds)} is shorter than the {format_duration(rc.floor)} "
            f"{rc.what} must be kept for food safety; lengthen it"
        )
    if rc.cap is not None and seconds > rc.cap:
        return (
            f"{format_duration(seconds)} exceeds the {format_duration(rc.cap)} cap "
            f"for {rc.what}; shorten it"
        )
    return None
