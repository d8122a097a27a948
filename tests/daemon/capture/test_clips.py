"""Research clips: recorded only for a running study under an open gate and only while
someone is in its area; every decoded frame is the redacted one (faces and heads covered,
bodies kept), stored encrypted with its study, 30 days at most from its first frame."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from tests.support.aio import until
from tests.support.daemon import DEMO_ASSETS, config_for
from veilcam.accounts import Accounts
from veilcam.durations import DAY
from veilcam.errors import FeatureClosed, PrivacyRefused
from veilcam.runtime.context import App
from veilcam.runtime.supervisor import running

PW = "correct horse battery"
AISLE = (
    '[[cameras]]\nname = "aisle-1"\npurpose = "research"\n'
    'research_basis = "study consent, DPIA-2026-07"\n'
    f'source = {{ kind = "replay", path = "{DEMO_ASSETS / "floor"}" }}\n'
    'clips = { fps = 4, seconds = "6s", linger = "2s" }\n'
)
WHOLE = "0,0 1,0 1,1 0,1"


async def open_gate(app: App, feature: str) -> None:
    """``feature`` proposed by ada and approved by ben, the site's two administrators."""
    assert app.privacy is not None
    gate = await app.privacy.propose(
        app.privacy.act("ada"),
        feature=feature,
        legal_basis="consent of the participants",
        purpose="how shoppers reach at the bread shelf",
        dpia_ref="DPIA-2026-07",
        signage="A4 at the entrances",
    )
    await app.privacy.decide_gate(app.privacy.act("ben"), gate, True)


async def open_research_gate(app: App) -> None:
    """The two administrators, and the research gate open."""
    acc = Accounts(app.store)
    await acc.add("ada", "admin", PW, actor="test")
    await acc.add("ben", "admin", PW, actor="test")
    await open_gate(app, "research")


async def start_study(
    app: App, areas: dict[str, Any], zones: dict[str, dict[str, Any]] | None = None
) -> int:
    """A study running from a minute ago for a day, under the (open) research gate."""
    assert app.research is not None and app.privacy is not None
    now = app.clock.now()
    return await app.research.create(
        app.privacy.act("ada"),
        name="bread shelf",
        purpose="how shoppers reach",
        legal_basis="consent",
        starts_at=now - 60,
        ends_at=now + DAY,
        areas=areas,
        zones=zones,
    )


def clips(app: App) -> list[sqlite3.Row]:
    with sqlite3.connect(app.data_dir / "veilcam.db") as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(
            "SELECT * FROM media WHERE kind = 'clip' ORDER BY created_at"
        ).fetchall()


def assert_redacted(app: App, mp4: bytes, frames: int) -> None:
    """Every frame of ``mp4`` is one of the replayed aisle pictures as redaction left it:
    no region the redactor covered shows what the source had there."""
    assert app.pipeline.redactor is not None
    sources = [
        np.asarray(Image.open(p).convert("RGB")) for p in sorted(DEMO_ASSETS.glob("floor/*"))
    ]
    cam = app.config.camera("aisle-1")
    redacted = [app.pipeline.redactor.redact(s, cam) for s in sources]
    assert [r for r in redacted if r.boxes], "the replayed aisle has shoppers to cover"
    decoded = [f.to_ndarray(format="rgb24") for f in av.open(io.BytesIO(mp4)).decode(video=0)]
    assert len(decoded) == frames
    seen_people = 0
    for frame in decoded:
        h, w = frame.shape[:2]
        errors = [np.abs(frame.astype(int) - r.pixels[:h, :w]).mean() for r in redacted]
        i = int(np.argmin(errors))
        assert min(errors) < 6, "a decoded frame matches no redacted picture"
        for x0, y0, x1, y1 in redacted[i].boxes:
            source = sources[i][y0:y1, x0:x1].astype(int)
            assert np.abs(frame[y0:y1, x0:x1] - source).mean() > 20, "a face shows in the clip"
        seen_people += bool(redacted[i].boxes)
    assert seen_people > 0


