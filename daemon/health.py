"""Health states of the appliance's parts; each change is logged once, not every retry."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from .clock import Clock

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
        states = {s.state for s in self._parts.values()}
        for worst in ("error", "warning"):
            if worst in states:
                return worst
        return "ok"

    def statuses(self) -> dict[str, Status]:
        return dict(sorted(self._parts.items()))

    def snapshot(self) -> dict[str, dict[str, object]]:
        return {
            name: {"state": s.state, "message": s.message, "since": s.since}
            for name, s in sorted(self._parts.items())
        }
