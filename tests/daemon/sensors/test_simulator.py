import random

import pytest

from veilcam.sensors.simulator import Cabinet, FaultRates


def run(cab: Cabinet, seconds: int, door_open: bool = False) -> list[float]:
    rng = random.Random(1)
    temps = []
    for _ in range(seconds):
        cab.step(1.0, door_open, rng)
        temps.append(cab.temp)
    return temps


def test_chiller_cycles_between_its_thermostat_limits() -> None:
    cab = Cabinet("1", low=2.5, high=5.0, cooling=0.02)
    temps = run(cab, 6 * 3600)[3600:]
    assert 2.3 < min(temps) and max(temps) < 5.2
    rising = [b > a for a, b in zip(temps, temps[1:], strict=False)]
    turns = sum(1 for a, b in zip(rising, rising[1:], strict=False) if a != b)
    assert turns > 10  # the compressor cycles; the temperature does not sit at one value


def test_open_door_warms_the_cabinet_faster_than_it_cools() -> None:
    cab = Cabinet("1", low=2.5, high=5.0, cooling=0.02)
    run(cab, 3600)
    temps = run(cab, 600, door_open=True)
    assert temps[-1] > 8.0  # a door left open for 10 minutes: above the 8 °C legal limit


def test_fault_spec_parsing() -> None:
    rates = FaultRates.parse("noise=0.1, unplug=0.01")
    assert rates.noise == 0.1 and rates.unplug == 0.01 and rates.bad_checksum == 0
    with pytest.raises(ValueError, match="noise: 'lots' is not a number"):
        FaultRates.parse("noise=lots")
