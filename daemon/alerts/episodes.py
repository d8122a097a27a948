"""Episodes and their transitions, for any source of alerts.

An episode is one rule's condition on one subject (a cabinet, a fridge's facing) from the
moment it opens until it closes; in between it may rise from ``warning`` to ``alarm`` once.
Sources keep their episodes in an :class:`Episodes` and get :class:`Transition` values back,
which the recorder stores and notifies. Nothing here reads a clock or touches storage."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

LEVELS = ("warning", "alarm")


@dataclass(frozen=True, slots=True)
class Transition:
    source: str  # coldchain | stock | ...
    subject: str  # the cabinet, the fridge or facing: what the alert is about
    rule: str
    change: str  # open | level | close
    level: str  # warning | alarm
    at: float
    value: float | None = None  # the peak, or the measure that tripped it
    message: str = ""


@dataclass(frozen=True, slots=True)
class Source:
    """How one source's alerts read in messages: ``Cabinet: dairy``, ``door open``."""

    name: str
    subject_label: str
    titles: dict[str, str]
    value_text: Callable[[Transition], str | None] = lambda tr: None

    def title(self, rule: str) -> str:
        return self.titles.get(rule, rule.replace("_", " "))


@dataclass(slots=True)
class Episode:
    level: str
    opened_at: float
    peak: float | None = None


@dataclass(slots=True)
class Episodes:
    """The open episodes of one subject, opened once, raised once, closed once: noise
    around a limit neither re-opens nor closes one."""

    source: str
    subject: str
    open: dict[str, Episode] = field(default_factory=dict)

    def raise_to(
        self, rule: str, level: str, at: float, value: float | None, msg: str
    ) -> list[Transition]:
        ep = self.open.get(rule)
        if ep is None:
            self.open[rule] = Episode(level, at, value)
            return [Transition(self.source, self.subject, rule, "open", level, at, value, msg)]
        if LEVELS.index(level) > LEVELS.index(ep.level):
            ep.level = level
            return [Transition(self.source, self.subject, rule, "level", level, at, ep.peak, msg)]
        return []

    def close(self, rule: str, at: float, msg: str, peak_unit: str = "") -> list[Transition]:
        ep = self.open.pop(rule, None)
        if ep is None:
            return []
        text = f"{msg}; lasted {duration_text(at - ep.opened_at)}"
        if ep.peak is not None and peak_unit:
            text += f", peak {ep.peak:.1f} {peak_unit}"
        return [Transition(self.source, self.subject, rule, "close", ep.level, at, ep.peak, text)]


def duration_text(seconds: float) -> str:
    """'7 min', '6 h 08 min': how every alert message, email and report says a duration."""
    m = int(seconds // 60)
    return f"{m // 60} h {m % 60:02d} min" if m >= 60 else f"{m} min"
