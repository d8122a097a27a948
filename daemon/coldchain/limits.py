"""Each cabinet's alarm limits: its profile's, with what its configuration sets."""

from __future__ import annotations

from dataclasses import dataclass, replace

from veilcam.config import PROFILE_LIMITS, CabinetConfig


@dataclass(frozen=True, slots=True)
class Limits:
    warn_above: float  # °C
    alarm_above: float
    hysteresis: float = 0.5
    delay: float = 30 * 60
    clear_after: float = 5 * 60
    cumulative_window: float = 2 * 3600
    cumulative_limit: float = 60 * 60
    door_grace: float = 3 * 60  # after a door closes, warming is expected
    power_up_grace: float = 30 * 60
    defrost: tuple[tuple[int, int], ...] = ()  # (seconds after local midnight, duration)
    door_open_warning: float = 3 * 60
    door_open_alarm: float = 10 * 60
    openings_per_hour: int = 30
    no_opening_for: float = 24 * 3600
    silent_warning: float = 5 * 60
    silent_alarm: float = 15 * 60


# Every profile's limits but the custom one, whose cabinets set both.
PROFILES = {
    name: Limits(warn_above=warn, alarm_above=alarm)
    for name, (warn, alarm) in PROFILE_LIMITS.items()
}


def limits_for(cfg: CabinetConfig) -> Limits:
    base = PROFILES.get(cfg.profile) or Limits(warn_above=0.0, alarm_above=0.0)
    defrost = tuple(
        (int(t[:2]) * 3600 + int(t[3:]) * 60, int(cfg.defrost_duration)) for t in cfg.defrost_times
    )
    return replace(
        base,
        warn_above=cfg.warn_above if cfg.warn_above is not None else base.warn_above,
        alarm_above=cfg.alarm_above if cfg.alarm_above is not None else base.alarm_above,
        delay=cfg.delay,
        door_open_warning=cfg.door_open_warning,
        door_open_alarm=cfg.door_open_alarm,
        openings_per_hour=cfg.openings_per_hour,
        silent_warning=cfg.silent_warning,
        silent_alarm=3 * cfg.silent_warning,
        defrost=defrost,
    )
