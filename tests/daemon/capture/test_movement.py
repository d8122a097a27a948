"""Movement events without identity: the drawn research scene (a shopper walks to the shelf,
stands, leans in, takes a product, leaves) gives exactly its known events, through the real
redactor's people and through the whole daemon; tracks never outlive their clip."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tests.daemon.capture.test_clips import open_research_gate, start_study
from tests.support.aio import until
from tests.support.daemon import config_for, status_json
from veilcam.capture.movement import Movement
from veilcam.config import loads
from veilcam.demo import research as scene
from veilcam.redaction.redactor import VisionRedactor
from veilcam.runtime.supervisor import running
from veilcam.vision.pipeline import Vision


@pytest.mark.slow  # the real redactor over whole clips: too slow on the NumPy twins
def test_the_scene_gives_its_known_events(vision: Vision) -> None:
    cam = loads(
        '[[cameras]]\nname = "a"\npurpose = "research"\nresearch_basis = "x"\n'
        'source = { kind = "replay", path = "x" }\n'
    ).cameras[0]
    redactor = VisionRedactor(vision)
    movement = Movement((scene.H, scene.W), scene.AREA, {"bread": scene.ZONE})
    for i, img in enumerate(scene.frames()):
        red = redactor.redact(np.asarray(img), cam)
        movement.step(i / scene.FPS, red.people, red.pixels)
    events = movement.close(len(scene.frames()) / scene.FPS)
    assert Counter(e.kind for e in events) == scene.EVENTS
    assert {e.track for e in events} == {0}
    kinds = [e.kind for e in events]
    assert kinds.index("enter") < kinds.index("reach") < kinds.index("take")
    reach = next(e for e in events if e.kind == "reach")
    assert reach.zone == "bread" and 0.7 < (reach.x or 0) < 0.9
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
    status = status_json(data_dir)
    assert status["clips"] >= 1 and status["research_events"] >= 4
