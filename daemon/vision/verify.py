"""Second opinions on what a detector found, from the landmark models MediaPipe runs after
its detectors: the face mesh's face-presence score and the hand model's hand-presence score.

A detector run over shelves finds faint faces and palms in packaging (a cow on a milk carton,
a face on a cereal box); the landmark models, shown the candidate alone at their own input
size, tell a face or a hand from a picture of something else far better. Measured on
../shared/eval (the detectors' candidates on people-free shelves against those on annotated
faces): every shelf candidate scored under 0.1 as a face, 103 of 108 real faces over 0.5.
A candidate the verifier turns down is not thrown away: it still confirms a person region
around it (``vision.people``), where a body says it is a person.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from veilcam.vision.detect import Region, _square_input
from veilcam.vision.runtime import BoardProfile, TFLiteModel

FACE_PRESENT = 0.5
HAND_PRESENT = 0.5
FACE_ROI = 1.5  # the face mesh sees the face box grown by this, as MediaPipe crops it
HAND_ROI = 2.6  # the hand model sees the palm box grown by this (MediaPipe's palm-to-hand)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function of a model's logits (clipped: no overflow warning)."""
    out: np.ndarray = 1 / (1 + np.exp(-np.clip(x, -60, 60)))
    return out


def _crop(frame: np.ndarray, box: tuple[float, ...], grow: float, size: int) -> np.ndarray:
    x0, y0, x1, y1 = box
    side = max(2, int(max(x1 - x0, y1 - y0) * grow))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    h, w = frame.shape[:2]
    # The square stays over the frame by at least one pixel (a box at the very edge).
    left = int(min(max(cx - side / 2, 1 - side), w - 1))
    top = int(min(max(cy - side / 2, 1 - side), h - 1))
    img, _ = _square_input(frame, left, top, side, size)
    return img.astype(np.float32) * (1 / 255)


class Verifier:
    """Face- and hand-presence scores of candidate boxes; thread-safe."""

    def __init__(self, profile: BoardProfile, cache: Path | None = None, workers: int = 1) -> None:
        self.face_mesh = TFLiteModel("face_landmark", profile, cache, workers)
        self.hand_model = TFLiteModel("hand_landmark_lite", profile, cache, workers)

    def face(self, frame: np.ndarray, box: tuple[float, ...]) -> float:
        """Probability that ``box`` holds a face (the face mesh's presence output)."""
        out = self.face_mesh.run(_crop(frame, box, FACE_ROI, self.face_mesh.height))
        return float(sigmoid(out[1].reshape(-1)[:1])[0])

    def hand(self, frame: np.ndarray, box: tuple[float, ...]) -> float:
        """Probability that a palm box belongs to a hand (the hand model's presence output)."""
        out = self.hand_model.run(_crop(frame, box, HAND_ROI, self.hand_model.height))
        return float(out[1].reshape(-1)[0])

    def faces(self, frame: np.ndarray, found: list[Region]) -> tuple[list[Region], list[Region]]:
        """(verified, turned down) candidates."""
        sure: list[Region] = []
        down: list[Region] = []
        for r in found:
            (sure if self.face(frame, r.box) >= FACE_PRESENT else down).append(r)
        return sure, down

    def hands(self, frame: np.ndarray, found: list[Region]) -> list[Region]:
        return [r for r in found if self.hand(frame, r.box) >= HAND_PRESENT]
