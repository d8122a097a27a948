"""Every alarm rule against an injected timeline: fires after its delay and not before,
clears with hysteresis, stays quiet during defrost and after a door opening, fires once per
episode under noise."""

from __future__ import annotations

import datetime as dt
import random

from veilcam.coldchain.limits import PROFILES, Limits
from veilcam.coldchain.rules import Cabinet, Transition

T0 = dt.datetime(2026, 11, 23, 8, 0).timestamp()  # a Monday morning, local time
GRACE = PROFILES["chiller"].power_up_grace


def chiller(**kw: object) -> Cabinet:
    from dataclasses import replace

    return Cabinet("chiller-1", replace(PROFILES["chiller"], **kw), started_at=T0)  # type: ignore[arg-type]


def run(
    cab: Cabinet, start: float, minutes: float, temp: float | callable, step: float = 60
) -> list[Transition]:  # type: ignore[valid-type]
    out: list[Transition] = []
    t = start
    while t < start + minutes * 60:
        v = temp(t) if callable(temp) else temp
        out += cab.temperature(t, v)
        out += cab.tick(t)
        t += step
    return out


def kinds(ts: list[Transition], rule: str | None = None) -> list[tuple[str, str, str]]:
    return [(x.rule, x.change, x.level) for x in ts if rule is None or x.rule == rule]


def test_temperature_fires_after_the_delay_and_not_before() -> None:
    cab = chiller()
    start = T0 + GRACE
    assert run(cab, start, 29, 6.0) == []  # 29 minutes warm: nothing yet
    out = run(cab, start + 29 * 60, 2, 6.0)
    assert kinds(out) == [("temperature", "open", "warning")]
    assert "above 5.0 °C for 30 min" in out[0].message


def test_temperature_escalates_then_clears_with_hysteresis() -> None:
    cab = chiller()
    start = T0 + GRACE
    out = run(cab, start, 40, 9.0)
    assert kinds(out) == [("temperature", "open", "warning"), ("temperature", "level", "alarm")]
    t = start + 40 * 60
    assert run(cab, t, 30, 4.8) == []  # under the limit, but not by the hysteresis: still open
    t += 30 * 60
    out = run(cab, t, 4, 4.2)
    assert out == []  # 4 minutes well under: not yet
    out = run(cab, t + 4 * 60, 3, 4.2)
    assert kinds(out) == [("temperature", "close", "alarm")]
    assert "peak 9.0 °C" in out[0].message and "lasted 45 min" in out[0].message


def test_noise_around_the_limit_opens_once_and_never_flaps() -> None:
    cab = chiller()
    rng = random.Random(4)
    start = T0 + GRACE
    out = run(cab, start, 40, 7.0)  # a real warm spell opens it
    out += run(cab, start + 40 * 60, 600, lambda t: 5.0 + rng.uniform(-0.4, 0.4))
    opens = [x for x in out if x.change == "open" and x.rule == "temperature"]
    closes = [x for x in out if x.change == "close" and x.rule == "temperature"]
    assert len(opens) == 1 and closes == []


def test_noise_alone_never_opens_it() -> None:
    cab = chiller()
    rng = random.Random(5)
    out = run(cab, T0 + GRACE, 24 * 60, lambda t: 4.9 + rng.uniform(-0.5, 0.5))
    assert not [x for x in out if x.rule == "temperature"]


def test_quiet_during_defrost() -> None:
    start_of_defrost = 10 * 3600  # 10:00 local, 45 minutes
    cab = chiller(defrost=((start_of_defrost, 45 * 60),))
    day = dt.datetime(2026, 11, 23).timestamp()
    out = run(cab, day + start_of_defrost, 45, 9.0)
    assert not [x for x in out if x.rule == "temperature"]
    # the same warmth outside the window does fire
    out = run(cab, day + 12 * 3600, 40, 9.0)
    assert ("temperature", "open", "warning") in kinds(out)


def test_quiet_after_a_door_opening_and_at_power_up() -> None:
    cab = chiller(door_grace=180)
    assert not [x for x in run(cab, T0, 29, 9.0) if x.rule == "temperature"]  # power-up grace
    t = T0 + GRACE
    cab.door(t, True)
    cab.door(t + 60, False)
    # Warm air after the door: the first 3 minutes start no timer, so the 30 minutes run
    # from t + 4 min.
    out = run(cab, t + 60, 33, 9.0)
    assert not [x for x in out if x.rule == "temperature"]
    out = run(cab, t + 34 * 60, 2, 9.0)
    assert ("temperature", "open", "warning") in kinds(out)


def test_a_busy_door_does_not_hide_a_failing_compressor() -> None:
    cab = chiller(door_grace=180)
    t = T0 + GRACE
    out: list[Transition] = []
    for minute in range(40):  # a door opening every minute, and the fridge at 9 °C
        out += cab.temperature(t + minute * 60, 9.0)
        if minute >= 1:
            out += cab.door(t + minute * 60 + 10, True) + cab.door(t + minute * 60 + 20, False)
    assert ("temperature", "open", "warning") in kinds(out)


