"""The redaction step of every capture. It fails closed: if it cannot redact, it blanks.

``VisionRedactor`` finds faces, people, hands and changes against a fridge's reference
picture (``vision``), then paints over the union of them with the native kernels: face boxes
grown about their centre, masks per connected region. ``FailClosedRedactor`` is what runs
when the models cannot be loaded: every stored picture is a blank frame stating the reason.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from veilcam_native import mask as masks
from veilcam_native import redact as kernels

from .imaging import blank_frame

if TYPE_CHECKING:
    from .calibration import References
    from .config import CameraConfig
    from .vision.pipeline import Found, Policy, Vision

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Redacted:
    pixels: np.ndarray
    regions: dict[str, int] = field(default_factory=dict)  # redacted regions per kind
    models: list[str] = field(default_factory=list)
    blank_reason: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, object]:
        status = "blanked" if self.blank_reason else "redacted"
        return {"status": status, "regions": self.regions, "models": self.models}


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


def grown(box: tuple[float, float, float, float], factor: float) -> tuple[float, ...]:
    x0, y0, x1, y1 = box
    cx, cy, hw, hh = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) * factor / 2, (y1 - y0) * factor / 2
    return (cx - hw, cy - hh, cx + hw, cy + hh)


def _paint_boxes(image: np.ndarray, boxes: np.ndarray, mode: str) -> None:
    """Irreversible at any size: pixelate keeps at most 5 cells across a region, blur uses
    three box passes of a radius a sixth of the region (a Gaussian far wider than a feature)."""
    if not len(boxes):
        return
    if mode == "fill":
        kernels.fill(image, boxes, 0)
    elif mode == "pixelate":
        kernels.pixelate(image, boxes, max_cells=5)
    else:
        b = kernels.clip_boxes(boxes, image.shape)
        radii = np.maximum(2, np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) // 6)
        for _ in range(3):
            kernels.box_blur(image, b, radii)


def _paint_mask(image: np.ndarray, mask: np.ndarray, mode: str) -> None:
    """Each connected region of the mask painted, its edge feathered outward."""
    if not mask.any():
        return
    h, w = mask.shape
    radius = max(2, max(h, w) // 60)
    kernels.redact_mask(image, mask, mode, feather=2, radius=radius, max_cells=5)


def apply(
    frame: np.ndarray, found: Found, mode: str, face_growth: float
) -> tuple[np.ndarray, dict[str, int]]:
    """A redacted copy of ``frame`` and the number of regions redacted per kind."""
    out = frame.copy()
    regions: dict[str, int] = {}
    h, w = frame.shape[:2]
    # Masks first (people are large, soft-edged), then boxes on top.
    union = np.zeros((h, w), np.uint8)
    if found.people is not None and found.people.any():
        people = masks.dilate(found.people, max(1, max(h, w) // 100))
        regions["person"] = len(masks.mask_boxes(people, min_area=16))
        union |= people
    if found.changes is not None and found.changes.any():
        regions["change"] = len(masks.mask_boxes(found.changes, min_area=16))
        union |= found.changes
    if union.any():
        _paint_mask(out, union, mode)
    boxes = [grown(r.box, face_growth) for r in found.faces]
    boxes += [grown(r.box, max(face_growth, 1.5)) for r in found.hands]
    if found.faces:
        regions["face"] = len(found.faces)
    if found.hands:
        regions["hand"] = len(found.hands)
    if boxes:
        _paint_boxes(out, kernels.clip_boxes(np.asarray(boxes, np.float64), out.shape), mode)
    return out, regions


class VisionRedactor:
    """Detect, then redact; each camera's policy from its config. Thread-safe."""

    def __init__(self, vision: Vision, store: References | None = None) -> None:
        self.vision = vision
        self.store = store  # fridge cameras' reference pictures

    def references(self, camera: str) -> np.ndarray | None:
        return self.store.load(camera) if self.store else None

    @staticmethod
    def policy(camera: CameraConfig) -> Policy:
        from .vision.pipeline import Policy

        r = camera.redaction
        hands = r.hands if r.hands is not None else camera.purpose == "fridge"
        return Policy(
            hands=hands,
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
        out, regions = apply(pixels, found, camera.redaction.mode, policy.face_growth)
        timings = dict(found.timings_ms)
        timings["redact"] = round((time.perf_counter() - t1) * 1000, 2)
        timings["detect"] = round((t1 - t0) * 1000, 2)
        return Redacted(out, regions, found.models, timings_ms=timings)
