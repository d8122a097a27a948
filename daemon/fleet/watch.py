"""``veilcam fleet watch``: the operations desk's view of every box on a broker, live.

It subscribes to what boxes publish (``<prefix>/+/+/availability``, ``health``,
``cabinet/+/...``, ``alarm/#``; most of it retained, so a desk that starts late still sees
every box at once) and keeps one row per box: online or not, its health and the parts that
are not ok, its open alarms, its last reading. ``FleetView`` is that state, fed message by
message; ``table`` draws it with rich.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from rich.table import Table
from rich.text import Text

SUBSCRIPTIONS = (
    "+/+/availability",
    "+/+/health",
    "+/+/cabinet/+/temperature",
    "+/+/cabinet/+/door",
    "+/+/alarm/#",
)


@dataclass
class Box:
    site: str
    device: str
    online: bool | None = None
    overall: str | None = None
    problems: list[str] = field(default_factory=list)
    alarms: dict[str, dict[str, Any]] = field(default_factory=dict)  # source/subject/rule
    readings: dict[str, tuple[float, float]] = field(default_factory=dict)  # cabinet: value, at
    doors: dict[str, str] = field(default_factory=dict)
    seen_at: float = 0.0


class FleetView:
    """Every box seen under ``prefix``, updated from its messages."""

    def __init__(self, prefix: str = "veilcam") -> None:
        self.prefix = prefix
        self.boxes: dict[tuple[str, str], Box] = {}
        self.ignored = 0  # messages that were not what a box publishes

    def update(self, topic: str, payload: bytes, now: float | None = None) -> None:
        parts = topic.split("/")
        if len(parts) < 4 or parts[0] != self.prefix:
            self.ignored += 1
            return
        site, device, rest = parts[1], parts[2], parts[3:]
        box = self.boxes.setdefault((site, device), Box(site, device))
        box.seen_at = time.time() if now is None else now
        try:
            if rest == ["availability"]:
                box.online = payload == b"online"
                return
            doc = json.loads(payload) if payload else None
        except ValueError:
            self.ignored += 1
            return
        if not isinstance(doc, dict):
            if rest[0] == "alarm" and doc is None:  # a retained alarm cleared by the broker
                box.alarms.pop("/".join(rest[1:4]), None)
            return
        if rest == ["health"]:
            box.overall = str(doc.get("overall"))
            parts_doc = doc.get("parts") or {}
            box.problems = sorted(
                name
                for name, s in parts_doc.items()
                if isinstance(s, dict) and s.get("state") != "ok"
            )
        elif rest[0] == "cabinet" and len(rest) == 3 and rest[2] == "temperature":
            if isinstance(doc.get("value"), int | float):
                box.readings[rest[1]] = (float(doc["value"]), float(doc.get("at") or 0))
        elif rest[0] == "cabinet" and len(rest) == 3 and rest[2] == "door":
            box.doors[rest[1]] = str(doc.get("state"))
        elif rest[0] == "alarm" and len(rest) == 4:
            key = "/".join(rest[1:4])
            if doc.get("state") == "on":
                box.alarms[key] = doc
            else:
                box.alarms.pop(key, None)

    def rows(self) -> list[Box]:
        return [self.boxes[k] for k in sorted(self.boxes)]


def _age(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def table(view: FleetView, now: float | None = None) -> Table:
    now = time.time() if now is None else now
    t = Table(title=f"veilcam fleet: {len(view.boxes)} box(es)", expand=False)
    for column in ("site", "device", "link", "health", "open alarms", "last reading"):
        t.add_column(column, overflow="fold")
    for box in view.rows():
        if box.online is None:
            link = Text("?", "yellow")
        else:
            link = Text("online", "green") if box.online else Text("OFFLINE", "bold red")
        style = {"ok": "green", "warning": "yellow"}.get(box.overall or "", "red")
        health = Text(box.overall or "?", style)
        if box.problems:
            health.append(" (" + ", ".join(box.problems) + ")", "dim")
        alarms = Text()
        for _, doc in sorted(box.alarms.items()):
            level = str(doc.get("level", ""))
            line = f"{level.upper()}: {doc.get('subject')} {doc.get('rule')}"
            alarms.append(("\n" if alarms else "") + line, "red" if level == "alarm" else "yellow")
        reading = Text()
        if box.readings:
            cabinet, (value, at) = max(box.readings.items(), key=lambda kv: kv[1][1])
            reading.append(f"{cabinet} {value:.1f} °C, {_age(max(0.0, now - at))}")
        t.add_row(box.site, box.device, link, health, alarms or Text("none", "green"), reading)
    return t
