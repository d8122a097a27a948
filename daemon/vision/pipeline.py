"""Everything the redactor needs to know about one frame: where faces, people, hands and
changes against the calibrated reference are, in frame pixels.

Scales follow from the smallest face to find (``min_face_px``): at the finest, tiles are
12 x min_face_px pixels wide (240 for 20-pixel faces), so such a face fills about 16 pixels
of a model's input, the least BlazeFace full range reliably sees; a coarse scale at twice
that and one over the whole frame catch everything larger.

- Faces: BlazeFace full range over the whole frame (score 0.3) and the coarse tiles (0.5,
  MediaPipe's own threshold: tiles of shelves and packaging raise many faint false faces).
- People: person segmentation at all three scales; this is what finds the people whose
  face the face model misses (masks, profiles, the back of a head, small faces in crowds).
- Hands (fridge cameras): palm detection over the whole frame and the coarse tiles.
- Changes against the fridge's calibrated reference picture: an arm the models miss.

Measured on ../shared/eval (bench/redaction_eval.py), and chosen before looking at single
pictures: lowering the tile threshold or adding fine face tiles raised recall by one face
of 127 and tripled the share of empty shelves painted over.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from veilcam.vision import ssd
from veilcam.vision.detect import Region, SSDDetector, _square_input, squares
from veilcam.vision.runtime import BoardProfile, TFLiteModel
from veilcam_native import mask as masks

log = logging.getLogger(__name__)

TILE_OVERLAP = 0.25  # a face cut by one tile's edge is whole in its neighbour
# Masks from neighbouring tiles join up, so segmentation needs little overlap; a tile with
# no detail at all (a bare wall, the floor) cannot hold a person and is not segmented.
SEG_OVERLAP = 0.1
FLAT_STD = 4.0
FACE_SCORE_WHOLE = 0.3
FACE_SCORE_TILES = 0.5
# Faint faces are not redacted as faces, but confirm a person region that holds one.
FACE_SCORE_WEAK = 0.3
FACE_SCORE_HINT = 0.1  # enough to send the finest tiles to look again
PERSON_SURE = 0.96  # a person region this sure on average stands on its own
PERSON_HINT = 0.1  # coarse probability that sends the finest tiles to look again
PALM_SCORE = 0.7
PERSON_THRESHOLD = 0.5


@dataclass(frozen=True, slots=True)
class Policy:
    """What to look for in one camera's frames (from its ``[cameras.redaction]`` config)."""

    faces: bool = True
    people: bool = True
    hands: bool = False
    min_face_px: int = 20
    face_growth: float = 2.0
    reference_threshold: int = 40  # per-channel difference that counts as a change
    reference_min_area: float = 0.001  # smaller changed blobs (noise) are ignored


@dataclass(slots=True)
class Found:
    """Detections in frame pixels: boxes as (N, 4) x0, y0, x1, y1; masks as HxW uint8."""

    faces: list[Region] = field(default_factory=list)
    hands: list[Region] = field(default_factory=list)
    people: np.ndarray | None = None
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


def worth_a_closer_look(
    prob: np.ndarray, weak_faces: np.ndarray, x0: int, y0: int, side: int
) -> bool:
    """Whether a fine tile may show a person the coarse passes saw too small to be sure of:
    some person probability there, or a faint face, and not already wholly a person."""
    p = prob[y0 : y0 + side, x0 : x0 + side]
    if not p.size:
        return False
    if (p > int(PERSON_THRESHOLD * 255)).mean() > 0.95:
        return False  # already covered: nothing finer to add
    if p.max() >= int(PERSON_HINT * 255):
        return True
    if len(weak_faces):
        cx = (weak_faces[:, 0] + weak_faces[:, 2]) / 2
        cy = (weak_faces[:, 1] + weak_faces[:, 3]) / 2
        return bool(((cx >= x0) & (cx < x0 + side) & (cy >= y0) & (cy < y0 + side)).any())
    return False


def flat(frame: np.ndarray, x0: int, y0: int, side: int) -> bool:
    """No detail anywhere in the tile: every 4th pixel of its green channel within a few
    levels of their mean."""
    g = frame[y0 : y0 + side : 4, x0 : x0 + side : 4, 1]
    return bool(g.size) and float(g.std()) < FLAT_STD


