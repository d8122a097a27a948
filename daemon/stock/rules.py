"""Stock alerts for one fridge camera, as a pure state machine over its checks.

- ``facing_empty``: a facing seen empty in every accepted still for
  ``stock.empty_warning_after`` is a warning, for ``empty_alarm_after`` an alarm; the
  message lists the empty facings. It closes once none is empty that long. A facing seen
  ``unknown`` (a hand in front, a redacted region) neither starts nor stops its time. Only
  a still moves it on: a shop closed for the night raises nothing until its first picture
  in the morning, which then says how long.
- ``compliance_low``: planogram compliance under ``compliance_below`` in every accepted
  still for ``compliance_after``.
- ``stills_rejected``: the last three stills all rejected by the quality gate and none
  accepted for ``stale_after``: the stock shown is getting old, and why is said.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from veilcam.alerts.episodes import Episodes, Source, Transition, duration_text
from veilcam.config import StockConfig

SOURCE = Source(
    "stock",
    "Fridge",
    {
        "facing_empty": "facing empty",
        "compliance_low": "planogram compliance low",
        "stills_rejected": "no usable picture",
    },
)
REJECTED_IN_A_ROW = 3


@dataclass(frozen=True, slots=True)
class Seen:
    facing: int  # the facing's id
    label: str  # "Whole milk 1 l (shelf 1, position 2)"
    state: str


@dataclass(slots=True)
class FridgeStock:
    camera: str
    cfg: StockConfig
    episodes: Episodes = field(init=False)
    empty_since: dict[int, float] = field(default_factory=dict)
    labels: dict[int, str] = field(default_factory=dict)
    low_since: float | None = None
    last_accepted: float | None = None
    rejected: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.episodes = Episodes("stock", self.camera)

    def began(self, rule: str) -> float | None:
        if rule == "facing_empty" and self.empty_since:
            return min(self.empty_since.values())
        if rule == "compliance_low":
            return self.low_since
        ep = self.episodes.open.get(rule)
        return ep.opened_at if ep else None

    def accepted(
        self, t: float, seen: Sequence[Seen], compliance: float | None
    ) -> list[Transition]:
        out = self.episodes.close("stills_rejected", t, "a usable picture again")
        self.last_accepted, self.rejected = t, []
        present = {s.facing for s in seen}
        for fid in list(self.empty_since):
            if fid not in present:  # taken off the planogram
                del self.empty_since[fid]
        for s in seen:
            self.labels[s.facing] = s.label
            if s.state == "empty":
                self.empty_since.setdefault(s.facing, t)
            elif s.state != "unknown":
                self.empty_since.pop(s.facing, None)
        out += self._empty(t)
        if compliance is not None and compliance < self.cfg.compliance_below:
            self.low_since = self.low_since if self.low_since is not None else t
            if t - self.low_since >= self.cfg.compliance_after:
                out += self.episodes.raise_to(
                    "compliance_low",
                    "warning",
                    t,
                    compliance,
                    f"planogram compliance {compliance:.0%} (under "
                    f"{self.cfg.compliance_below:.0%}) for {duration_text(t - self.low_since)}",
                )
        elif compliance is not None:
            self.low_since = None
            out += self.episodes.close("compliance_low", t, f"compliance back to {compliance:.0%}")
        return out

    def _empty(self, t: float) -> list[Transition]:
        cfg = self.cfg
        long = sorted(
            (
                (t - since, fid)
                for fid, since in self.empty_since.items()
                if t - since >= cfg.empty_warning_after
            ),
            reverse=True,
        )
        if not long:
            return self.episodes.close("facing_empty", t, "every facing restocked")
        level = "alarm" if long[0][0] >= cfg.empty_alarm_after else "warning"
        parts = [f"{self.labels.get(fid, fid)} for {duration_text(d)}" for d, fid in long[:6]]
        more = f" and {len(long) - 6} more" if len(long) > 6 else ""
        msg = f"{len(long)} facing(s) empty: " + "; ".join(parts) + more
        return self.episodes.raise_to("facing_empty", level, t, float(len(long)), msg)

    def rejected_still(self, t: float, reason: str) -> list[Transition]:
        self.rejected = [*self.rejected[-(REJECTED_IN_A_ROW - 1) :], reason]
        stale = self.last_accepted is None or t - self.last_accepted >= self.cfg.stale_after
        if len(self.rejected) >= REJECTED_IN_A_ROW and stale:
            since = "ever" if self.last_accepted is None else duration_text(t - self.last_accepted)
            return self.episodes.raise_to(
                "stills_rejected",
                "warning",
                t,
                None,
                f"no usable picture for {since}; the last was rejected: {reason}",
            )
        return []
