"""Detectors over whole frames: BlazeFace and palm detection run on a grid of square tiles at
several scales (so a face 20 pixels wide in a 4K frame is still seen at a size the model
knows), person segmentation on the whole frame, and for fridge cameras a difference against
the calibrated reference picture. Each returns regions in frame pixels.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from veilcam.vision import ssd
from veilcam.vision.runtime import TFLiteModel
from veilcam_native import embed


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
    """The square tile at (x0, y0) scaled to size x size, black past the frame's edge, and
    the scale. Bilinear (the native warp kernel, no copy of the tile); from twice the size
    on, a box reduction by a whole factor first (native, read in place), so that small
    details average instead of aliasing."""
    scale = size / side
    src, sx, sy, step = frame, float(x0), float(y0), side / size
    k = int(step)
    if k >= 2:
        # Only the part of the tile over the frame is reduced; a tile reaching past the
        # frame's top or left edge keeps its origin there (negative: black past the edge).
        cx, cy = max(x0, 0), max(y0, 0)
        src = embed.reduce_area(frame[cy : y0 + side, cx : x0 + side], k)
        sx, sy = (x0 - cx) / k, (y0 - cy) / k
        step /= k
    # destination = (source - origin) / step; the kernel takes that forward matrix.
    m = np.array([[1 / step, 0, -sx / step], [0, 1 / step, -sy / step]])
    return embed.warp_affine(src, m, (size, size)), scale


class TiledDetector:
    """A detector run over square tiles: each subclass finds boxes in one tile
    (``detect_tile``); gathering them over tiles and passes and merging them is shared."""

    kind: str
    iou: float

    def detect_tile(
        self, frame: np.ndarray, x0: int, y0: int, side: int, min_score: float
    ) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def raw(
        self, frame: np.ndarray, tiles: Iterable[tuple[int, int, int]], min_score: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every box (frame pixels) and score of at least ``min_score`` over the tiles."""
        found_b, found_s = [np.zeros((0, 4), np.float32)], [np.zeros(0, np.float32)]
        for x0, y0, side in tiles:
            b, s = self.detect_tile(frame, x0, y0, side, min_score)
            found_b.append(b)
            found_s.append(s)
        return np.concatenate(found_b), np.concatenate(found_s)

    def regions(self, frame: np.ndarray, boxes: np.ndarray, scores: np.ndarray) -> list[Region]:
        """Raw boxes merged by weighted non-maximum suppression, clipped to the frame."""
        if not len(boxes):
            return []
        boxes, scores = ssd.weighted_nms(boxes, scores, self.iou)
        h, w = frame.shape[:2]
        boxes = np.clip(boxes, 0, [w, h, w, h])
        return [
            Region(self.kind, (float(b[0]), float(b[1]), float(b[2]), float(b[3])), float(s))
            for b, s in zip(boxes, scores, strict=True)
            if b[2] > b[0] and b[3] > b[1]
        ]

    def detect(
        self, frame: np.ndarray, passes: Iterable[tuple[list[tuple[int, int, int]], float]]
    ) -> list[Region]:
        """Detections over every pass (its tiles and the score a detection there needs)."""
        raws = [self.raw(frame, tiles, min_score) for tiles, min_score in passes]
        if not raws:
            return []
        return self.regions(
            frame, np.concatenate([b for b, _ in raws]), np.concatenate([s for _, s in raws])
        )


class SSDDetector(TiledDetector):
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
        self.model, self.spec, self.kind, self.iou = model, spec, kind, spec.iou
        self.min_score = spec.min_score if min_score is None else min_score
        self._anchors = spec.anchors()
        lo, hi = value_range
        self._scale, self._offset = (hi - lo) / 255.0, lo

    def detect_tile(
        self, frame: np.ndarray, x0: int, y0: int, side: int, min_score: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Boxes (frame pixels) and scores found in one square tile, before suppression."""
        img, scale = _square_input(frame, x0, y0, side, self.spec.size)
        raw_boxes, raw_scores = self.model.run(img.astype(np.float32) * self._scale + self._offset)
        spec = self.spec
        floor = self.min_score if min_score is None else min_score
        if floor != spec.min_score:
            spec = replace(spec, min_score=floor)
        boxes, _, scores = ssd.decode(raw_boxes, raw_scores, spec, self._anchors)
        boxes = boxes * (spec.size / scale) + np.array([x0, y0, x0, y0], np.float32)
        return boxes, scores
