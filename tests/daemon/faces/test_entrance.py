"""The entrance camera end to end: a replayed entrance where a registered person and a
stranger walk by. The registered face raises one alarm for review with its evidence crop;
the stranger leaves nothing: no row, no file, no log line, no template anywhere."""

from __future__ import annotations

import io
import logging
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.daemon.capture.test_clips import PW, open_gate
from tests.daemon.faces.test_watchlist import files_holding, jpeg
from tests.support.aio import until
from tests.support.daemon import DEMO_ASSETS, config_for
from veilcam.accounts import Accounts
from veilcam.demo import research as scene
from veilcam.runtime.supervisor import running

pytest.importorskip("dlib", reason="the face features need the [faces] extra")


def entrance(folder: Path) -> None:
    """The aisle with the astronaut (registered), then the man leaning in (a stranger)."""
    folder.mkdir()
    with Image.open(DEMO_ASSETS / "floor" / "aisle-0-shopper.jpg") as im:
        im.convert("RGB").save(folder / "0000.jpg")
    scene.frames()[70].save(folder / "0001.jpg")


@pytest.mark.slow  # the whole daemon with the face models
async def test_a_registered_face_is_raised_and_a_stranger_leaves_nothing(
    data_dir: Path,
    tmp_path: Path,
    face_models: Path,
    assets: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    entrance(tmp_path / "entrance")
    extra = (
        '[[cameras]]\nname = "entrance"\npurpose = "floor"\nwatchlist = true\n'
        f'source = {{ kind = "replay", path = "{tmp_path / "entrance"}" }}\n'
        'stream = { fps = 2, still_interval = "5s" }\n'
    )
    async with running(config_for(data_dir, extra)) as app:
        assert app.watchlist is not None and app.privacy is not None
        accounts = Accounts(app.store)
        for name in ("ada", "ben"):  # the two administrators
            await accounts.add(name, "admin", PW, actor="test")
        await open_gate(app, "watchlist")
        astronaut = np.asarray(Image.open(assets / "astronaut.png").convert("RGB"))
        entry = await app.watchlist.register(
            app.privacy.act("ada"), [jpeg(astronaut)], reference="INC-2026-41", category="theft"
        )
        await app.watchlist.decide(app.privacy.act("ben"), entry, True)

        def rows(sql: str) -> list[tuple[object, ...]]:
            with sqlite3.connect(data_dir / "veilcam.db") as conn:
                return conn.execute(sql).fetchall()

        async def raised() -> bool:
            return bool(rows("SELECT id FROM alarms WHERE source = 'watchlist'"))

        await until(raised, 60)
        assert app.entrance is not None
        seen = app.entrance.looked

        async def both_looked_at() -> bool:  # the replay alternates: the stranger came by too
            return app.entrance is not None and app.entrance.looked >= seen + 4

        await until(both_looked_at, 60)
        features, vision = app.watchlist._features, app.watchlist._vision
        threshold = features.embedder.threshold
        stranger = np.asarray(scene.frames()[70])
        faces = vision.faces(stranger, min_face_px=20)
        stranger_templates = [features.describe(stranger, f).template for f in faces]
        evidence = rows("SELECT id, trigger FROM media WHERE kind = 'evidence'")
        crops = [await app.store.read_picture(str(i)) for i, _ in evidence]
        matched = []
        for picture in crops:  # every evidence crop is of the registered face
            crop = np.asarray(Image.open(io.BytesIO(picture)).convert("RGB"))
            t = features.describe(crop, vision.faces(crop, min_face_px=12)[0]).template
            matched.append(app.watchlist.match(t, threshold))
        key = await app.watchlist.key()
        (alarm,) = rows(
            "SELECT subject, rule, level, message FROM alarms WHERE source = 'watchlist'"
        )
    assert alarm[:3] == (f"entry {entry}", "match", "alarm")
    assert "theft, INC-2026-41" in str(alarm[3]) and "review" in str(alarm[3])
    assert len(evidence) == 1 and evidence[0][1] == f"watchlist:{entry}", "one crop per sighting"
    assert all(m is not None and m.entry_id == entry for m in matched)
    # The stranger: embedded in memory to compare, and nothing of it kept or logged.
    usable = [t for t in stranger_templates if t is not None]
    assert usable, "the stranger's face was usable: the test must show it was not kept"
    needles = []
    for t in usable:
        needles += [t.astype("<f4").tobytes()[:48], key.transform(t).astype("<f4").tobytes()[:48]]
    assert not files_holding(data_dir, needles)
    told = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith(("veilcam.faces", "veilcam.alerts"))
    ]
    assert told and all(f"entry {entry}" in m for m in told), told


@pytest.mark.slow  # the whole demo with the face models
async def test_the_watchlist_demo_raises_a_match_for_review(
    tmp_path: Path, face_models: Path
) -> None:
    """`veilcam demo --scenario watchlist`: the DPO and the admin open the gate and approve
    an entry from a picture of the shopper; the entrance camera raises her match."""
    import asyncio
    import contextlib

    from veilcam.demo.run import run_demo

    task = asyncio.create_task(
        run_demo(tmp_path, port=0, duration=120, seed=1, faults="", speed=1.0, scenario="watchlist")
    )

    def alarms() -> list[tuple[object, ...]]:
        db = tmp_path / "veilcam.db"
        if not db.exists():
            return []
        with sqlite3.connect(db) as conn:
            try:
                return conn.execute(
                    "SELECT subject, message FROM alarms WHERE source = 'watchlist'"
                ).fetchall()
            except sqlite3.OperationalError:
                return []

    async def matched() -> bool:
        if task.done():  # the demo stopped: say why at once
            task.result()
        return bool(alarms())

    try:
        await until(matched, 90)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, SystemExit):
            await task
    ((subject, message),) = alarms()
    assert subject == "entry 1" and "INC-2026-117" in str(message)
