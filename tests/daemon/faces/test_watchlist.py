"""The watchlist: refused on every path while its gate is closed (and nothing face-like left
behind); run only by the two administrators who opened the gate, the registrar never
approving; matches in memory; templates bound to the site's key and renewed by re-keying."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from cryptography.exceptions import InvalidTag
from PIL import Image

from tests.daemon.capture.test_clips import PW
from tests.support.daemon import config_for
from veilcam.accounts import Accounts
from veilcam.clock import FakeClock
from veilcam.errors import FeatureClosed, PrivacyRefused
from veilcam.faces import keys
from veilcam.faces.keys import SiteKey
from veilcam.faces.service import Watchlist
from veilcam.privacy.service import Privacy
from veilcam.store import Store

pytest.importorskip("dlib", reason="the face features need the [faces] extra")


def jpeg(pixels: np.ndarray, size: int | None = None) -> bytes:
    im = Image.fromarray(pixels)
    if size:
        im = im.resize((size, size))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.fixture
async def site(data_dir: Path, face_models: Path) -> AsyncIterator[tuple[Watchlist, Privacy]]:
    clock = FakeClock()
    config = config_for(data_dir)
    async with Store(data_dir, config.retention, clock) as store:
        accounts = Accounts(store)
        for name, role in (("ada", "admin"), ("ben", "admin"), ("maria", "manager")):
            await accounts.add(name, role, PW, actor="test")
        privacy = Privacy(store, config, clock)
        await privacy.refresh()
        yield Watchlist(store, clock, privacy, face_models), privacy


async def open_gate(privacy: Privacy, feature: str = "watchlist") -> int:
    """``feature``'s gate proposed by ada and approved by ben; its id."""
    gate = await privacy.propose(
        privacy.act("ada"),
        feature=feature,
        legal_basis="legitimate interest after repeated thefts",
        purpose="recognise people banned after an incident, for staff to review",
        dpia_ref="DPIA-2026-11",
        signage="at the entrance, printed from /privacy",
    )
    await privacy.decide_gate(privacy.act("ben"), gate, True)
    return gate


def files_holding(folder: Path, needles: list[bytes]) -> list[Path]:
    """Files under ``folder`` holding any of ``needles``: a plain template, a photo's pixels."""
    return [
        f for f in folder.rglob("*") if f.is_file() and any(n in f.read_bytes() for n in needles)
    ]


