"""The redaction step of every capture. It fails closed: if it cannot redact, it blanks.

Until the on-device vision pipeline is installed, ``FailClosedRedactor`` is the
only redactor, and every stored picture is a blank frame that states the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .imaging import blank_frame


@dataclass(slots=True)
class Redacted:
    pixels: np.ndarray
    regions: dict[str, int] = field(default_factory=dict)  # redacted regions per kind
    models: list[str] = field(default_factory=list)
    blank_reason: str | None = None

    def summary(self) -> dict[str, object]:
        status = "blanked" if self.blank_reason else "redacted"
        return {"status": status, "regions": self.regions, "models": self.models}


class Redactor(Protocol):
    def redact(self, pixels: np.ndarray) -> Redacted:
        """Blocking; returns a frame safe to keep. Must never return ``pixels`` unredacted."""


def blanked(pixels: np.ndarray, reason: str) -> Redacted:
    return Redacted(blank_frame(pixels.shape[0], pixels.shape[1], reason), blank_reason=reason)


class FailClosedRedactor:
    """Used while no detector is available: the original never leaves memory."""

    reason = "no person detector is installed on this appliance"

    def redact(self, pixels: np.ndarray) -> Redacted:
        return blanked(pixels, self.reason)
