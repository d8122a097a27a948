"""Everything the redactor needs to know about one frame: where faces, people, hands, heads
and changes against the calibrated reference are, in frame pixels. What is looked for
follows from the camera's purpose (``subjects``).

Scales follow from the smallest face to find (``min_face_px``): at the finest, tiles are
12 x min_face_px pixels wide (240 for 20-pixel faces), so such a face fills about 16 pixels
of a model's input, the least BlazeFace full range reliably sees; a coarse scale at twice
that and one over the whole frame catch everything larger.

- Faces: BlazeFace full range over the whole frame (score 0.3) and the coarse tiles (0.5),
  each candidate verified by the face mesh (``verify``); a candidate it turns down is still
  a face when it stands on a confirmed person.
- People: person segmentation over the whole frame and the coarse tiles, the fine tiles
  where those saw a hint of a person; each region confirmed by a face, a hand or its own
  size and certainty (``people``). Always run: it confirms faint faces for every purpose.
- Hands: palm detection over the whole frame and the coarse tiles, verified by the hand
  model.
- Heads (research): fine face tiles where people are and a faint face was seen, and pose
  landmarks on each person region without a face (``heads``).
- Changes against the fridge's calibrated reference picture: an arm the models miss.

Measured on ../shared/eval (bench/redaction_eval.py), and chosen before looking at single
pictures; the verification steps cut what people-free shelves lose to false people, faces
and palms from up to 7% of a picture to under 3%, with the same face recall.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from veilcam.errors import ModelError
from veilcam.vision import people, ssd
from veilcam.vision.changes import changed
from veilcam.vision.detect import Region, SSDDetector, squares
from veilcam.vision.heads import POSE_PRESENT, Heads, Pose
from veilcam.vision.onnxface import CenterFaceDetector
from veilcam.vision.runtime import BoardProfile, TFLiteModel
from veilcam.vision.subjects import PURPOSES, SUBJECTS
from veilcam.vision.verify import Verifier

log = logging.getLogger(__name__)

TILE_OVERLAP = 0.25  # a face cut by one tile's edge is whole in its neighbour
# Masks from neighbouring tiles join up, so segmentation needs little overlap; a tile with
# no detail at all (a bare wall, the floor) cannot hold a person and is not segmented.
SEG_OVERLAP = 0.1
FACE_SCORE_WHOLE = 0.3
FACE_SCORE_TILES = 0.5
# Faint faces are not redacted as faces, but confirm a person region that holds one.
FACE_SCORE_WEAK = 0.3
FACE_SCORE_FINE = 0.2  # fine tiles over people (research): verified or on a person
FACE_SCORE_HINT = 0.1  # enough to send the finest tiles to look again
PALM_SCORE = 0.7


@dataclass(frozen=True, slots=True)
class Policy:
    """What to look for in one camera's frames: its purpose's subjects, plus what its
    ``[cameras.redaction]`` config adds."""

    purpose: str = "floor"
    hands: bool = False  # hands as well, whatever the purpose
    min_face_px: int = 20
    face_growth: float = 2.0
    reference_threshold: int = 40  # per-channel difference that counts as a change
    reference_min_area: float = 0.001  # smaller changed blobs (noise) are ignored

    def __post_init__(self) -> None:
        if self.purpose not in SUBJECTS:
            raise ValueError(f"purpose must be one of {', '.join(PURPOSES)}, not {self.purpose!r}")

    @property
    def subjects(self) -> frozenset[str]:
        return SUBJECTS[self.purpose] | ({"hand"} if self.hands else frozenset())

    @property
    def round_heads(self) -> bool:
        """Bodies stay: faces and heads are painted as ellipses, not boxes."""
        return "person" not in self.subjects


@dataclass(slots=True)
class Found:
    """Detections in frame pixels: boxes as (N, 4) x0, y0, x1, y1; masks as HxW uint8."""

    faces: list[Region] = field(default_factory=list)
    hands: list[Region] = field(default_factory=list)
    heads: list[Region] = field(default_factory=list)
    poses: list[Pose] = field(default_factory=list)  # research: every person's landmarks
    people: np.ndarray | None = None  # to be painted (purposes that hide whole people)
    bodies: np.ndarray | None = None  # every confirmed person, painted or not (0/1 HxW)
    changes: np.ndarray | None = None
    models: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)


def scales(h: int, w: int, min_face_px: int) -> list[int]:
    """Tile sides from coarse to fine for an HxW frame: the whole frame, then 24 and 12 times
    the smallest face, leaving out those that would not be smaller than the frame."""
    fine = 12 * min_face_px
    out = [max(h, w)]
    for side in (2 * fine, fine):
        if side < 0.8 * max(h, w):
            out.append(side)
    return out


def tiles_for(
    h: int, w: int, sides: list[int], overlap: float = TILE_OVERLAP
) -> list[tuple[int, int, int]]:
    out: list[tuple[int, int, int]] = []
    for side in sides:
        out += squares(h, w, side, overlap)
    return out


class Vision:
    """The loaded models; thread-safe, ``workers`` frames at a time without waiting."""

    def __init__(self, profile: BoardProfile, cache: Path | None = None, workers: int = 1) -> None:
        self.profile = profile
        # What runs on something other than the profile asked for, for the health page.
        self.notes: list[str] = []
        self.face: SSDDetector | CenterFaceDetector = self._face_detector(profile, cache, workers)
        self.palm = SSDDetector(
            TFLiteModel("palm_lite", profile, cache, workers),
            ssd.PALM,
            "hand",
            value_range=(0.0, 1.0),
            min_score=PALM_SCORE,
        )
        self.segmenter = TFLiteModel("selfie_segmentation", profile, cache, workers)
        self.verify = Verifier(profile, cache, workers)
        self.heads = Heads(profile, cache, workers)
        log.info(
            "vision models loaded (%s, %d thread(s), board %s)",
            self.segmenter.runs_on,
            profile.threads,
            profile.name,
        )

    def _face_detector(
        self, profile: BoardProfile, cache: Path | None, workers: int
    ) -> SSDDetector | CenterFaceDetector:
        """The profile's face detector: CenterFace on ONNX Runtime (the accelerator's
        provider where there is one), or BlazeFace on the profile's .tflite runtime; BlazeFace
        on the CPU, logged and noted, when ONNX Runtime is not installed at all."""
        if profile.face_runtime == "onnxruntime":
            try:
                cf = CenterFaceDetector(cache, profile.face_providers, profile.threads)
            except ModelError as exc:
                if "not installed" not in str(exc):
                    raise
                self.notes.append(f"{exc}; BlazeFace on the CPU instead")
                log.warning("%s; BlazeFace on the CPU instead", exc)
            else:
                if cf.note:
                    self.notes.append(cf.note)
                return cf
        model = TFLiteModel("face_full", profile, cache, workers)
        if profile.delegate == "edgetpu" and "Edge TPU" not in model.runs_on:
            self.notes.append("Edge TPU delegate not loaded: the models run on the CPU")
        return SSDDetector(model, ssd.FACE_FULL, "face")

    @property
    def face_runs_on(self) -> str:
        face = self.face
        return face.runs_on if isinstance(face, CenterFaceDetector) else face.model.runs_on

    def person_probability(
        self, frame: np.ndarray, tiles: list[tuple[int, int, int]]
    ) -> np.ndarray:
        return people.person_probability(self.segmenter, frame, tiles)

    def fine_faces(
        self, frame: np.ndarray, prob: np.ndarray, sides: list[int], hints: np.ndarray
    ) -> tuple[list[Region], list[Region]]:
        """Faces too small for the coarse passes, looked for in the fine tiles where people
        are (what a body would have covered on a floor camera) and a coarse pass saw a faint
        face (``hints``: raw boxes): (verified, turned down). Only those tiles: the same
        recall on ../shared/eval/faces as every fine tile over people, 90 ms instead of 220
        ms a 1080p still."""
        h, w = prob.shape
        fine = [
            t
            for t in tiles_for(h, w, sides)
            if prob[t[1] : t[1] + t[2], t[0] : t[0] + t[2]].max() > people.PERSON_LEVEL
            and people.centre_in(hints, *t)
        ]
        if not fine:
            return [], []
        fb, fs = self.face.raw(frame, fine, FACE_SCORE_FINE)
        return self.verify.faces(frame, self.face.regions(frame, fb, fs))

    def _faces(
        self, frame: np.ndarray, sides: list[int]
    ) -> tuple[list[Region], list[Region], np.ndarray]:
        """Faces over the whole frame and the coarse tiles: (verified, turned down, every
        faint hint's box)."""
        h, w = frame.shape[:2]
        whole = tiles_for(h, w, sides[:1])
        coarse = tiles_for(h, w, sides[1:2])
        wb, ws = self.face.raw(frame, whole, FACE_SCORE_HINT)
        cb, cs = self.face.raw(frame, coarse, FACE_SCORE_HINT)
        keep_w, keep_c = ws >= FACE_SCORE_WHOLE, cs >= FACE_SCORE_TILES
        candidates = self.face.regions(
            frame,
            np.concatenate([wb[keep_w], cb[keep_c]]),
            np.concatenate([ws[keep_w], cs[keep_c]]),
        )
        sure, down = self.verify.faces(frame, candidates)
        return sure, down, np.concatenate([wb, cb])

    def faces(self, frame: np.ndarray, min_face_px: int = 20) -> list[Region]:
        """Verified faces only, largest first: what the face features look at."""
        h, w = frame.shape[:2]
        sure, _, _ = self._faces(frame, scales(h, w, min_face_px))
        return sorted(sure, key=lambda r: -(r.box[2] - r.box[0]) * (r.box[3] - r.box[1]))

    def find(self, frame: np.ndarray, policy: Policy, reference: np.ndarray | None = None) -> Found:
        h, w = frame.shape[:2]
        want = policy.subjects
        sides = scales(h, w, policy.min_face_px)
        found = Found()

        def timed(name: str, t0: float) -> None:
            found.timings_ms[name] = round((time.perf_counter() - t0) * 1000, 2)

        t0 = time.perf_counter()
        faces, turned_down, hints = self._faces(frame, sides)
        found.models += ["face_full", "face_landmark"]
        timed("faces", t0)
        if "hand" in want:
            t0 = time.perf_counter()
            palms = self.palm.detect(frame, [(tiles_for(h, w, sides[:2]), PALM_SCORE)])
            found.hands = self.verify.hands(frame, palms)
            found.models += ["palm_lite", "hand_landmark_lite"]
            timed("hands", t0)
        # Segmentation confirms faint faces and finds the people no face model sees; a
        # purpose without whole people still needs it for that.
        t0 = time.perf_counter()
        tiles = [t for t in tiles_for(h, w, sides[:2], SEG_OVERLAP) if not people.flat(frame, *t)]
        prob = self.person_probability(frame, tiles)
        if "person" in want:
            fine = [
                t
                for t in tiles_for(h, w, sides[2:], SEG_OVERLAP)
                if people.worth_a_closer_look(prob, hints, *t) and not people.flat(frame, *t)
            ]
            found.timings_ms["fine_tiles"] = len(fine)
            if fine:
                np.maximum(prob, self.person_probability(frame, fine), out=prob)
        found.models.append("selfie_segmentation")
        timed("people", t0)
        if "head" in want:
            t0 = time.perf_counter()
            sure, down = self.fine_faces(frame, prob, sides[2:], hints)
            faces, turned_down = faces + sure, turned_down + down
            timed("fine_faces", t0)
        weak = [r for r in turned_down if r.score >= FACE_SCORE_WEAK]
        confirmed = people.confirmed(
            prob,
            faces,
            weak,
            found.hands,
            policy.min_face_px,
            lambda box: self.heads.person(frame, box) >= POSE_PRESENT,
        )
        found.faces = faces + people.on_people(confirmed, turned_down)
        found.bodies = confirmed
        if "person" in want:
            found.people = confirmed
        if "head" in want:
            t0 = time.perf_counter()
            found.heads = self.heads.find(
                frame, confirmed, found.faces, policy.min_face_px, found.poses
            )
            found.models += ["pose_landmark_full"]
            timed("heads", t0)
        if "change" in want and reference is not None:
            t0 = time.perf_counter()
            found.changes = changed(
                frame, reference, policy.reference_threshold, policy.reference_min_area
            )
            found.models.append("reference difference")
            timed("changes", t0)
        return found
