"""Injectable clocks (the real one, one tests move through time, the demo's fast one), and
whether the system clock is synchronised: records and retention depend on it."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import time
from typing import Protocol

from veilcam.errors import ConfigError


class Clock(Protocol):
    def now(self) -> float:
        """Wall time, seconds since the epoch (what records are stamped with)."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (what delays are measured on)."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class FakeClock:
    """A clock that only moves when told; sleepers wake when it passes their deadline."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = start
        self._mono = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    async def sleep(self, seconds: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self._mono + max(0.0, seconds), fut))
        await fut

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose deadline has passed."""
        self._now += seconds
        self._mono += seconds
        due = [(t, f) for t, f in self._sleepers if t <= self._mono]
        self._sleepers = [(t, f) for t, f in self._sleepers if t > self._mono]
        for _, fut in due:
            if not fut.done():
                fut.set_result(None)


class ScaledClock:
    """The demo's clock: simulated time running ``speed`` times faster than real time, from
    now on, so that a simulated day of fridge readings, alarms and reports takes minutes."""

    def __init__(self, speed: float) -> None:
        if speed <= 0:
            raise ConfigError(f"speed must be positive, not {speed:g}")
        self.speed = speed
        self._wall0, self._mono0 = time.time(), time.monotonic()

    def now(self) -> float:
        return self._wall0 + (time.monotonic() - self._mono0) * self.speed

    def monotonic(self) -> float:
        return (time.monotonic() - self._mono0) * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)


TIME_ERROR = 5  # adjtimex(2): the clock is not synchronised


async def sleep_or_wake(clock: Clock, seconds: float, wake: asyncio.Event) -> None:
    """Sleep ``seconds`` of ``clock``'s time, or less if ``wake`` is set meanwhile: how a
    service polls its table yet acts at once when told there is something new."""
    sleeper = asyncio.ensure_future(clock.sleep(seconds))
    waker = asyncio.ensure_future(wake.wait())
    try:
        await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleeper.cancel()
        waker.cancel()


def synchronised() -> bool | None:
    """True or False from the kernel; None where it cannot be asked (not Linux/glibc)."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        adjtimex = ctypes.CDLL(name, use_errno=True).adjtimex
    except (OSError, AttributeError):
        return None
    buf = ctypes.create_string_buffer(512)  # struct timex, modes = 0: read only
    state: int = adjtimex(buf)
    if state < 0:
        return None
    return state != TIME_ERROR
