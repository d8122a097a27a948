"""In-process fan-out of events (door openings, ...) to bounded subscriber queues.

A slow subscriber loses events (counted) instead of slowing the publisher down.
"""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

E = TypeVar("E")


class Subscription(Generic[E]):
    def __init__(self, hub: Hub[E], maxsize: int) -> None:
        self._hub = hub
        self.queue: asyncio.Queue[E] = asyncio.Queue(maxsize)
        self.dropped = 0

    async def get(self) -> E:
        return await self.queue.get()

    def close(self) -> None:
        self._hub._subs.discard(self)


class Hub(Generic[E]):
    def __init__(self) -> None:
        self._subs: set[Subscription[E]] = set()

    def subscribe(self, maxsize: int = 256) -> Subscription[E]:
        sub = Subscription(self, maxsize)
        self._subs.add(sub)
        return sub

    def dropped(self) -> int:
        return sum(sub.dropped for sub in self._subs)

    def publish(self, event: E) -> None:
        for sub in self._subs:
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                sub.dropped += 1