class Vision:
    """The loaded models; thread-safe, ``workers`` frames at a time without waiting."""

    def __init__(self, profile: BoardProfile, cache: Path | None = None, workers: int = 1) -> None:
        self.profile = profile
        self.face = SSDDetector(
            TFLiteModel("face_full", profile, cache, workers), ssd.FACE_FULL, "face"
        )
        self.palm = SSDDetector(
            TFLiteModel("palm_lite", profile, cache, workers),
            ssd.PALM,
            "hand",
            value_range=(0.0, 1.0),
            min_score=PALM_SCORE,
        )
        self.segmenter = TFLiteModel("selfie_segmentation", profile, cache, workers)
        log.info(
            "vision models loaded (%s, %d thread(s), board %s)",
            self.segmenter.runs_on,
            profile.threads,
            profile.name,
        )

    def person_probability(
        self, frame: np.ndarray, tiles: list[tuple[int, int, int]]
    ) -> np.ndarray:
        """HxW person probability (0..255), the highest of every tile over each pixel."""
        h, w = frame.shape[:2]
        size = self.segmenter.height
        out = np.zeros((h, w), np.uint8)
        for x0, y0, side in tiles:
            img, _ = _square_input(frame, x0, y0, side, size)
            prob = self.segmenter.run(img.astype(np.float32) * (1 / 255))[0][:, :, 0]
            if prob.max() <= PERSON_THRESHOLD:
                continue
            level = (prob * 255).astype(np.uint8)
            th, tw = min(side, h - y0), min(side, w - x0)
            ys = np.arange(th) * size // side  # nearest model pixel of each frame pixel
            xs = np.arange(tw) * size // side
            view = out[y0 : y0 + th, x0 : x0 + tw]
            # Columns first: the row gather then copies whole rows (the whole-frame tile's
            # 1920x1080 takes 0.4 ms this way, 3 ms as level[ys][:, xs]).
            np.maximum(view, level.take(xs, 1).take(ys, 0), out=view)
        return out

    def find(self, frame: np.ndarray, policy: Policy, reference: np.ndarray | None = None) -> Found:
        h, w = frame.shape[:2]
        sides = scales(h, w, policy.min_face_px)
        found = Found()

        def timed(name: str, t0: float) -> None:
            found.timings_ms[name] = round((time.perf_counter() - t0) * 1000, 2)

        whole = tiles_for(h, w, sides[:1])
        coarse = tiles_for(h, w, sides[1:2])
        weak = hints = np.zeros((0, 4), np.float32)
        if policy.faces:
            t0 = time.perf_counter()
            wb, ws = self.face.raw(frame, whole, FACE_SCORE_HINT)
            cb, cs = self.face.raw(frame, coarse, FACE_SCORE_HINT)
            keep_w, keep_c = ws >= FACE_SCORE_WHOLE, cs >= FACE_SCORE_TILES
            found.faces = self.face.regions(
                frame,
                np.concatenate([wb[keep_w], cb[keep_c]]),
                np.concatenate([ws[keep_w], cs[keep_c]]),
            )
            hints = np.concatenate([wb, cb])
            weak = np.concatenate([wb[ws >= FACE_SCORE_WEAK], cb[cs >= FACE_SCORE_WEAK]])
            found.models.append("face_full")
            timed("faces", t0)
        if policy.people:
            t0 = time.perf_counter()
            tiles = [t for t in tiles_for(h, w, sides[:2], SEG_OVERLAP) if not flat(frame, *t)]
            prob = self.person_probability(frame, tiles)
            fine = [
                t
                for t in tiles_for(h, w, sides[2:], SEG_OVERLAP)
                if worth_a_closer_look(prob, hints, *t) and not flat(frame, *t)
            ]
            found.timings_ms["fine_tiles"] = len(fine)
            if fine:
                np.maximum(prob, self.person_probability(frame, fine), out=prob)
            found.people = people(prob, weak, policy.min_face_px)
            found.models.append("selfie_segmentation")
            timed("people", t0)
        if policy.hands:
            t0 = time.perf_counter()
            found.hands = self.palm.detect(frame, [(whole + coarse, PALM_SCORE)])
            found.models.append("palm_lite")
            timed("hands", t0)
        if reference is not None:
            t0 = time.perf_counter()
            found.changes = changed(frame, reference, policy)
            found.models.append("reference difference")
            timed("changes", t0)
        return found


def people(prob: np.ndarray, faces: np.ndarray, min_face_px: int) -> np.ndarray:
    """Person regions (0/1 HxW) from the probability map: each region above the threshold
    and larger than half a smallest face is kept if it is sure on average, or if it holds
    the centre of a face candidate, however faint. Segmentation alone also paints a cup or
    a motorcycle that fills the picture; a face inside says it is a person."""
    hit = (prob > int(PERSON_THRESHOLD * 255)).view(np.uint8)
    out = np.zeros_like(hit)
    centres = np.stack([(faces[:, 0] + faces[:, 2]) / 2, (faces[:, 1] + faces[:, 3]) / 2], 1)
    for x0, y0, x1, y1 in masks.mask_boxes(hit, min_area=max(1, min_face_px**2 // 2)):
        region = hit[y0:y1, x0:x1]
        sure = prob[y0:y1, x0:x1][region > 0].mean() >= PERSON_SURE * 255
        inside = (
            (centres[:, 0] >= x0)
            & (centres[:, 0] < x1)
            & (centres[:, 1] >= y0)
            & (centres[:, 1] < y1)
        )
        held = any(region[int(cy) - y0, int(cx) - x0] for cx, cy in centres[inside])
        if sure or held:
            out[y0:y1, x0:x1] |= region
    return out


def keep_blobs(mask: np.ndarray, min_area: int) -> np.ndarray:
    """The mask with only its 8-connected regions of at least ``min_area`` pixels (within
    their bounding boxes, smaller neighbours inside them stay too: never less redaction)."""
    keep = np.zeros_like(mask)
    for x0, y0, x1, y1 in masks.mask_boxes(mask, min_area=max(1, min_area)):
        keep[y0:y1, x0:x1] |= mask[y0:y1, x0:x1]
    return keep


def changed(frame: np.ndarray, reference: np.ndarray, policy: Policy) -> np.ndarray:
    """Where the frame differs from the calibrated reference picture by more than the
    threshold in blobs larger than noise (an arm reaching in); 0/1 HxW mask."""
    if reference.shape != frame.shape:
        raise ValueError(
            f"reference picture is {reference.shape[1]}x{reference.shape[0]}, the frame "
            f"{frame.shape[1]}x{frame.shape[0]}: recalibrate the camera"
        )
    diff = masks.absdiff_mask(frame, reference, policy.reference_threshold)
    kept = keep_blobs(diff, int(policy.reference_min_area * diff.size))
    # Parts of an arm that happen to match the shelf behind them leave holes; growing the
    # regions closes them and covers the soft edge.
    return masks.dilate(kept, max(2, max(frame.shape[:2]) // 100)) if kept.any() else kept
