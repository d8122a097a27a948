"""Alarm rules for one fridge or freezer cabinet, as a pure state machine over time.

Feed it readings, faults and door changes with their times, and call ``tick`` as time
passes; it answers with transitions: an alarm opening, changing level or closing. Nothing
here reads a clock or touches storage, so every rule can be tested by passing times.

Rules, each with a warning and an alarm level:

- ``temperature``: above the warning limit continuously for ``delay`` (default 30 min) is a
  warning, above the alarm limit for as long an alarm. It closes only once the temperature
  has stayed at least ``hysteresis`` below the warning limit for ``clear_after``. Readings
  during a defrost window, after power-up and just after a door opening start no timer
  (but do not stop a warm spell already under way, or a busy shop would hide a failure).
- ``temperature_cumulative``: above the warning limit for ``cumulative_limit`` in total over
  ``cumulative_window`` (a fridge that is warm half of every hour never trips the first).
- ``door_open``: open for ``door_open_warning`` (3 min), then ``door_open_alarm`` (10 min).
- ``door_frequent``: more than ``openings_per_hour`` openings in the last hour.
- ``door_stuck``: no opening for ``no_opening_for`` (a day): a stuck switch, or a closed shop.
- ``sensor_silent``: no reading for ``silent_warning`` (5 min), then ``silent_alarm``.
- ``sensor_fault``: the probe reports a fault value (DS18B20 85.00 °C at power-up,
  -127.00 °C disconnected); closes after ``clear_after`` of valid readings.

Each episode opens once: noise around a limit neither re-opens nor closes it.
"""

from __future__ import annotations

import collections
import datetime as dt
from dataclasses import dataclass, field

from veilcam.alerts.episodes import Episode, Episodes, Source, Transition, duration_text
from veilcam.coldchain.limits import PROFILES, Limits

__all__ = ["SOURCE", "Board", "Cabinet", "Transition", "duration_text"]


def _peak(tr: Transition) -> str | None:
    if tr.value is not None and tr.rule.startswith("temperature"):
        return f"Peak:      {tr.value:.1f} °C"
    return None


SOURCE = Source(
    "coldchain",
    "Cabinet",
    {
        "temperature": "temperature",
        "temperature_cumulative": "warm too often",
        "door_open": "door open",
        "door_frequent": "door opened too often",
        "door_stuck": "door not opened",
        "sensor_silent": "probe silent",
        "sensor_fault": "probe fault",
        "link_down": "sensor board unreachable",
        "clock_unsynchronised": "clock not synchronised",
    },
    _peak,
)


