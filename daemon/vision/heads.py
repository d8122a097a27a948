"""Heads from body pose, for cameras that keep bodies and hide only heads (``research``).

A face turned away, masked, or too small for the face model still sits on a body. Each
confirmed person region is shown to BlazePose's landmark model (``pose_landmark_full``),
which places the nose, eyes, ears, mouth and shoulders even on the back of a head; for a
region without a face the head is the box round those points, at least as wide as half the
shoulders and as tall as it is wide. Where the model sees no person (its presence score is
low) the top of the region is taken as the head instead: never less redaction.

The same run gives each person's body landmarks (``Pose``): research clips' movement data
(shoulders, elbows, wrists, fingertips, hips, knees, ankles) is made from them in memory.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from veilcam.vision import models, people
from veilcam.vision.detect import Region, _square_input
from veilcam.vision.runtime import BoardProfile, TFLiteModel
from veilcam.vision.verify import sigmoid
from veilcam_native import mask as masks

MODEL = "pose_landmark_full"
POSE_PRESENT = 0.5
HEAD_POINTS = list(range(11))  # nose, eyes (inner, centre, outer), ears, mouth corners
SHOULDERS = (11, 12)
VISIBLE = 0.3
ROI_GROWTH = 1.25
MAX_REGIONS = 12  # pose runs per frame; further regions get the top-of-region head


@dataclass(frozen=True, slots=True)
class Pose:
    """One person's 33 BlazePose landmarks in frame pixels: (33, 3) x, y, visibility 0-1;
    ``present`` is the model's score that the region shows a person at all."""

    region: tuple[int, int, int, int]
    points: np.ndarray
    present: float


def _holds_a_face(box: tuple[int, int, int, int], faces: list[Region]) -> bool:
    x0, y0, x1, y1 = box
    c = people.centres(faces)
    return bool(((c[:, 0] >= x0) & (c[:, 0] < x1) & (c[:, 1] >= y0) & (c[:, 1] < y1)).any())


def top_of(region: tuple[int, int, int, int]) -> tuple[float, float, float, float]:
    """The head of an upright person filling the box: the top quarter, as wide as it is tall
    (the whole width for a narrow region)."""
    x0, y0, x1, y1 = region
    side = min(x1 - x0, max((y1 - y0) / 4, (x1 - x0) / 3))
    cx = (x0 + x1) / 2
    return (cx - side / 2, y0, cx + side / 2, y0 + side)


class Heads:
    """Pose landmarks on person regions; thread-safe.

    The model (about 30 MB an interpreter) is loaded on first use: a fridge or floor camera
    asks it only of a region a faint face alone would confirm, which most frames never
    hold. Its file is checked at once, so a missing or altered model is refused at start."""

    def __init__(self, profile: BoardProfile, cache: Path | None = None, workers: int = 1) -> None:
        models.path(MODEL, cache)  # refuses a missing or altered file by name
        self._args = (profile, cache, workers)
        self._model: TFLiteModel | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> TFLiteModel:
        with self._lock:
            if self._model is None:
                self._model = TFLiteModel(MODEL, *self._args)
            return self._model

    def _run(
        self, frame: np.ndarray, region: tuple[int, int, int, int]
    ) -> tuple[list[np.ndarray], float, tuple[int, int, float]]:
        """The model's outputs on the square round ``region``, its person-presence score
        and where that square lies (left, top, scale)."""
        x0, y0, x1, y1 = region
        side = max(2, int(max(x1 - x0, y1 - y0) * ROI_GROWTH))
        left, top = int((x0 + x1) / 2 - side / 2), int((y0 + y1) / 2 - side / 2)
        img, scale = _square_input(frame, left, top, side, self.model.height)
        out = self.model.run(img.astype(np.float32) * (1 / 255))
        present = float(np.asarray(out[1]).reshape(-1)[0])  # a probability already
        return out, present, (left, top, scale)

    def person(self, frame: np.ndarray, region: tuple[int, int, int, int]) -> float:
        """Probability that the region shows a person's body (the model's presence score)."""
        return self._run(frame, region)[1]

    def landmarks(self, frame: np.ndarray, region: tuple[int, int, int, int]) -> Pose:
        """The pose model's landmarks on ``region``, in frame pixels."""
        out, present, (left, top, scale) = self._run(frame, region)
        pts = np.asarray(out[0], np.float32).reshape(-1, 5)
        points = np.empty((len(pts), 3), np.float32)
        points[:, :2] = pts[:, :2] / scale + [left, top]
        points[:, 2] = sigmoid(pts[:, 3])
        return Pose(region, points, present)

    def head(self, frame: np.ndarray, region: tuple[int, int, int, int]) -> Region:
        return head_of(self.landmarks(frame, region))

    def find(
        self,
        frame: np.ndarray,
        people_mask: np.ndarray,
        faces: list[Region],
        min_face_px: int,
        poses: list[Pose] | None = None,
    ) -> list[Region]:
        """A head for each person region (0/1 HxW mask) that holds no face and is large
        enough to hold a head of the smallest face's size (a sleeve apart from its body
        has none). With a ``poses`` list, regions holding a face are looked at too and every
        person's landmarks are added to it."""
        h, w = frame.shape[:2]
        regions: list[tuple[int, int, int, int]] = [
            (int(b[0]), int(b[1]), int(b[2]), int(b[3]))
            for b in masks.mask_boxes(people_mask, min_area=min_face_px**2)
            if min(b[2] - b[0], b[3] - b[1]) >= min_face_px
        ]
        headless = [not _holds_a_face(r, faces) for r in regions]
        order = sorted(range(len(regions)), key=lambda i: -_area(regions[i]))
        out, runs = [], 0
        for i in order:
            box = regions[i]
            if not headless[i] and poses is None:
                continue
            pose = self.landmarks(frame, box) if runs < MAX_REGIONS else None
            runs += 1
            if pose is not None and poses is not None and pose.present >= POSE_PRESENT:
                poses.append(pose)
            if not headless[i]:
                continue
            head = head_of(pose) if pose is not None else Region("head", top_of(box), 0.0)
            x0, y0, x1, y1 = head.box
            out.append(
                Region("head", (max(0.0, x0), max(0.0, y0), min(w, x1), min(h, y1)), head.score)
            )
        return out


def _area(b: tuple[int, int, int, int]) -> int:
    return (b[2] - b[0]) * (b[3] - b[1])


def head_of(pose: Pose) -> Region:
    """The head round a pose's face landmarks (or the top of its region, where the model
    sees no person or no head point)."""
    if pose.present < POSE_PRESENT:
        return Region("head", top_of(pose.region), pose.present)
    pts = pose.points
    head = pts[HEAD_POINTS][pts[HEAD_POINTS, 2] >= VISIBLE, :2]
    if not len(head):
        return Region("head", top_of(pose.region), pose.present)
    hx0, hy0 = head.min(0)
    hx1, hy1 = head.max(0)
    shoulders = pts[list(SHOULDERS), :2]
    width = max(hx1 - hx0, hy1 - hy0, 0.5 * float(np.abs(shoulders[0] - shoulders[1]).max()))
    cx, cy = (hx0 + hx1) / 2, (hy0 + hy1) / 2
    half = width / 2 * 1.2  # the landmarks sit inside the head: hair, chin, ears beyond
    box = (float(cx - half), float(cy - half), float(cx + half), float(cy + half))
    return Region("head", box, pose.present)