@pytest.mark.slow  # the real redactor over whole clips: too slow on the NumPy twins
async def test_a_study_records_redacted_clips(data_dir: Path) -> None:
    async with running(config_for(data_dir, AISLE)) as app:
        assert app.research is not None and app.privacy is not None
        act = app.privacy.act("ada")
        now = app.clock.now()
        study = {
            "name": "bread shelf",
            "purpose": "how shoppers reach",
            "legal_basis": "consent",
            "starts_at": now - 60,
            "ends_at": now + DAY,
            "areas": {"aisle-1": WHOLE},
        }
        with pytest.raises(FeatureClosed, match="no approved decision"):
            await app.research.create(act, **study)
        await open_research_gate(app)
        with pytest.raises(PrivacyRefused, match="not a research camera"):
            await app.research.create(act, **{**study, "areas": {"fridge-1": WHOLE}})
        with pytest.raises(PrivacyRefused, match="at most 92 days"):
            await app.research.create(act, **{**study, "ends_at": now + 100 * DAY})
        study_id = await app.research.create(act, **study)

        async def two_clips() -> bool:
            return len(clips(app)) >= 2

        await until(two_clips, 40)
        rows = clips(app)
        mp4 = await app.store.read_picture(rows[0]["id"])
    first = rows[0]
    assert first["study_id"] == study_id and first["trigger"] == "study"
    assert first["expires_at"] - first["created_at"] <= 30 * DAY
    assert 5.5 <= first["duration"] <= 6.5 and first["frames"] >= 20
    assert first["blank_frames"] == 0

    # Not a byte of the clip is on disk in the clear: the file is the encrypted one.
    on_disk = b"".join(p.read_bytes() for p in (data_dir / "media").rglob("*") if p.is_file())
    assert mp4[4:8] == b"ftyp" and mp4[:64] not in on_disk

    # Every decoded frame is one of the replayed pictures as redaction left it.
    assert_redacted(app, mp4, first["frames"])


@pytest.mark.slow  # the real redactor over whole clips: too slow on the NumPy twins
async def test_nothing_is_recorded_outside_the_area_or_dates(data_dir: Path) -> None:
    async with running(config_for(data_dir, AISLE)) as app:
        assert app.research is not None and app.privacy is not None
        await open_research_gate(app)
        act, now = app.privacy.act("ada"), app.clock.now()
        base = {"name": "s", "purpose": "p", "legal_basis": "consent"}
        # A corner of the shelf nobody stands in, and a study that starts tomorrow.
        await app.research.create(
            act, **base, starts_at=now - 60, ends_at=now + DAY,
            areas={"aisle-1": "0,0 0.05,0 0.05,0.05 0,0.05"},
        )  # fmt: skip
        later = await app.research.create(
            act, **base, starts_at=now + DAY, ends_at=now + 2 * DAY, areas={"aisle-1": WHOLE}
        )
        import asyncio

        await asyncio.sleep(8)
        assert clips(app) == []
        assert app.research.study_for("aisle-1") is not None
        await app.research.stop(act, later, "cancelled")
        with pytest.raises(PrivacyRefused, match="already stopped"):
            await app.research.stop(act, later, "again")


@pytest.mark.slow  # the real redactor over whole clips: too slow on the NumPy twins
async def test_a_full_disk_keeps_finished_clips_until_there_is_room(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from veilcam.errors import StoreError

    async with running(config_for(data_dir, AISLE)) as app:
        assert app.research is not None and app.privacy is not None
        await open_research_gate(app)
        media = app.store.media
        assert media is not None
        real_write, full = media.write, True

        def write(media_id: str, plaintext: bytes, key: bytes | None = None) -> int:
            if full:
                raise StoreError(f"cannot write picture {media_id}: No space left on device")
            return real_write(media_id, plaintext, key)

        monkeypatch.setattr(media, "write", write)
        await start_study(app, {"aisle-1": WHOLE})
        recorder = app.recorders["aisle-1"]

        async def waiting() -> bool:
            # A finished clip joins the queue before the store is tried and health told.
            st = app.health.get("clips:aisle-1")
            return len(recorder.unstored) >= 1 and st is not None and st.state == "error"

        await until(waiting, 30)
        status = app.health.get("clips:aisle-1")
        assert status is not None
        assert "No space left" in status.message and "waiting in memory" in status.message
        assert clips(app) == []
        full = False  # room again: the waiting clip is stored, nothing lost

        async def stored() -> bool:
            return len(clips(app)) >= 1 and not recorder.unstored

        await until(stored, 30)
        assert recorder.lost == 0
        await asyncio.sleep(0)


@pytest.mark.slow  # the real redactor over whole clips: too slow on the NumPy twins
async def test_an_unplugged_camera_ends_the_clip_and_keeps_it(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from veilcam.errors import SourceError

    async with running(config_for(data_dir, AISLE)) as app:
        assert app.research is not None and app.privacy is not None
        await open_research_gate(app)
        cam = app.pipeline.cameras["aisle-1"]
        real_grab, grabs = cam.grab, {"n": 0}

        async def grab():  # type: ignore[no-untyped-def]
            grabs["n"] += 1
            if 8 <= grabs["n"] < 12:  # two seconds in, the cable comes out for a while
                raise SourceError("/dev/video0: device unplugged")
            return await real_grab()

        monkeypatch.setattr(cam, "grab", grab)
        await start_study(app, {"aisle-1": WHOLE})

        async def kept() -> bool:
            return len(clips(app)) >= 1

        await until(kept, 30)
    first = clips(app)[0]
    assert "the camera failed: /dev/video0: device unplugged" in first["redaction"]
    assert first["frames"] >= 5