def test_cumulative_warmth_over_the_window() -> None:
    cab = chiller(cumulative_window=2 * 3600, cumulative_limit=60 * 60)
    out: list[Transition] = []
    t = T0 + GRACE
    for _ in range(5):  # 20 minutes warm, 5 minutes cool: never 30 continuous minutes
        out += run(cab, t, 20, 7.0)
        out += run(cab, t + 20 * 60, 5, 4.0)
        t += 25 * 60
    assert not [x for x in out if x.rule == "temperature"]
    assert [x.change for x in out if x.rule == "temperature_cumulative"] == ["open"]


def test_door_left_open() -> None:
    cab = chiller()
    t = T0 + GRACE
    cab.door(t, True)
    assert kinds(cab.tick(t + 179), "door_open") == []
    assert kinds(cab.tick(t + 180), "door_open") == [("door_open", "open", "warning")]
    assert kinds(cab.tick(t + 300), "door_open") == []  # once
    assert kinds(cab.tick(t + 600), "door_open") == [("door_open", "level", "alarm")]
    out = cab.door(t + 700, False)
    assert (
        kinds(out) == [("door_open", "close", "alarm")] and "closed after 11 min" in out[0].message
    )


def test_too_many_openings_in_an_hour() -> None:
    cab = chiller(openings_per_hour=30)
    t = T0 + GRACE
    out: list[Transition] = []
    for i in range(31):
        out += cab.door(t + i * 60, True) + cab.door(t + i * 60 + 10, False)
    assert kinds(out) == [("door_frequent", "open", "warning")]
    later = cab.tick(t + 31 * 60 + 3600)
    assert kinds(later, "door_frequent") == [("door_frequent", "close", "warning")]


def test_no_opening_for_a_day() -> None:
    cab = chiller(no_opening_for=24 * 3600)
    assert kinds(cab.tick(T0 + 24 * 3600 - 1), "door_stuck") == []
    assert kinds(cab.tick(T0 + 24 * 3600), "door_stuck") == [("door_stuck", "open", "warning")]
    assert kinds(cab.door(T0 + 25 * 3600, True)) == [("door_stuck", "close", "warning")]


def test_silent_sensor() -> None:
    cab = chiller()
    t = T0 + GRACE
    cab.temperature(t, 4.0)
    assert cab.tick(t + 299) == []
    assert kinds(cab.tick(t + 300)) == [("sensor_silent", "open", "warning")]
    assert kinds(cab.tick(t + 900)) == [("sensor_silent", "level", "alarm")]
    assert kinds(cab.temperature(t + 960, 4.0)) == [("sensor_silent", "close", "alarm")]


def test_probe_fault_values() -> None:
    cab = chiller(clear_after=300)
    t = T0 + GRACE
    out = cab.fault(t, "probe_disconnected") + cab.fault(t + 60, "probe_disconnected")
    assert kinds(out) == [("sensor_fault", "open", "alarm")] and "-127.00" in out[0].message
    assert cab.tick(t + 200) == []  # a probe reporting faults is not silent
    out = run(cab, t + 120, 4, 4.0)
    assert not [x for x in out if x.rule == "sensor_fault"]
    out = run(cab, t + 360, 3, 4.0)
    assert kinds([x for x in out if x.rule == "sensor_fault"]) == [
        ("sensor_fault", "close", "alarm")
    ]


def test_freezer_profile_limits() -> None:
    freezer = Cabinet("freezer-1", PROFILES["freezer"], started_at=T0)
    out = run(freezer, T0 + GRACE, 35, -16.0)
    assert kinds(out) == [("temperature", "open", "warning")]
    assert isinstance(PROFILES["freezer"], Limits) and PROFILES["freezer"].warn_above == -18.0


def test_the_power_up_value_once_is_no_fault_but_repeated_it_is() -> None:
    cab = chiller()
    t = T0 + GRACE
    assert cab.fault(t, "power_on_value") == []  # every DS18B20 says 85.00 °C once at power-up
    cab.temperature(t + 1, 4.0)
    out = cab.fault(t + 2, "power_on_value") + cab.fault(t + 3, "power_on_value")
    assert out == []
    out = cab.fault(t + 4, "power_on_value")
    assert kinds(out) == [("sensor_fault", "open", "alarm")] and "85.00" in out[0].message


def test_the_serial_link_down_for_a_minute_is_an_alarm() -> None:
    from veilcam.coldchain.rules import Board

    board = Board(link_grace=60)
    assert board.link(T0, False) == [] and board.link(T0 + 59, False) == []
    out = board.link(T0 + 60, False)
    assert kinds(out) == [("link_down", "open", "alarm")] and out[0].subject == "board"
    assert board.link(T0 + 120, False) == []  # once
    assert kinds(board.link(T0 + 130, True)) == [("link_down", "close", "alarm")]


def test_an_unsynchronised_clock_is_a_warning() -> None:
    from veilcam.coldchain.rules import Board

    board = Board()
    assert board.clock(T0, None) == []  # cannot tell: says nothing
    assert kinds(board.clock(T0, False)) == [("clock_unsynchronised", "open", "warning")]
    assert board.clock(T0 + 10, False) == []
    assert kinds(board.clock(T0 + 20, True)) == [("clock_unsynchronised", "close", "warning")]
