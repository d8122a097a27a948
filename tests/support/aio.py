"""Waiting in tests without fixed sleeps: for tasks a FakeClock woke, or for a condition."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def settle(rounds: int = 5) -> None:
    """Let tasks woken by a FakeClock advance run their next steps."""
    for _ in range(rounds):
        await asyncio.sleep(0)


async def until(predicate: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    """Poll ``predicate`` every 10 ms until it holds; fail after ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await predicate():
        if loop.time() > deadline:
            raise AssertionError(f"condition not reached within {seconds:g}s")
        await asyncio.sleep(0.01)
