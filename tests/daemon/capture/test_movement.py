"""Movement events without identity: the drawn research scene (a shopper walks to the shelf,
stands, leans in, takes a product, leaves) gives exactly its known events and a pose track,
through the real redactor's people and poses and through the whole daemon; tracks never
outlive their clip; hands, not bodies, reach once a person's pose is known."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tests.daemon.capture.test_clips import open_research_gate, start_study
from tests.support.aio import until
from tests.support.daemon import config_for, status_json
from veilcam.capture.movement import BODY, HANDS, Movement
from veilcam.config import loads
from veilcam.demo import research as scene
from veilcam.redaction.redactor import VisionRedactor
from veilcam.runtime.supervisor import running
from veilcam.vision.heads import Pose
from veilcam.vision.pipeline import Vision


@pytest.mark.slow  # the real redactor over whole clips: too slow on the NumPy twins
def test_the_scene_gives_its_known_events(vision: Vision) -> None:
    cam = loads(
        '[[cameras]]\nname = "a"\npurpose = "research"\nresearch_basis = "x"\n'
        'source = { kind = "replay", path = "x" }\n'
    ).cameras[0]
    redactor = VisionRedactor(vision)
    movement = Movement((scene.H, scene.W), scene.AREA, {"bread": scene.ZONE})
    frames = scene.frames()
    for i, img in enumerate(frames):
        red = redactor.redact(np.asarray(img), cam)
        movement.step(i / scene.FPS, red.people, red.pixels, poses=red.poses)
    events = movement.close(len(frames) / scene.FPS)
    assert Counter(e.kind for e in events) == scene.EVENTS
    assert {e.track for e in events} == {0}
    kinds = [e.kind for e in events]
    assert kinds.index("enter") < kinds.index("reach") < kinds.index("take")
    reach = next(e for e in events if e.kind == "reach")
    assert reach.zone == "bread" and 0.72 <= (reach.x or 0) <= 0.87
    # He reaches when he leans in (frames 75-80), not while standing at the shelf.
    lean = sum(b.frames for b in scene.BEATS[:3]) / scene.FPS
    assert lean <= reach.at <= lean + 1.0
    # His pose, frame by frame, on the clip's track: body landmarks only.
    assert len(movement.poses) >= len(frames) // 3
    assert {p.track for p in movement.poses} == {0}
    seen = [p for p in movement.poses if p.at == reach.at][0].as_dict()
    assert set(seen) == set(BODY) and "nose" not in seen
    wrists = [seen[k] for k in ("left_wrist", "right_wrist", "left_index", "right_index")]
    assert any(w is not None and 0.72 <= w[0] <= 0.87 for w in wrists), seen
    dwell = next(e for e in events if e.kind == "dwell")
    assert (dwell.duration or 0) >= 3.0


@pytest.mark.slow  # the real redactor over whole clips: too slow on the NumPy twins
async def test_the_daemon_records_the_scene_with_its_events(data_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "scene"
    scene.write(folder)
    extra = (
        '[[cameras]]\nname = "aisle-2"\npurpose = "research"\nresearch_basis = "consent"\n'
        f'source = {{ kind = "replay", path = "{folder}" }}\n'
        'clips = { fps = 10, seconds = "60s", linger = "1s" }\n'
    )
    async with running(config_for(data_dir, extra)) as app:
        assert app.research is not None and app.privacy is not None
        await open_research_gate(app)
        await start_study(app, {"aisle-2": scene.AREA}, {"aisle-2": {"bread": scene.ZONE}})

        def events() -> list[tuple[str, str, int]]:
            with sqlite3.connect(data_dir / "veilcam.db") as conn:
                return conn.execute(
                    "SELECT clip_id, kind, track FROM research_events ORDER BY clip_id, at"
                ).fetchall()

        async def one_pass() -> bool:
            return any(k == "take" for _, k, _ in events())

        await until(one_pass, 60)
    first = events()[0][0]
    in_clip = [(k, t) for c, k, t in events() if c == first]
    assert Counter(k for k, _ in in_clip) == scene.EVENTS
    assert {t for _, t in in_clip} == {0}, "a track id is valid for its clip only"
    with sqlite3.connect(data_dir / "veilcam.db") as conn:
        poses = conn.execute(
            "SELECT track, points FROM research_poses WHERE clip_id = ?", (first,)
        ).fetchall()
    assert poses and {t for t, _ in poses} == {0}
    assert all(len(json.loads(p)) == len(BODY) for _, p in poses)
    status = status_json(data_dir)
    assert status["clips"] >= 1 and status["research_events"] >= 4
    assert status["research_poses"] >= len(poses)


SHAPE = (200, 400)
ZONE = ((0.7, 0.2), (0.9, 0.2), (0.9, 0.6), (0.7, 0.6))


def pose_at(region: tuple[int, int, int, int], hand: tuple[float, float] | None) -> Pose:
    """A pose whose hands (wrists, fingertips) are at ``hand`` (pixels), or unseen."""
    points = np.zeros((33, 3), np.float32)
    x0, y0, x1, y1 = region
    points[:, :2] = ((x0 + x1) / 2, (y0 + y1) / 2)
    points[list(BODY.values()), 2] = 0.9
    if hand is not None:
        points[list(HANDS), :2] = hand
    else:
        points[list(HANDS), 2] = 0.1
    return Pose(region, points, 0.9)


def person(region: tuple[int, int, int, int]) -> np.ndarray:
    mask = np.zeros(SHAPE, np.uint8)
    x0, y0, x1, y1 = region
    mask[y0:y1, x0:x1] = 1
    return mask


def test_once_posed_hands_reach_and_bodies_do_not() -> None:
    pixels = np.full((*SHAPE, 3), 128, np.uint8)
    movement = Movement(SHAPE, ((0, 0), (1, 0), (1, 1), (0, 1)), {"shelf": ZONE})
    body = (220, 30, 330, 200)  # covers a third of the zone: a lean, by its region alone
    movement.step(0.0, person(body), pixels)  # no pose yet: the region decides
    assert [e.kind for e in movement.events] == ["enter", "reach"]
    movement = Movement(SHAPE, ((0, 0), (1, 0), (1, 1), (0, 1)), {"shelf": ZONE})
    movement.step(0.0, person(body), pixels, poses=[pose_at(body, (250.0, 150.0))])
    movement.step(0.1, person(body), pixels, poses=[])  # the model missed him: no change
    movement.step(0.2, person(body), pixels, poses=[pose_at(body, None)])  # hands unseen
    assert [e.kind for e in movement.events] == ["enter"], "his hands are in the aisle"
    movement.step(0.3, person(body), pixels, poses=[pose_at(body, (300.0, 80.0))])
    reach = movement.events[-1]
    assert (reach.kind, reach.zone, reach.x, reach.y) == ("reach", "shelf", 0.75, 0.4)
    movement.step(0.4, person(body), pixels, poses=[pose_at(body, (250.0, 150.0))])
    assert [e.kind for e in movement.events] == ["enter", "reach"]  # the shelf unchanged
    assert [p.at for p in movement.poses] == [0.0, 0.2, 0.3, 0.4]
    assert movement.poses[2].as_dict()["right_wrist"] == [0.75, 0.4, 0.9]


def test_a_pose_goes_to_the_person_it_was_found_on() -> None:
    pixels = np.full((*SHAPE, 3), 128, np.uint8)
    movement = Movement(SHAPE, ((0, 0), (1, 0), (1, 1), (0, 1)), {"shelf": ZONE})
    left, right = (10, 40, 80, 200), (200, 40, 270, 200)
    both = person(left) | person(right)
    movement.step(0.0, both, pixels, poses=[pose_at(right, (300.0, 80.0))])
    reach = [e for e in movement.events if e.kind == "reach"]
    assert len(reach) == 1 and movement.poses[0].track == reach[0].track
    stray = pose_at((100, 0, 150, 30), (300.0, 80.0))  # on nobody's region
    movement.step(0.1, both, pixels, poses=[stray])
    assert len(movement.poses) == 1
