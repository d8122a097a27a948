"""Simulator scenarios: each does to the board what its name says, at any speed."""

from __future__ import annotations

import asyncio

import pytest

from veilcam.clock import ScaledClock
from veilcam.sensors.simulator import SCENARIOS, BoardSimulator


def day(scenario: str, hours: float = 24, step: float = 1.0) -> tuple[list[float], BoardSimulator]:
    sim = BoardSimulator(scenario=scenario, seed=2, door_interval=180)
    temps = []
    for _ in range(int(hours * 3600 / step)):
        sim.sim_t += step
        sim._doors_step()
        sim._physics(step)
        temps.append(sim.cabinets[0].temp)
    return temps, sim


def hours_above(temps: list[float], limit: float) -> float:
    return sum(1 for t in temps if t > limit) / 3600


def test_a_normal_day_holds_the_chiller_and_freezer() -> None:
    temps, sim = day("normal-day")
    assert hours_above(temps, 5.0) < 0.25 and max(temps) < 7
    assert sim.cabinets[1].temp < -18


def test_a_warm_night_warms_the_chiller_for_hours() -> None:
    temps, _ = day("warm-night")
    assert hours_above(temps, 8.0) > 5 and max(temps) > 15
    assert temps[int(12 * 3600)] < 5.5  # recovered after the repair


def test_a_door_left_open_heats_the_chiller() -> None:
    sim = BoardSimulator(scenario="door-left-open", seed=2, door_interval=10**9)
    changes = []
    for _ in range(3600):
        sim.sim_t += 1
        sim._doors_step()
        changes += sim._door_changes
        sim._door_changes.clear()
    assert changes == [("1", True), ("1", False)]


def test_defrost_warms_on_schedule_then_recovers() -> None:
    temps, _ = day("defrost-cycles", hours=7)
    assert max(temps[: 20 * 60]) > 8  # the first cycle starts at once
    assert max(temps[int(1.5 * 3600) : int(5.9 * 3600)]) < 5.5  # between cycles: cold again
    assert max(temps[int(6 * 3600) :]) > 8  # the next one, six hours on


def test_unknown_scenarios_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown scenario 'tropical'"):
        BoardSimulator(scenario="tropical")
    assert {
        "normal-day",
        "warm-night",
        "door-left-open",
        "defrost-cycles",
        "probe-disconnected",
        "noisy-line",
    } == set(SCENARIOS)


async def test_scaled_clock_runs_fast() -> None:
    clock = ScaledClock(600)
    t0, m0 = clock.now(), clock.monotonic()
    await clock.sleep(60)  # a simulated minute: a tenth of a real second
    assert 55 < clock.monotonic() - m0 < 120 and clock.now() - t0 >= 55
    with pytest.raises(ValueError):
        ScaledClock(0)
    await asyncio.sleep(0)
