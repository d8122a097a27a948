"""Painting over what was found: face and hand boxes grown about their centre, person and
change masks region by region, with the native kernels (fill, pixelate or blur)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from veilcam_native import mask as masks
from veilcam_native import redact as kernels

if TYPE_CHECKING:
    from veilcam.vision.pipeline import Found


def grown(box: tuple[float, float, float, float], factor: float) -> tuple[float, ...]:
    x0, y0, x1, y1 = box
    cx, cy, hw, hh = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) * factor / 2, (y1 - y0) * factor / 2
    return (cx - hw, cy - hh, cx + hw, cy + hh)


def paint_boxes(image: np.ndarray, boxes: np.ndarray, mode: str) -> None:
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


def paint_mask(image: np.ndarray, mask: np.ndarray, mode: str) -> None:
    """Each connected region of the mask painted, its edge feathered outward."""
    if not mask.any():
        return
    h, w = mask.shape
    radius = max(2, max(h, w) // 60)
    masks.redact_mask(image, mask, mode, feather=2, radius=radius, max_cells=5)


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
        paint_mask(out, union, mode)
    boxes = [grown(r.box, face_growth) for r in found.faces]
    boxes += [grown(r.box, max(face_growth, 1.5)) for r in found.hands]
    if found.faces:
        regions["face"] = len(found.faces)
    if found.hands:
        regions["hand"] = len(found.hands)
    if boxes:
        paint_boxes(out, kernels.clip_boxes(np.asarray(boxes, np.float64), out.shape), mode)
    return out, regions