@dataclass(slots=True)
class Cabinet:
    name: str
    limits: Limits
    started_at: float
    episodes: dict[str, Episode] = field(default_factory=dict)
    # temperature
    last_reading: float | None = None
    last_value: float | None = None
    above_since: float | None = None
    alarm_since: float | None = None
    below_since: float | None = None
    warm: collections.deque[tuple[float, float]] = field(default_factory=collections.deque)
    # faults
    fault_kind: str | None = None
    power_on_repeats: int = 0
    valid_since: float | None = None
    # doors
    door_open_since: float | None = None
    door_closed_at: float | None = None
    last_opening: float | None = None
    openings: collections.deque[float] = field(default_factory=collections.deque)

    # --- helpers ---------------------------------------------------------------------

    def _open(
        self, rule: str, level: str, at: float, value: float | None, msg: str
    ) -> list[Transition]:
        return Episodes("coldchain", self.name, self.episodes).raise_to(rule, level, at, value, msg)

    def _close(self, rule: str, at: float, msg: str) -> list[Transition]:
        unit = "°C" if rule.startswith("temperature") else ""
        return Episodes("coldchain", self.name, self.episodes).close(rule, at, msg, unit)

    def suppressed(self, t: float) -> str | None:
        """Why temperature readings at ``t`` do not count, if they don't."""
        lim = self.limits
        if t - self.started_at < lim.power_up_grace:
            return "power-up"
        if self.door_open_since is not None:
            return "door open"
        if self.door_closed_at is not None and t - self.door_closed_at < lim.door_grace:
            return "door opened"
        if lim.defrost:
            local = dt.datetime.fromtimestamp(t)
            sec = local.hour * 3600 + local.minute * 60 + local.second
            for start, length in lim.defrost:
                if 0 <= (sec - start) % 86400 < length:
                    return "defrost"
        return None

    def began(self, rule: str) -> float | None:
        """When the condition behind an open episode started (before any delay)."""
        since = {
            "temperature": self.above_since,
            "door_open": self.door_open_since,
            "sensor_silent": self.last_reading,
        }.get(rule)
        ep = self.episodes.get(rule)
        return since if since is not None else (ep.opened_at if ep is not None else None)

    # --- inputs ----------------------------------------------------------------------

    def temperature(self, t: float, celsius: float) -> list[Transition]:
        lim, out = self.limits, []
        self.power_on_repeats = 0
        prev_t, prev_v = self.last_reading, self.last_value
        self.last_reading, self.last_value = t, celsius
        out += self._close("sensor_silent", t, "readings are back")
        if self.fault_kind is not None:
            self.valid_since = self.valid_since or t
            if t - self.valid_since >= lim.clear_after:
                out += self._close("sensor_fault", t, "probe readings valid again")
                self.fault_kind = None
        quiet = self.suppressed(t)
        # cumulative time above the warning limit, over the window
        if prev_t is not None and prev_v is not None and prev_v > lim.warn_above and not quiet:
            self.warm.append((t, t - prev_t))
        while self.warm and self.warm[0][0] < t - lim.cumulative_window:
            self.warm.popleft()
        total = sum(d for _, d in self.warm)
        if total >= lim.cumulative_limit:
            out += self._open(
                "temperature_cumulative",
                "warning",
                t,
                celsius,
                f"above {lim.warn_above:.1f} °C for {duration_text(total)} of the last "
                f"{duration_text(lim.cumulative_window)}",
            )
        elif total < lim.cumulative_limit / 2:
            out += self._close("temperature_cumulative", t, "warm time back under half the limit")
        # continuous
        ep = self.episodes.get("temperature")
        if ep is not None and (ep.peak is None or celsius > ep.peak):
            ep.peak = celsius
        # A suppressed reading (defrost, power-up, just after a door) starts no timer, and
        # a cool one still stops it; but it does not stop a warm spell already under way,
        # or a busy shop's doors would hide a failing compressor for ever.
        if celsius > lim.warn_above:
            if self.above_since is None and not quiet:
                self.above_since = t
        else:
            self.above_since = None
        if celsius > lim.alarm_above:
            if self.alarm_since is None and not quiet:
                self.alarm_since = t
        else:
            self.alarm_since = None
        if self.above_since is not None and t - self.above_since >= lim.delay:
            out += self._open(
                "temperature",
                "warning",
                t,
                celsius,
                f"above {lim.warn_above:.1f} °C for {duration_text(t - self.above_since)}",
            )
        if self.alarm_since is not None and t - self.alarm_since >= lim.delay:
            out += self._open(
                "temperature",
                "alarm",
                t,
                celsius,
                f"above {lim.alarm_above:.1f} °C for {duration_text(t - self.alarm_since)}",
            )
        if "temperature" in self.episodes:
            if celsius <= lim.warn_above - lim.hysteresis:
                self.below_since = self.below_since or t
                if t - self.below_since >= lim.clear_after:
                    out += self._close("temperature", t, f"back under {lim.warn_above:.1f} °C")
                    self.below_since = None
            else:
                self.below_since = None
        return out

    def fault(self, t: float, kind: str) -> list[Transition]:
        self.last_reading = t  # the probe speaks, it is just wrong: not silent
        out = self._close("sensor_silent", t, "the probe answers again")
        # A DS18B20 says 85.00 °C once after every power-up: only a repeat is a fault.
        self.power_on_repeats = self.power_on_repeats + 1 if kind == "power_on_value" else 0
        if kind == "power_on_value" and self.power_on_repeats < 3:
            return out
        self.fault_kind, self.valid_since = kind, None
        what = {
            "probe_disconnected": "probe disconnected (-127.00 °C)",
            "power_on_value": "probe reports its power-up value (85.00 °C)",
        }
        return out + self._open(
            "sensor_fault", "alarm", t, None, what.get(kind, f"probe fault: {kind}")
        )

    def door(self, t: float, is_open: bool) -> list[Transition]:
        out: list[Transition] = []
        if is_open:
            if self.door_open_since is None:
                self.door_open_since = t
                self.last_opening = t
                self.openings.append(t)
                out += self._close("door_stuck", t, "the door opened")
        else:
            if self.door_open_since is not None:
                out += self._close(
                    "door_open", t, f"door closed after {duration_text(t - self.door_open_since)}"
                )
            self.door_open_since, self.door_closed_at = None, t
        return out + self._door_rate(t)

    def _door_rate(self, t: float) -> list[Transition]:
        lim = self.limits
        while self.openings and self.openings[0] < t - 3600:
            self.openings.popleft()
        n = len(self.openings)
        if n > lim.openings_per_hour:
            return self._open(
                "door_frequent", "warning", t, float(n), f"{n} openings in the last hour"
            )
        if n <= lim.openings_per_hour // 2:
            return self._close("door_frequent", t, f"{n} openings in the last hour")
        return []

    def tick(self, t: float) -> list[Transition]:
        lim, out = self.limits, []
        since = self.last_reading if self.last_reading is not None else self.started_at
        if t - since >= lim.silent_alarm:
            out += self._open(
                "sensor_silent", "alarm", t, None, f"no reading for {duration_text(t - since)}"
            )
        elif t - since >= lim.silent_warning:
            out += self._open(
                "sensor_silent", "warning", t, None, f"no reading for {duration_text(t - since)}"
            )
        if self.door_open_since is not None:
            open_for = t - self.door_open_since
            if open_for >= lim.door_open_alarm:
                out += self._open(
                    "door_open", "alarm", t, open_for, f"door open for {duration_text(open_for)}"
                )
            elif open_for >= lim.door_open_warning:
                out += self._open(
                    "door_open", "warning", t, open_for, f"door open for {duration_text(open_for)}"
                )
        last = self.last_opening if self.last_opening is not None else self.started_at
        if t - last >= lim.no_opening_for:
            out += self._open(
                "door_stuck", "warning", t, None, f"no door opening for {duration_text(t - last)}"
            )
        return out + self._door_rate(t)


