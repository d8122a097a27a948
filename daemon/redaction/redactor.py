"""The redaction step of every capture. It fails closed: if it cannot redact, it blanks.

``VisionRedactor`` finds faces, people, hands and changes against a fridge's reference
picture (``vision``), then paints over the union of them (``paint``). ``FailClosedRedactor``
is what runs when the models cannot be loaded: every stored picture is a blank frame stating
the reason.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from veilcam.redaction.imaging import blank_frame
from veilcam.redaction.paint import painted
from veilcam.vision.pipeline import Policy

if TYPE_CHECKING:
    from veilcam.config import CameraConfig
    from veilcam.store.references import References
    from veilcam.vision.heads import Pose
    from veilcam.vision.pipeline import Vision

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Redacted:
    pixels: np.ndarray
    regions: dict[str, int] = field(default_factory=dict)  # redacted regions per kind
    models: list[str] = field(default_factory=list)
    blank_reason: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    boxes: list[list[int]] = field(default_factory=list)  # everything painted, x0 y0 x1 y1
    # Where people are (0/1, the frame's size), painted or not: a research camera records
    # only while someone is in its study's area. Never stored.
    people: np.ndarray | None = field(default=None, repr=False)
    # Research: each person's pose landmarks, for movement data. Never stored as they are.
    poses: list[Pose] = field(default_factory=list, repr=False)

    def summary(self) -> dict[str, object]:
        status = "blanked" if self.blank_reason else "redacted"
        return {
            "status": status,
            "regions": self.regions,
            "models": self.models,
            "boxes": self.boxes,
        }


class Redactor(Protocol):
    def redact(self, pixels: np.ndarray, camera: CameraConfig) -> Redacted:
        """Blocking; returns a frame safe to keep. Must never return ``pixels`` unredacted."""


def blanked(pixels: np.ndarray, reason: str) -> Redacted:
    return Redacted(blank_frame(pixels.shape[0], pixels.shape[1], reason), blank_reason=reason)


class FailClosedRedactor:
    """Used while no detector is available: the original never leaves memory."""

    def __init__(self, reason: str = "no person detector is installed on this appliance"):
        self.reason = reason

    def redact(self, pixels: np.ndarray, camera: CameraConfig | None = None) -> Redacted:
        return blanked(pixels, self.reason)


class VisionRedactor:
    """Detect, then redact; each camera's policy from its config. Thread-safe."""

    def __init__(self, vision: Vision, store: References | None = None) -> None:
        self.vision = vision
        self.store = store  # fridge cameras' reference pictures

    def references(self, camera: str) -> np.ndarray | None:
        return self.store.load(camera) if self.store else None

    @staticmethod
    def policy(camera: CameraConfig) -> Policy:
        r = camera.redaction
        return Policy(
            purpose=camera.purpose,
            hands=r.hands,
            min_face_px=r.min_face_px,
            face_growth=r.face_growth,
            reference_threshold=r.reference_threshold,
        )

    def redact(self, pixels: np.ndarray, camera: CameraConfig) -> Redacted:
        policy = self.policy(camera)
        reference = self.references(camera.name) if camera.purpose == "fridge" else None
        t0 = time.perf_counter()
        found = self.vision.find(pixels, policy, reference)
        t1 = time.perf_counter()
        out, regions, boxes = painted(
            pixels, found, camera.redaction.mode, policy.face_growth, round_heads=policy.round_heads
        )
        timings = dict(found.timings_ms)
        timings["redact"] = round((time.perf_counter() - t1) * 1000, 2)
        timings["detect"] = round((t1 - t0) * 1000, 2)
        return Redacted(
            out,
            regions,
            found.models,
            timings_ms=timings,
            boxes=boxes,
            people=found.bodies,
            poses=found.poses,
        )
