"""Depth beside research clips: a replayed Z16-like stream (16-bit PNGs) recorded losslessly
under the same study and retention, each reach given its distance; a corrupt depth frame is
named in health, recorded as zeros and counted, and the colour clip goes on."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from tests.daemon.capture.test_clips import open_research_gate, start_study
from tests.support.aio import until
from tests.support.daemon import config_for
from veilcam.demo import research as scene
from veilcam.runtime.supervisor import running

FAR, SHELF, PERSON = 2500, 1200, 900  # millimetres


def depth_frames(folder: Path) -> list[np.ndarray]:
    """One 16-bit depth picture per scene frame: the aisle far, the shelf zone nearer, the
    shopper nearest where she stands (her box); two of them spoiled."""
    folder.mkdir(parents=True)
    out = []
    x = None
    for beat in scene.BEATS:
        for i in range(beat.frames):
            d = np.full((scene.H // 2, scene.W // 2), FAR, np.uint16)
            zx = [int(p[0] * scene.W / 2) for p in scene.ZONE]
            zy = [int(p[1] * scene.H / 2) for p in scene.ZONE]
            d[min(zy) : max(zy), min(zx) : max(zx)] = SHELF
            if beat.x0 is not None and beat.x1 is not None:
                t = i / max(1, beat.frames - 1)
                x = round(beat.x0 + (beat.x1 - beat.x0) * t)
                x0, x1 = max(0, x // 2), max(0, (x + scene.SHOPPER_W) // 2)
                d[(scene.H - scene.SHOPPER_H) // 2 :, x0:x1] = PERSON
            out.append(d)
    for n, d in enumerate(out):
        Image.fromarray(d).save(folder / f"{n:04d}.png")
    (folder / "0030.png").write_bytes(b"\x89PNG this is not a picture")
    Image.fromarray(np.zeros((20, 20), np.uint16)).save(folder / "0031.png")
    return out


@pytest.mark.slow  # the real redactor over whole clips: too slow on the NumPy twins
async def test_depth_is_recorded_beside_the_clip_and_bad_frames_are_named(
    data_dir: Path, tmp_path: Path
) -> None:
    frames = tmp_path / "scene"
    scene.write(frames)
    sources = depth_frames(tmp_path / "depth")
    extra = (
        '[[cameras]]\nname = "aisle-2"\npurpose = "research"\nresearch_basis = "consent"\n'
        f'source = {{ kind = "replay", path = "{frames}" }}\n'
        f'depth = {{ kind = "replay", path = "{tmp_path / "depth"}" }}\n'
        'clips = { fps = 10, seconds = "60s", linger = "1s" }\n'
    )
    async with running(config_for(data_dir, extra)) as app:
        assert app.research is not None and app.privacy is not None
        await open_research_gate(app)
        await start_study(app, {"aisle-2": scene.AREA}, {"aisle-2": {"bread": scene.ZONE}})

        def rows(sql: str) -> list[sqlite3.Row]:
            with sqlite3.connect(data_dir / "veilcam.db") as conn:
                conn.row_factory = sqlite3.Row
                return conn.execute(sql).fetchall()

        async def depth_stored() -> bool:
            return bool(rows("SELECT id FROM media WHERE trigger = 'depth'"))

        await until(depth_stored, 60)
        clip = rows("SELECT * FROM media WHERE trigger = 'study' ORDER BY created_at")[0]
        depth = rows("SELECT * FROM media WHERE trigger = 'depth' ORDER BY created_at")[0]
        mkv = await app.store.read_picture(depth["id"])
        health = app.health.get("depth:aisle-2")
    assert depth["study_id"] == clip["study_id"] and depth["created_at"] == clip["created_at"]
    assert depth["expires_at"] == clip["expires_at"] and depth["frames"] == clip["frames"]
    assert depth["blank_frames"] == 2, "the two spoiled depth frames, recorded as zeros"
    assert health is not None and "corrupt depth frame" in health.message
    decoded = [f.to_ndarray(format="gray16le") for f in av.open(io.BytesIO(mkv)).decode()]
    assert len(decoded) == depth["frames"]
    lossless = [d for d in decoded if d.any()]
    assert lossless and all(any((d == s).all() for s in sources) for d in lossless)
    reach = rows("SELECT * FROM research_events WHERE kind = 'reach'")[0]
    assert reach["depth_mm"] is not None and PERSON <= reach["depth_mm"] <= SHELF
