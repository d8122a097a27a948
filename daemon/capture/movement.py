"""Movement events without identity, from a research clip's redacted frames and the people
the redactor confirmed in them (masks, never stored).

Tracks live only inside one clip: a tracker is made per clip, its ids start at 0, and
nothing of a track (no picture, no template, no box history) outlives the clip's events. The
events are geometric:

- **enter**: a person's feet (the bottom centre of their region) are inside the study's area
  for the first time in the clip;
- **dwell**: a person stays at a shelf zone (their region touches it) for ``DWELL`` seconds
  or more; one event when they leave, with how long;
- **reach**: a person's hand (a wrist or index fingertip from their pose landmarks) comes
  into a shelf zone; at its start, where, and how far from the camera when depth exists.
  A person the pose model has not placed yet reaches when part of their region comes into
  the zone (an arm or a lean: the zone is drawn over the shelf, which a body standing in the
  aisle does not cover); once placed, a frame without landmarks changes nothing;
- **take**: when a reach ends, the shelf zone looks different from just before it (compared
  where nobody covers it in either picture): a product has gone (or been put back).

Each person's body landmarks (``PoseFrame``: shoulders, elbows, wrists, fingertips, hips,
knees, ankles, as fractions of the picture) are kept per frame under the clip's track id.
The face's landmarks (nose, eyes, ears, mouth) are never kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from veilcam.capture.geometry import iou, polygon_mask
from veilcam_native import mask as masks

if TYPE_CHECKING:
    from veilcam.vision.heads import Pose

DWELL = 2.0  # seconds at a shelf zone that count as dwelling
MIN_PERSON = 0.004  # share of the picture a person region must cover to be tracked
REACH_SHARE = 0.08  # share of a shelf zone a person must cover to be reaching into it
TAKE_DIFF = 18.0  # mean change (0-255) of the zone's uncovered pixels that counts as a take
TAKE_SHARE = 0.02  # ... over at least this share of the zone
MATCH = 0.2  # IoU that continues a track from one frame to the next
NEAR = 0.1  # a person within this share of the picture's width of a zone is at it
LOST_AFTER = 1.0  # seconds a track may go unseen before it ends
# The body landmarks kept (BlazePose's indices); never the face's (0-10).
BODY = {
    "left_shoulder": 11,
    "right_shoulder": 12,
    "left_elbow": 13,
    "right_elbow": 14,
    "left_wrist": 15,
    "right_wrist": 16,
    "left_index": 19,
    "right_index": 20,
    "left_hip": 23,
    "right_hip": 24,
    "left_knee": 25,
    "right_knee": 26,
    "left_ankle": 27,
    "right_ankle": 28,
}
HANDS = (15, 16, 19, 20)  # wrists and index fingertips: what reaches into a shelf
VISIBLE = 0.5  # a landmark less visible than this is not kept, and reaches nothing
POSE_MATCH = 0.5  # IoU between a pose's region and a track's box that gives it the pose
HAND_BOX = 0.02  # share of the picture's width round a hand where its depth is measured


@dataclass(frozen=True, slots=True)
class Event:
    track: int
    at: float  # seconds into the clip
    kind: str  # enter | dwell | reach | take
    zone: str | None = None
    x: float | None = None  # fractions of the picture
    y: float | None = None
    duration: float | None = None
    depth_mm: float | None = None  # a reach's distance from the camera, when depth exists


@dataclass(frozen=True, slots=True)
class PoseFrame:
    """One person's body landmarks in one frame: for each of ``BODY`` in order, x and y as
    fractions of the picture and visibility, or None where the model could not see it."""

    track: int
    at: float
    points: tuple[tuple[float, float, float] | None, ...]

    def as_dict(self) -> dict[str, list[float] | None]:
        return {name: list(p) if p else None for name, p in zip(BODY, self.points, strict=True)}


@dataclass
class _Track:
    id: int
    box: np.ndarray
    seen: float
    entered: bool = False
    posed: bool = False  # the pose model has placed this person: hands decide reaches
    at_zone: dict[str, float] = field(default_factory=dict)  # zone -> since
    reaching: dict[str, float] = field(default_factory=dict)  # zone -> since


def _depth_at(
    depth: np.ndarray | None, box: tuple[int, int, int, int], shape: tuple[int, int], units: float
) -> float | None:
    """The median non-zero depth (millimetres) in ``box`` of the colour picture."""
    if depth is None:
        return None
    sy, sx = depth.shape[0] / shape[0], depth.shape[1] / shape[1]
    x0, y0, x1, y1 = box
    part = depth[int(y0 * sy) : max(int(y0 * sy) + 1, int(y1 * sy)),
                 int(x0 * sx) : max(int(x0 * sx) + 1, int(x1 * sx))]  # fmt: skip
    seen = part[part > 0]
    return round(float(np.median(seen)) * units, 1) if seen.size else None


def _f(v: float) -> float:
    """A fraction of the picture, to a thousandth (about a pixel at 1080p)."""
    return round(min(1.0, max(0.0, float(v))), 3)


def _in_zone(p: tuple[float, float], box: tuple[int, int, int, int], zone: np.ndarray) -> bool:
    x, y = int(p[0]), int(p[1])
    x0, y0, x1, y1 = box
    return x0 <= x < x1 and y0 <= y < y1 and bool(zone[y - y0, x - x0])


class Movement:
    """One clip's tracker; ``step`` each recorded frame, ``close`` at the clip's end."""

    def __init__(
        self,
        shape: tuple[int, int],
        area: tuple[tuple[float, float], ...],
        zones: dict[str, tuple[tuple[float, float], ...]],
    ) -> None:
        self.h, self.w = shape
        self.area = polygon_mask(shape, area)
        # Each zone as its bounding box and the polygon's mask inside it: every test below
        # touches only those pixels, not the whole picture.
        self.zones: dict[str, tuple[tuple[int, int, int, int], np.ndarray]] = {}
        for name, poly in zones.items():
            full = polygon_mask(shape, poly)
            ys, xs = np.nonzero(full)
            if not len(xs):
                continue
            box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
            self.zones[name] = (box, full[box[1] : box[3], box[0] : box[2]].astype(bool))
        # Where standing counts as being at each zone: its box, widened.
        self.near: dict[str, tuple[float, float, float, float]] = {}
        for name, poly in zones.items():
            px, py = [p[0] for p in poly], [p[1] for p in poly]
            self.near[name] = (
                (min(px) - NEAR) * self.w,
                (min(py) - NEAR) * self.h,
                (max(px) + NEAR) * self.w,
                (max(py) + NEAR) * self.h,
            )
        self.tracks: list[_Track] = []
        self.next_id = 0
        self.events: list[Event] = []
        self.poses: list[PoseFrame] = []
        # Each zone's box as it last looked with nobody reaching in, and who covered it then.
        self.before: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def _match(self, boxes: np.ndarray, t: float) -> list[_Track]:
        out: list[_Track] = []
        free = [tr for tr in self.tracks if t - tr.seen <= LOST_AFTER]
        for box in boxes:
            best = max(free, key=lambda tr: iou(tr.box, box), default=None)
            if best is not None and iou(best.box, box) >= MATCH:
                free.remove(best)
                best.box, best.seen = box, t
                out.append(best)
            else:
                tr = _Track(self.next_id, box, t)
                self.next_id += 1
                self.tracks.append(tr)
                out.append(tr)
        return out

    def step(
        self,
        t: float,
        people: np.ndarray | None,
        pixels: np.ndarray,
        depth: np.ndarray | None = None,
        units_mm: float = 1.0,
        poses: list[Pose] | None = None,
    ) -> None:
        """One recorded frame at ``t`` seconds into the clip; ``depth`` (aligned to the
        colour picture, any size) gives each reach its distance from the camera; ``poses``
        (the redactor's, in frame pixels) place each person's body and hands."""
        h, w = self.h, self.w
        people = people if people is not None else np.zeros((h, w), np.uint8)
        people = people[:h, :w]
        boxes = masks.mask_boxes(people, min_area=int(MIN_PERSON * h * w))
        current = self._match(boxes, t)
        posed = self._poses(current, poses or [], t)
        for tr in current:
            hands = posed.get(tr.id)
            x0, y0, x1, y1 = (int(v) for v in tr.box)
            fx, fy = min(w - 1, (x0 + x1) // 2), min(h - 1, max(0, y1 - 1))
            if not tr.entered and self.area[fy, fx]:
                tr.entered = True
                self.events.append(Event(tr.id, t, "enter", None, fx / w, fy / h))
            for name, ((zx0, zy0, zx1, zy1), zone) in self.zones.items():
                # This person's pixels inside the zone: their box cut to the zone's box.
                ix0, iy0, ix1, iy1 = max(x0, zx0), max(y0, zy0), min(x1, zx1), min(y1, zy1)
                inside = np.zeros((0, 0), bool)
                if ix0 < ix1 and iy0 < iy1:
                    inside = (
                        people[iy0:iy1, ix0:ix1].astype(bool)
                        & zone[iy0 - zy0 : iy1 - zy0, ix0 - zx0 : ix1 - zx0]
                    )
                covered = int(np.count_nonzero(inside))
                nx0, ny0, nx1, ny1 = self.near[name]
                touching = covered > 0 or (x0 < nx1 and x1 > nx0 and y0 < ny1 and y1 > ny0)
                self._dwell(tr, name, t, touching)
                if hands:  # hands placed this frame: they decide
                    zbox = (zx0, zy0, zx1, zy1)
                    at = [p for p in hands if _in_zone(p, zbox, zone)]
                    reaching = bool(at)
                elif tr.posed:  # placed before, hands unseen now: nothing changes
                    reaching = name in tr.reaching
                else:
                    reaching = covered >= REACH_SHARE * max(1, int(np.count_nonzero(zone)))
                if reaching and name not in tr.reaching:
                    tr.reaching[name] = t
                    if hands:
                        cx, cy = np.mean(at, axis=0)
                        r = HAND_BOX * w
                        near = (int(cx - r), int(cy - r), int(cx + r) + 1, int(cy + r) + 1)
                    else:
                        ys, xs = np.nonzero(inside)
                        cx, cy = float(xs.mean()) + ix0, float(ys.mean()) + iy0
                        near = (ix0, iy0, ix1, iy1)
                    mm = _depth_at(depth, near, (h, w), units_mm)
                    self.events.append(
                        Event(tr.id, t, "reach", name, _f(cx / w), _f(cy / h), depth_mm=mm)
                    )
                elif not reaching and name in tr.reaching:
                    del tr.reaching[name]
                    self._take(tr, name, t, pixels, people)
        for tr in self.tracks:  # tracks unseen this frame leave their zones
            if tr not in current and t - tr.seen > LOST_AFTER:
                self._leave(tr, t)
        for name, ((zx0, zy0, zx1, zy1), zone) in self.zones.items():
            if not any(name in tr.reaching for tr in self.tracks):
                crop = pixels[zy0:zy1, zx0:zx1][zone].astype(np.int16)
                self.before[name] = (crop, people[zy0:zy1, zx0:zx1][zone].copy())

    def _poses(
        self, current: list[_Track], poses: list[Pose], t: float
    ) -> dict[int, list[tuple[float, float]]]:
        """Give each pose to the track whose box it was found on; keep its body landmarks.
        Returns each placed track's visible hands (frame pixels)."""
        out: dict[int, list[tuple[float, float]]] = {}
        free = list(current)
        for pose in poses:
            box = np.asarray(pose.region, np.float64)
            best = max(free, key=lambda tr: iou(tr.box, box), default=None)
            if best is None or iou(best.box, box) < POSE_MATCH:
                continue
            free.remove(best)
            best.posed = True
            pts = pose.points
            out[best.id] = [
                (float(pts[i, 0]), float(pts[i, 1])) for i in HANDS if pts[i, 2] >= VISIBLE
            ]
            kept = tuple(
                (_f(pts[i, 0] / self.w), _f(pts[i, 1] / self.h), round(float(pts[i, 2]), 2))
                if pts[i, 2] >= VISIBLE
                else None
                for i in BODY.values()
            )
            self.poses.append(PoseFrame(best.id, round(t, 3), kept))
        return out

    def _dwell(self, tr: _Track, name: str, t: float, touching: bool) -> None:
        if touching:
            tr.at_zone.setdefault(name, t)
        elif name in tr.at_zone:
            since = tr.at_zone.pop(name)
            if t - since >= DWELL:
                self.events.append(Event(tr.id, since, "dwell", name, duration=round(t - since, 2)))

    def _take(
        self, tr: _Track, name: str, t: float, pixels: np.ndarray, people: np.ndarray
    ) -> None:
        if name not in self.before:
            return
        (zx0, zy0, zx1, zy1), zone = self.zones[name]
        then, covered_then = self.before[name]
        now = pixels[zy0:zy1, zx0:zx1][zone].astype(np.int16)
        clear = (covered_then == 0) & (people[zy0:zy1, zx0:zx1][zone] == 0)
        if clear.sum() < 16:
            return
        diff = np.abs(now - then).mean(axis=-1)[clear]
        changed = diff > TAKE_DIFF
        if changed.mean() >= TAKE_SHARE:
            self.events.append(Event(tr.id, t, "take", name))

    def _leave(self, tr: _Track, t: float) -> None:
        for name in list(tr.at_zone):
            self._dwell(tr, name, t, False)
        tr.reaching.clear()

    def close(self, t: float) -> list[Event]:
        """The clip ends: every open dwell ends with it. The events, in time order."""
        for tr in self.tracks:
            self._leave(tr, t)
        self.tracks.clear()
        return sorted(self.events, key=lambda e: (e.at, e.track))
