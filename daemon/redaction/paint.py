"""Painting over what was found: face and hand boxes grown about their centre, person and
change masks region by region, with the native kernels (fill, pixelate or blur)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from veilcam_native import mask as masks
from veilcam_native import redact as kernels

if TYPE_CHECKING:
    from veilcam.vision.detect import Region
    from veilcam.vision.pipeline import Found

HEAD_GROWTH = 1.2  # a head box from pose landmarks already reaches the hair and chin
# A head is narrower than it is tall, and a face box sits low on it (eyebrows to chin):
# its ellipse is 0.8 times as wide as tall and raised a tenth of the box.
HEAD_WIDTH = 0.8
HEAD_RISE = 0.1
ELLIPSE_MIN_GROWTH = 1.75


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


def ellipses(regions: list[Region], growth: float) -> np.ndarray:
    """Rows (cx, cy, rx, ry) of a head's ellipse round each box grown by ``growth``: as tall
    as the grown box, 0.8 as wide, raised a tenth of the box. It holds the whole box from a
    growth of 1.74 on (corner: (0.5 / 0.4g)^2 + (0.6 / 0.5g)^2 <= 1), so smaller growths
    are raised to that."""
    growth = max(growth, ELLIPSE_MIN_GROWTH)
    b = np.array([r.box for r in regions], np.float64).reshape(-1, 4)
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    return np.stack(
        [
            (b[:, 0] + b[:, 2]) / 2,
            (b[:, 1] + b[:, 3]) / 2 - HEAD_RISE * h,
            w * growth / 2 * HEAD_WIDTH,
            h * growth / 2,
        ],
        1,
    )


def apply(
    frame: np.ndarray, found: Found, mode: str, face_growth: float, *, round_heads: bool = False
) -> tuple[np.ndarray, dict[str, int]]:
    """A redacted copy of ``frame`` and the number of regions redacted per kind. With
    ``round_heads`` (cameras that keep bodies), faces and heads are painted as the ellipse
    in their grown box, not the whole box: the shoulders and hands beside a head stay."""
    out, regions, _ = painted(frame, found, mode, face_growth, round_heads=round_heads)
    return out, regions


def painted(
    frame: np.ndarray, found: Found, mode: str, face_growth: float, *, round_heads: bool = False
) -> tuple[np.ndarray, dict[str, int], list[list[int]]]:
    """``apply``, and the boxes ``[x0, y0, x1, y1]`` of everything painted: what later
    analysis (stock) must treat as unseen."""
    out = frame.copy()
    regions: dict[str, int] = {}
    painted_boxes: list[np.ndarray] = []
    h, w = frame.shape[:2]
    # Masks first (people are large, soft-edged), then boxes on top.
    union = np.zeros((h, w), np.uint8)
    if found.people is not None and found.people.any():
        people = masks.dilate(found.people, max(1, max(h, w) // 100))
        boxes_p = masks.mask_boxes(people, min_area=16)
        regions["person"] = len(boxes_p)
        painted_boxes.append(boxes_p)
        union |= people
    if found.changes is not None and found.changes.any():
        boxes_c = masks.mask_boxes(found.changes, min_area=16)
        regions["change"] = len(boxes_c)
        painted_boxes.append(boxes_c)
        union |= found.changes
    faces, heads = found.faces, found.heads
    if round_heads and (faces or heads):
        rows = np.concatenate([ellipses(faces, face_growth), ellipses(heads, HEAD_GROWTH)])
        union |= masks.ellipse_mask(frame.shape, rows)
        painted_boxes.append(
            np.column_stack(
                [
                    rows[:, 0] - rows[:, 2],
                    rows[:, 1] - rows[:, 3],
                    rows[:, 0] + rows[:, 2] + 1,
                    rows[:, 1] + rows[:, 3] + 1,
                ]
            )
        )
        faces, heads = [], []
    if union.any():
        paint_mask(out, union, mode)
    boxes = [grown(r.box, face_growth) for r in faces]
    boxes += [grown(r.box, max(face_growth, 1.5)) for r in found.hands]
    boxes += [r.box for r in heads]  # already the whole head
    if found.heads:
        regions["head"] = len(found.heads)
    if found.faces:
        regions["face"] = len(found.faces)
    if found.hands:
        regions["hand"] = len(found.hands)
    if boxes:
        clipped = kernels.clip_boxes(np.asarray(boxes, np.float64), out.shape)
        paint_boxes(out, clipped, mode)
        painted_boxes.append(clipped)
    every = [
        [int(v) for v in row]
        for part in painted_boxes
        for row in kernels.clip_boxes(np.asarray(part, np.float64).reshape(-1, 4), out.shape)
    ]
    return out, regions, every
