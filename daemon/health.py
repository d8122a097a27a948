"""Health states of the appliance's parts; each change is logged once, not every retry."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from veilcam.clock import Clock

log = logging.getLogger(__name__)

State = Literal["ok", "warning", "error", "stopped"]
_LEVEL = {
    "ok": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "stopped": logging.INFO,
}


@dataclass(slots=True)
class Status:
    state: State
    message: str
    since: float


def worst(states: Iterable[str]) -> State:
    """The overall state of parts in ``states``: error beats warning beats ok."""
    present = set(states)
    for state in ("error", "warning"):
        if state in present:
            return state
    return "ok"


class Health:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._parts: dict[str, Status] = {}

    def set(self, component: str, state: State, message: str = "") -> None:
        old = self._parts.get(component)
        if old is not None and old.state == state and old.message == message:
            return
        if old is None or old.state != state:
            log.log(_LEVEL[state], "health %s: %s %s", component, state, message)
            self._parts[component] = Status(state, message, self._clock.now())
        else:
            old.message = message

    def get(self, component: str) -> Status | None:
        return self._parts.get(component)

    def overall(self) -> State:
        return worst(s.state for s in self._parts.values())

    def statuses(self) -> dict[str, Status]:
        return dict(sorted(self._parts.items()))

    def snapshot(self) -> dict[str, dict[str, object]]:
        return {
            name: {"state": s.state, "message": s.message, "since": s.since}
            for name, s in sorted(self._parts.items())
        }
