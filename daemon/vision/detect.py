"""Detectors over whole frames: BlazeFace and palm detection run on a grid of square tiles at
several scales (so a face 20 pixels wide in a 4K frame is still seen at a size the model
knows), person segmentation on the whole frame, and for fridge cameras a difference against
the calibrated reference picture. Each returns regions in frame pixels.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from . import ssd
from .runtime import TFLiteModel


@dataclass(frozen=True, slots=True)
class Region:
    kind: str  # face | person | hand | change
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in frame pixels
    score: float


def squares(h: int, w: int, size: int, overlap: float) -> list[tuple[int, int, int]]:
    """Square tiles (x0, y0, side) of ``size`` covering an HxW frame, neighbours overlapping
    by ``overlap`` of a tile; one tile (the whole frame, letterboxed) when it is small."""
    if size >= max(h, w):
        return [(0, 0, max(h, w))]
    step = max(1, int(size * (1 - overlap)))

    def starts(n: int) -> list[int]:
        if n <= size:
            return [0]
        out = list(range(0, n - size, step))
        return [*out, n - size]

    return [(x, y, size) for y in starts(h) for x in starts(w)]


def _square_input(
    frame: np.ndarray, x0: int, y0: int, side: int, size: int
) -> tuple[np.ndarray, float]:
    """The tile resized to size x size (zero padding past the frame's edge) and its scale."""
    crop = frame[y0 : y0 + side, x0 : x0 + side]
    scale = size / side
    h, w = crop.shape[:2]
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    if (nh, nw) != (h, w):
        crop = np.asarray(Image.fromarray(crop).resize((nw, nh), Image.Resampling.BILINEAR))
    out = np.zeros((size, size, 3), np.uint8)
    out[: min(nh, size), : min(nw, size)] = crop[:size, :size]
    return out, scale


class SSDDetector:
    """A MediaPipe SSD model (BlazeFace, palm) run over square tiles at several scales."""

    def __init__(
        self,
        model: TFLiteModel,
        spec: ssd.SSDSpec,
        kind: str,
        *,
        value_range: tuple[float, float] = (-1.0, 1.0),
        min_score: float | None = None,
    ) -> None:
        if (model.height, model.width) != (spec.size, spec.size):
            raise ValueError(
                f"model {model.name} takes {model.width}x{model.height}, not {spec.size}"
            )
        self.model, self.spec, self.kind = model, spec, kind
        self.min_score = spec.min_score if min_score is None else min_score
        self._anchors = spec.anchors()
        lo, hi = value_range
        self._scale, self._offset = (hi - lo) / 255.0, lo

    def detect_tile(
        self, frame: np.ndarray, x0: int, y0: int, side: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Boxes (frame pixels) and scores found in one square tile, before suppression."""
        img, scale = _square_input(frame, x0, y0, side, self.spec.size)
        raw_boxes, raw_scores = self.model.run(img.astype(np.float32) * self._scale + self._offset)
        spec = self.spec
        if self.min_score != spec.min_score:
            spec = ssd.SSDSpec(
                spec.size,
                spec.strides,
                spec.anchors_per_layer,
                spec.keypoints,
                self.min_score,
                spec.iou,
            )
        boxes, _, scores = ssd.decode(raw_boxes, raw_scores, spec, self._anchors)
        boxes = boxes * (spec.size / scale) + np.array([x0, y0, x0, y0], np.float32)
        return boxes, scores

    def detect(self, frame: np.ndarray, tiles: Iterable[tuple[int, int, int]]) -> list[Region]:
        found_b, found_s = [], []
        for x0, y0, side in tiles:
            b, s = self.detect_tile(frame, x0, y0, side)
            found_b.append(b)
            found_s.append(s)
        if not found_b:
            return []
        boxes, scores = ssd.weighted_nms(
            np.concatenate(found_b), np.concatenate(found_s), self.spec.iou
        )
        h, w = frame.shape[:2]
        boxes = np.clip(boxes, 0, [w, h, w, h])
        return [
            Region(self.kind, (float(b[0]), float(b[1]), float(b[2]), float(b[3])), float(s))
            for b, s in zip(boxes, scores, strict=True)
            if b[2] > b[0] and b[3] > b[1]
        ]
