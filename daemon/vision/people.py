"""People from person segmentation, each region confirmed before it is painted.

Segmentation alone also paints a stool, a door panel or a carton: on people-free shelves it
raised regions over 1-4% of each picture. A region is kept as a person when something else
says so:

- a verified face inside it, or a face candidate the verifier turned down (a masked face,
  a small one) when the region is sure of itself and the pose model sees a body there,
- a verified hand inside it,
- or it is large and sure: at least ``BIG_AREA`` of the frame at a mean probability of at
  least ``BIG_SURE`` (an arm reaching into a fridge, a shopper close to the camera).

Regions on people-free shelves were all under 3% of their picture; an arm reaching into a
fridge covers 7-50% of it. Shelves hold faint faces too (printed on packaging) where the
segmentation sees a person: on ../shared/eval/empty every such region scored under 0.11 as
a body by the pose model; people in ../shared/eval/faces mostly over 0.6. The pose model
alone is no proof (some shelf regions score 0.9 as a body), the two together are.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from veilcam.vision.detect import Region, _square_input
from veilcam.vision.runtime import TFLiteModel
from veilcam_native import mask as masks

PERSON_THRESHOLD = 0.5
PERSON_LEVEL = int(PERSON_THRESHOLD * 255)
PERSON_HINT = 0.1  # coarse probability that sends the finest tiles to look again
SURE_WITH_FACE = 0.8  # a region this sure on average is a person if any face candidate is in it
BIG_AREA = 0.04
BIG_SURE = 0.85
FLAT_STD = 4.0


def person_probability(
    segmenter: TFLiteModel, frame: np.ndarray, tiles: list[tuple[int, int, int]]
) -> np.ndarray:
    """HxW person probability (0..255), the highest of every tile over each pixel."""
    h, w = frame.shape[:2]
    size = segmenter.height
    out = np.zeros((h, w), np.uint8)
    for x0, y0, side in tiles:
        img, _ = _square_input(frame, x0, y0, side, size)
        prob = segmenter.run(img.astype(np.float32) * (1 / 255))[0][:, :, 0]
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
    return p.max() >= int(PERSON_HINT * 255) or centre_in(weak_faces, x0, y0, side)


def centre_in(boxes: np.ndarray, x0: int, y0: int, side: int) -> bool:
    """Whether the centre of any of the (N, 4) boxes lies in the square tile."""
    if not len(boxes):
        return False
    cx = (boxes[:, 0] + boxes[:, 2]) / 2
    cy = (boxes[:, 1] + boxes[:, 3]) / 2
    return bool(((cx >= x0) & (cx < x0 + side) & (cy >= y0) & (cy < y0 + side)).any())


def flat(frame: np.ndarray, x0: int, y0: int, side: int) -> bool:
    """No detail anywhere in the tile: every 4th pixel of its green channel within a few
    levels of their mean."""
    g = frame[y0 : y0 + side : 4, x0 : x0 + side : 4, 1]
    return bool(g.size) and float(g.std()) < FLAT_STD


def centres(regions: list[Region]) -> np.ndarray:
    """(N, 2) centres of the regions' boxes."""
    if not regions:
        return np.zeros((0, 2))
    b = np.array([r.box for r in regions], np.float64)
    return np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2], 1)


def _holds(region: np.ndarray, x0: int, y0: int, points: np.ndarray) -> bool:
    h, w = region.shape
    for cx, cy in points:
        x, y = int(cx) - x0, int(cy) - y0
        if 0 <= x < w and 0 <= y < h and region[y, x]:
            return True
    return False


def confirmed(
    prob: np.ndarray,
    faces: list[Region],
    candidates: list[Region],
    hands: list[Region],
    min_face_px: int,
    pose: Callable[[tuple[int, int, int, int]], bool] = lambda box: True,
) -> np.ndarray:
    """Person regions (0/1 HxW) from the probability map, each above the threshold, larger
    than half a smallest face, and confirmed (see the module's rules). ``faces`` and
    ``hands`` are verified; ``candidates`` are faces the verifier turned down; ``pose``
    says whether a region's box shows a body (asked only of regions a candidate alone
    would confirm)."""
    hit = (prob > int(PERSON_THRESHOLD * 255)).view(np.uint8)
    out = np.zeros_like(hit)
    sure_centres = centres(faces + hands)
    weak_centres = centres(candidates)
    frame_area = hit.size
    for x0, y0, x1, y1 in masks.mask_boxes(hit, min_area=max(1, min_face_px**2 // 2)):
        region = hit[y0:y1, x0:x1]
        inside = region > 0
        area = int(inside.sum())
        mean = float(prob[y0:y1, x0:x1][inside].mean()) / 255
        keep = (
            _holds(region, x0, y0, sure_centres)
            or (area >= BIG_AREA * frame_area and mean >= BIG_SURE)
            or (
                mean >= SURE_WITH_FACE
                and _holds(region, x0, y0, weak_centres)
                and pose((int(x0), int(y0), int(x1), int(y1)))
            )
        )
        if keep:
            out[y0:y1, x0:x1] |= region
    return out


def on_people(people: np.ndarray, regions: list[Region]) -> list[Region]:
    """The regions whose centre lies on a confirmed person."""
    h, w = people.shape
    out = []
    for r, (cx, cy) in zip(regions, centres(regions), strict=True):
        if people[min(h - 1, max(0, int(cy))), min(w - 1, max(0, int(cx)))]:
            out.append(r)
    return out