def rows(data_dir: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(data_dir / "veilcam.db") as conn:
        return conn.execute(sql).fetchall()


async def test_every_path_refuses_while_the_gate_is_closed(
    site: tuple[Watchlist, Privacy], data_dir: Path, assets: Path
) -> None:
    w, privacy = site
    photo = (assets / "astronaut.png").read_bytes()
    act = privacy.act("ada")
    calls = [
        w.register(act, [photo], reference="INC-1", category="theft"),
        w.decide(act, 1, True),
        w.remove(act, 1, "done"),
        w.entries(act),
        w.rekey(act),
    ]
    for call in calls:
        with pytest.raises(FeatureClosed, match="watchlist is off: no approved decision"):
            await call
    with pytest.raises(FeatureClosed, match="no approved decision"):
        w.match(np.ones(128, np.float32), 0.9)
    assert w._features is None, "no face model is even loaded"
    assert rows(data_dir, "SELECT count(*) FROM watchlist") == [(0,)]
    assert not (data_dir / "keys" / keys.NAME).exists()
    assert not [p for p in (data_dir / "media").rglob("*") if p.is_file()]


async def test_two_administrators_run_it_and_matches_stay_in_memory(
    site: tuple[Watchlist, Privacy], data_dir: Path, assets: Path
) -> None:
    w, privacy = site
    await open_gate(privacy)
    astronaut = np.asarray(Image.open(assets / "astronaut.png").convert("RGB"))
    photos = [jpeg(astronaut), jpeg(astronaut, 300)]
    with pytest.raises(PrivacyRefused, match="maria may not operate the watchlist"):
        await w.register(privacy.act("maria"), photos, reference="INC-7", category="theft")
    with pytest.raises(PrivacyRefused, match="photo 2 is not a picture that can be read"):
        await w.register(
            privacy.act("ada"), [photos[0], b"\xff\xd8 not a jpeg"], reference="x", category="theft"
        )
    brick = np.asarray(Image.open(assets / "brick.png").convert("RGB"))
    with pytest.raises(PrivacyRefused, match="photo 1: no face found"):
        await w.register(privacy.act("ada"), [jpeg(brick)], reference="x", category="theft")
    with pytest.raises(PrivacyRefused, match="expires after 1 to 1095 days"):
        await w.register(privacy.act("ada"), photos, reference="x", category="theft", days=2000)

    entry = await w.register(privacy.act("ada"), photos, reference="INC-7", category="theft")
    with pytest.raises(PrivacyRefused, match="cannot approve it"):
        await w.decide(privacy.act("ada"), entry, True)
    assert w._ids.size == 0, "not matched before approval"
    await w.decide(privacy.act("ben"), entry, True)
    assert [(e["id"], e["state"]) for e in await w.entries(privacy.act("ben"))] == [
        (entry, "active")
    ]

    # A third administrator (after ben leaves) is not one of the gate's two.
    accounts = Accounts(w.store)
    await accounts.set_disabled("ben", True, actor="ada")
    await accounts.add("carl", "admin", PW, actor="ada")
    with pytest.raises(PrivacyRefused, match="carl may not operate the watchlist"):
        await w.register(privacy.act("carl"), photos, reference="INC-8", category="theft")
    with pytest.raises(PrivacyRefused, match="carl may not"):
        await w.entries(privacy.act("carl"))

    # Matching: the same face (small, grey) matches; another person does not.
    features, vision = w._features, w._vision
    small = np.asarray(Image.fromarray(astronaut).resize((220, 220)).convert("L").convert("RGB"))
    same = features.describe(small, vision.faces(small, min_face_px=12)[0]).template
    camera = np.asarray(Image.open(assets / "camera.png").convert("RGB"))
    other = features.describe(camera, vision.faces(camera)[0]).template
    threshold = features.embedder.threshold
    hit = w.match(same, threshold)
    assert hit is not None and hit.entry_id == entry and hit.score >= threshold
    assert w.match(other, threshold) is None

    # What is kept: a sealed, transformed template; no photo, crop or plain embedding.
    (blob,) = rows(data_dir, "SELECT template FROM watchlist")[0]
    assert isinstance(blob, bytes) and len(blob) == 12 + 128 * 4 + 16
    assert not files_holding(
        data_dir, [same.astype("<f4").tobytes()[:64], astronaut[200, 200:232].tobytes()]
    )
    audited = [r[0] for r in rows(data_dir, "SELECT action FROM audit_log ORDER BY id")]
    assert "watchlist.register.refused" in audited and "watchlist.decide.refused" in audited
    assert audited.count("watchlist.register") == 1 and "watchlist.approve" in audited


async def test_templates_are_bound_to_the_site_key_and_renewed(
    site: tuple[Watchlist, Privacy], data_dir: Path, assets: Path
) -> None:
    w, privacy = site
    await open_gate(privacy)
    astronaut = np.asarray(Image.open(assets / "astronaut.png").convert("RGB"))
    entry = await w.register(
        privacy.act("ada"), [jpeg(astronaut)], reference="INC-9", category="fraud"
    )
    await w.decide(privacy.act("ben"), entry, True)
    features, vision = w._features, w._vision
    template = features.describe(astronaut, vision.faces(astronaut)[0]).template
    threshold = features.embedder.threshold
    assert w.match(template, threshold) is not None

    # Another site's key: the same face, transformed there, does not match here.
    here = await w.key()
    there = SiteKey.from_secret(b"another site's secret, 32 bytes!", 128)
    assert float(here.transform(template) @ here.transform(template)) == pytest.approx(1, abs=1e-5)
    assert abs(float(here.transform(template) @ there.transform(template))) < 0.5
    (blob,) = rows(data_dir, "SELECT template FROM watchlist")[0]
    with pytest.raises(InvalidTag):
        there.unseal(entry, blob)

    # Re-keying: matches go on; the old key is gone and opens nothing.
    old_secret = (data_dir / "keys" / keys.NAME).read_bytes()
    assert await w.rekey(privacy.act("ada")) == 1
    assert (data_dir / "keys" / keys.NAME).read_bytes() != old_secret
    assert not (data_dir / "keys" / (keys.NAME + ".next")).exists()
    assert w.match(template, threshold) is not None
    (blob,) = rows(data_dir, "SELECT template FROM watchlist")[0]
    with pytest.raises(InvalidTag):
        here.unseal(entry, blob)


async def test_an_entry_is_recalled_before_it_expires_and_deleted_after(
    site: tuple[Watchlist, Privacy], data_dir: Path, assets: Path
) -> None:
    from veilcam.alerts.recorder import Recorder
    from veilcam.durations import DAY
    from veilcam.faces.service import REMINDERS
    from veilcam.health import Health

    w, privacy = site
    clock = w.clock
    assert isinstance(clock, FakeClock)
    w.reminders = Recorder(REMINDERS, w.store, Health(clock), retention="watchlist")
    await open_gate(privacy)
    astronaut = np.asarray(Image.open(assets / "astronaut.png").convert("RGB"))
    entry = await w.register(
        privacy.act("ada"), [jpeg(astronaut)], reference="INC-3", category="other", days=30
    )
    await w.decide(privacy.act("ben"), entry, True)
    await w.refresh()
    assert rows(data_dir, "SELECT count(*) FROM alarms") == [(0,)]
    clock.advance(20 * DAY)  # ten days left
    await w.refresh()
    ((subject, rule, level, message, closed),) = rows(
        data_dir, "SELECT subject, rule, level, message, closed_at FROM alarms"
    )
    assert (subject, rule, level, closed) == (f"entry {entry}", "expiring", "warning", None)
    assert "expires in 10 day(s)" in str(message) and "INC-3" not in str(message)
    await w.refresh()  # once, not every refresh
    assert rows(data_dir, "SELECT count(*) FROM alarms") == [(1,)]
    clock.advance(11 * DAY)
    await w.refresh()
    assert rows(data_dir, "SELECT state, reason, length(template) FROM watchlist") == [
        ("removed", "expired", 0)
    ]
    assert rows(data_dir, "SELECT closed_at IS NOT NULL FROM alarms") == [(1,)]
    assert w._ids.size == 0


async def test_kept_photos_only_when_chosen_sealed_and_gone_with_the_entry(
    site: tuple[Watchlist, Privacy], data_dir: Path, assets: Path
) -> None:
    w, privacy = site
    await open_gate(privacy)
    astronaut = np.asarray(Image.open(assets / "astronaut.png").convert("RGB"))
    photo = jpeg(astronaut)
    plain = await w.register(privacy.act("ada"), [photo], reference="INC-10", category="theft")
    kept = await w.register(
        privacy.act("ada"), [photo], reference="INC-11", category="theft", keep_photos=True
    )
    assert await w.photo(privacy.act("ben"), plain, 1) is None
    assert await w.photo(privacy.act("ben"), kept, 1) == photo
    with pytest.raises(PrivacyRefused, match="maria may not"):
        await w.photo(privacy.act("maria"), kept, 1)
    assert not files_holding(data_dir, [photo[200:264]]), "sealed at rest"
    await w.rekey(privacy.act("ben"))  # the photo moves to the new key with the template
    assert await w.photo(privacy.act("ada"), kept, 1) == photo
    await w.remove(privacy.act("ben"), kept, "the incident was resolved")
    assert rows(data_dir, "SELECT count(*) FROM watchlist_photos") == [(0,)]
    actions = [r[0] for r in rows(data_dir, "SELECT action FROM audit_log")]
    assert actions.count("watchlist.photo.view") == 2 and "watchlist.photo.refused" in actions


async def test_an_operator_model_makes_its_own_templates(
    site: tuple[Watchlist, Privacy], tmp_path: Path, assets: Path
) -> None:
    from tests.daemon.vision.test_embed import standin_onnx
    from veilcam.config import EmbedderConfig

    w, privacy = site
    model = tmp_path / "sface.onnx"
    digest = standin_onnx(model)
    w.embedder_cfg = EmbedderConfig(
        model_id="sface-standin", path=str(model), sha256=digest, size=112, threshold=0.9
    )
    await open_gate(privacy)
    astronaut = np.asarray(Image.open(assets / "astronaut.png").convert("RGB"))
    entry = await w.register(privacy.act("ada"), [jpeg(astronaut)], reference="I", category="other")
    await w.decide(privacy.act("ben"), entry, True)
    (row,) = await w.entries(privacy.act("ada"))
    assert row["model_id"] == "sface-standin" and w._features.embedder.dim == 64
    template = w._features.describe(astronaut, w._vision.faces(astronaut)[0]).template
    assert template.shape == (64,) and w.match(template, 0.9) is not None
