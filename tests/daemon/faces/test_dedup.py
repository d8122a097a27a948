"""De-duplicated counting: the same face is one visit while it stays, a repeat after the
visit gap, another face a new visitor; staff never counted; a day's binary templates cannot
be matched once its key is destroyed; nothing is looked at while the gate is closed, and
only counts are stored."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.daemon.faces.test_watchlist import (  # noqa: F401 - site is a fixture
    files_holding,
    open_gate,
    site,
)
from veilcam.config import loads
from veilcam.faces import dedup as dd
from veilcam.faces.counting import Counting
from veilcam.faces.dedup import Dedup
from veilcam.faces.service import Watchlist
from veilcam.faces.visits import Visits
from veilcam.health import Health
from veilcam.privacy.service import Privacy

pytest.importorskip("dlib", reason="the face features need the [faces] extra")


@pytest.fixture(scope="module")
def faces(assets: Path, face_models: Path) -> Iterator[dict[str, list[np.ndarray]]]:
    """Templates of two people, each from four copies of their photo (sizes, grey)."""
    from veilcam.vision.embed import DlibEmbedder, FaceFeatures
    from veilcam.vision.pipeline import Vision
    from veilcam.vision.runtime import BoardProfile

    profile = BoardProfile("generic")
    vision, features = (
        Vision(profile, face_models),
        FaceFeatures(DlibEmbedder(face_models), profile, face_models),
    )
    out: dict[str, list[np.ndarray]] = {}
    for name in ("astronaut", "camera"):
        im = Image.open(assets / f"{name}.png").convert("RGB")
        copies = [im, im.resize((300, 300)), im.convert("L").convert("RGB"), im.resize((400, 400))]
        out[name] = []
        for c in copies:
            px = np.asarray(c)
            t = features.describe(px, vision.faces(px, min_face_px=12)[0]).template
            assert t is not None
            out[name].append(t)
    yield out


def settled(faces: dict[str, list[np.ndarray]]) -> Dedup:
    """A day whose centre is set from its first eight faces (four sightings of each, at
    once: one visit each)."""
    d = Dedup("2026-12-06")
    for i in range(4):
        d.see(faces["astronaut"][i], 0.0, False)
        d.see(faces["camera"][i], 0.0, False)
    assert d.key.centre is not None and not d.pending
    return d


def test_one_visit_a_repeat_and_another_visitor(faces: dict[str, list[np.ndarray]]) -> None:
    d = settled(faces)
    assert d.take() == {"unique": 2, "repeat": 0}
    d.see(faces["astronaut"][1], 60.0, False)  # still here: the same visit
    assert d.take() == {"unique": 0, "repeat": 0}
    d.see(faces["astronaut"][2], 60.0 + dd.VISIT_GAP, False)  # back later
    assert d.take() == {"unique": 0, "repeat": 1}


def test_staff_are_never_counted(faces: dict[str, list[np.ndarray]]) -> None:
    d = Dedup("2026-12-06")
    for i in range(4):
        d.see(faces["camera"][i], 0.0, True)  # badged in: staff for the day
        d.see(faces["astronaut"][i], 0.0, False)
    assert d.take() == {"unique": 1, "repeat": 0}
    d.see(faces["camera"][3], 2 * dd.VISIT_GAP, False)  # later, elsewhere: still staff
    assert d.take() == {"unique": 0, "repeat": 0}


def test_a_day_cannot_be_matched_once_its_key_is_gone(faces: dict[str, list[np.ndarray]]) -> None:
    day1 = settled(faces)
    code = day1.key.binary(faces["astronaut"][0])
    day1.destroy()
    assert not any(day1.key.secret) and not day1.key.projections.any()
    assert len(day1.templates) == 0 and not day1.seen
    day2 = settled(faces)
    again = day2.key.binary(faces["astronaut"][0])
    distance = int(np.unpackbits(code ^ again).sum())
    assert distance > 2 * dd.THRESHOLD // 3 * 2, "another day's key: the same face is a stranger"
    assert day2.take() == {"unique": 2, "repeat": 0}, "day two knows nothing of day one"


async def test_nothing_is_looked_at_while_the_gate_is_closed(
    site: tuple[Watchlist, Privacy],  # noqa: F811 - the fixture
    data_dir: Path,
    assets: Path,
) -> None:
    w, privacy = site
    cam = loads(
        '[[cameras]]\nname = "door"\npurpose = "floor"\nsource = { kind = "replay", path = "x" }\n'
        'stream = { fps = 2 }\ncounting = { line = [[0, 0.5], [1, 0.5]], mode = "dedup" }\n'
    ).cameras[0]
    health = Health(w.clock)
    visits = Visits(w, Counting(w.store, w.clock, health, {}), w.clock, health)
    frame = np.asarray(Image.open(assets / "astronaut.png").convert("RGB"))
    await visits.inspect(cam, frame)
    assert w._features is None and not visits.days, "no face model loaded, no day begun"
    assert "counting_dedup gate is closed" in health.get("counting:door").message  # type: ignore[union-attr]

    gate = await open_gate(privacy, "counting_dedup")
    for _ in range(dd.CENTRE_FACES):
        await visits.inspect(cam, frame)
    with sqlite3.connect(data_dir / "veilcam.db") as conn:
        counts = conn.execute(
            "SELECT unique_visitors, repeat_visitors, entered FROM visitor_counts"
        ).fetchall()
    assert counts == [(1, 0, 0)]
    template = w._features.describe(frame, w._vision.faces(frame)[0]).template
    day = visits.days["door"]
    assert not files_holding(
        data_dir, [template.astype("<f4").tobytes()[:48], day.templates[0].tobytes()]
    )

    await privacy.close_gate(privacy.act("ada"), gate, "the trial is over")
    await visits.inspect(cam, frame)
    assert not visits.days and not any(day.key.secret), "closing the gate destroys the day"


def test_faces_waiting_for_the_centre_are_counted_when_the_day_ends(
    faces: dict[str, list[np.ndarray]],
) -> None:
    d = Dedup("2026-12-06")
    for t in (faces["astronaut"][0], faces["astronaut"][1], faces["camera"][0]):
        d.see(t, 0.0, False)
    assert d.key.centre is None and d.take() == {"unique": 0, "repeat": 0}
    d.destroy()  # a quiet day: three faces, the centre never set before midnight
    assert d.take() == {"unique": 2, "repeat": 0}
    assert not any(d.key.secret) and not d.pending