@dataclass(slots=True)
class Board:
    """Rules about the appliance rather than one cabinet: the serial link to the sensor
    board (down for ``link_grace``: an alarm, every cabinet is blind) and the clock (not
    synchronised: a warning, the records' times cannot be trusted)."""

    link_grace: float = 60.0
    episodes: dict[str, Episode] = field(default_factory=dict)
    link_down_since: float | None = None

    def _cab(self) -> Cabinet:
        return Cabinet("board", PROFILES["chiller"], 0.0, self.episodes)

    def link(self, t: float, up: bool) -> list[Transition]:
        if up:
            self.link_down_since = None
            return self._cab()._close("link_down", t, "the sensor board answers again")
        self.link_down_since = self.link_down_since or t
        if t - self.link_down_since >= self.link_grace:
            return self._cab()._open(
                "link_down",
                "alarm",
                t,
                None,
                f"no serial link to the sensor board for {duration_text(t - self.link_down_since)}",
            )
        return []

    def clock(self, t: float, synchronised: bool | None) -> list[Transition]:
        if synchronised is None:
            return []
        if synchronised:
            return self._cab()._close("clock_unsynchronised", t, "the clock is synchronised")
        return self._cab()._open(
            "clock_unsynchronised",
            "warning",
            t,
            None,
            "the system clock is not synchronised: record times may drift",
        )
