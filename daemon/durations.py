"""Durations as the configuration writes them ('30d', '72h', '15m', '10s') and as the code uses
them: seconds, decoded once when the configuration loads.

``Duration`` and ``DurationOrOff`` are floats (seconds) that also parse that text, so a
config struct says ``delay: Duration = Duration("30m")`` and every user of it reads
``cfg.delay`` as a number. "off" (TOML has no null) is an infinite duration: a trigger that
never fires, a digest that never comes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

MINUTE = 60
HOUR = 3600
DAY = 86400
OFF = math.inf

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNIT = {"s": 1, "m": MINUTE, "h": HOUR, "d": DAY}
HINT = "write e.g. '30d', '72h', '15m' or '10s'"


def parse_duration(text: str) -> float:
    """'30d' / '72h' / '15m' / '10s' -> seconds."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration; {HINT}")
    seconds = float(match.group(1)) * _UNIT[match.group(2)]
    if not math.isfinite(seconds):
        raise ValueError(f"{text[:20]!r}... is not a duration anyone means; {HINT}")
    return seconds


def format_duration(seconds: float) -> str:
    """Seconds as the configuration would write them: 86400 -> '1d', 90 -> '90s'."""
    if math.isinf(seconds):
        return "off"
    for unit, size in (("d", DAY), ("h", HOUR), ("m", MINUTE)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


class Duration(float):
    """Seconds; built from a number or from the configuration's text."""

    def __new__(cls, value: str | float) -> Duration:
        return super().__new__(cls, parse_duration(value) if isinstance(value, str) else value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({format_duration(self)!r})"


class DurationOrOff(Duration):
    """Seconds, or "off": infinity."""

    def __new__(cls, value: str | float) -> DurationOrOff:
        if isinstance(value, str) and value.strip() == "off":
            value = OFF
        return float.__new__(cls, Duration(value))


def is_on(seconds: float) -> bool:
    """Whether a ``DurationOrOff`` is a duration rather than "off"."""
    return not math.isinf(seconds)


def decode(kind: type, value: Any) -> Any:
    """msgspec's ``dec_hook``: the configuration's text to a ``Duration`` (or "off")."""
    if kind not in (Duration, DurationOrOff):
        raise NotImplementedError(f"no decoder for {kind!r}")
    if isinstance(value, str):
        try:
            return kind(value)
        except ValueError:
            pass
    raise ValueError(f"not a duration; {HINT}" + (", or 'off'" if kind is DurationOrOff else ""))


@dataclass(frozen=True, slots=True)
class Range:
    """The sane range of a duration in the configuration, as ``Annotated`` metadata:
    ``health_interval: Annotated[Duration, Range("1s", "1h")]``. Too small makes a loop
    spin; too large means never. "off" (a ``DurationOrOff``) is always allowed."""

    low: str
    high: str

    def why_not(self, seconds: float) -> str | None:
        if math.isinf(seconds):
            return None
        if not parse_duration(self.low) <= seconds <= parse_duration(self.high):
            return f"{format_duration(seconds)} is outside {self.low} to {self.high}"
        return None
