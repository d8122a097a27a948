"""Single-shot detector decoding shared by BlazeFace and the palm detector: anchors, box and
keypoint decoding, and weighted non-maximum suppression, as MediaPipe's calculators do them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class SSDSpec:
    """A MediaPipe SSD model's fixed-size anchor layout and output scaling."""

    size: int  # square input, pixels
    strides: tuple[int, ...]
    anchors_per_layer: int  # 2 with an interpolated scale, else 1
    keypoints: int
    min_score: float
    iou: float = 0.3

    def anchors(self) -> np.ndarray:
        """(N, 2) anchor centres in [0, 1]; layers sharing a stride share their cells."""
        out = []
        i = 0
        while i < len(self.strides):
            stride, same = self.strides[i], 0
            while i < len(self.strides) and self.strides[i] == stride:
                same += 1
                i += 1
            fm = -(-self.size // stride)
            ys, xs = np.mgrid[0:fm, 0:fm]
            centres = np.stack([(xs + 0.5) / fm, (ys + 0.5) / fm], -1).reshape(-1, 1, 2)
            out.append(np.repeat(centres, same * self.anchors_per_layer, axis=1).reshape(-1, 2))
        return np.concatenate(out).astype(np.float32)


FACE_SHORT = SSDSpec(128, (8, 16, 16, 16), 2, 6, 0.5)
FACE_FULL = SSDSpec(192, (4,), 1, 6, 0.5)
PALM = SSDSpec(192, (8, 16, 16, 16), 2, 7, 0.5)


def decode(
    raw_boxes: np.ndarray, raw_scores: np.ndarray, spec: SSDSpec, anchors: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """-> boxes (M, 4) x0, y0, x1, y1 and keypoints (M, K, 2), both in [0, 1] of the input,
    and scores (M,), for the anchors scoring at least ``spec.min_score``."""
    logits = np.clip(raw_scores.reshape(-1), -100, 100)
    scores = 1 / (1 + np.exp(-logits))
    keep = scores >= spec.min_score
    r = raw_boxes[keep] / spec.size
    a = anchors[keep]
    cx, cy = r[:, 0] + a[:, 0], r[:, 1] + a[:, 1]
    w, h = r[:, 2], r[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
    kp = r[:, 4 : 4 + 2 * spec.keypoints].reshape(-1, spec.keypoints, 2) + a[:, None, :]
    return boxes, kp, scores[keep]


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    out: np.ndarray = inter / np.maximum(area + areas - inter, 1e-9)
    return out


def weighted_nms(
    boxes: np.ndarray, scores: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """MediaPipe's weighted NMS: each cluster around the best remaining box (IoU above
    ``threshold``) becomes the score-weighted mean of its boxes, with the best score."""
    order = np.argsort(-scores, kind="stable")
    boxes, scores = boxes[order], scores[order]
    out_b, out_s = [], []
    alive = np.ones(len(boxes), bool)
    for i in range(len(boxes)):
        if not alive[i]:
            continue
        cluster = alive & (iou(boxes[i], boxes) > threshold)
        cluster[i] = True
        w = scores[cluster]
        out_b.append((boxes[cluster] * w[:, None]).sum(0) / w.sum())
        out_s.append(scores[i])
        alive &= ~cluster
    if not out_b:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
    return np.asarray(out_b, np.float32), np.asarray(out_s, np.float32)
