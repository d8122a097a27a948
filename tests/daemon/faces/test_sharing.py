"""Shared use within a group: one site exports its active entries under the group's key (a
disclosure, recorded), another imports them as proposals its other operator approves, and
the same face then matches there; another group's key, an altered file or a missing key
file are refused; the notice names the shared use."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.daemon.capture.test_clips import PW
from tests.daemon.faces.test_watchlist import jpeg, open_gate
from tests.support.daemon import config_for
from veilcam.accounts import Accounts
from veilcam.clock import FakeClock
from veilcam.config import SharingConfig
from veilcam.errors import ConfigError, PrivacyRefused
from veilcam.faces import sharing
from veilcam.faces.service import Watchlist
from veilcam.privacy import notice
from veilcam.privacy.service import Privacy
from veilcam.store import Store

pytest.importorskip("dlib", reason="the face features need the [faces] extra")


def group(tmp_path: Path, name: str = "group.key") -> SharingConfig:
    key = tmp_path / name
    if not key.exists():
        sharing.write_key(key)
    return SharingConfig(
        chain_key_file=str(key),
        group="Bakkerij Jansen's five shops",
        purpose="keep people banned after an incident out of every shop of the group",
        responsible="Bakkerij Jansen B.V., privacy@bakkerij-jansen.example",
    )


@pytest.fixture
async def two_sites(
    tmp_path: Path, face_models: Path
) -> AsyncIterator[tuple[tuple[Watchlist, Privacy], tuple[Watchlist, Privacy]]]:
    out = []
    stores = []
    for name in ("north", "south"):
        data = tmp_path / name
        data.mkdir()
        clock = FakeClock()
        config = config_for(data)
        store = Store(data, config.retention, clock)
        await store.__aenter__()
        stores.append(store)
        for user in ("ada", "ben"):
            await Accounts(store).add(user, "admin", PW, actor="test")
        privacy = Privacy(store, config, clock)
        await privacy.refresh()
        await open_gate(privacy)
        out.append((Watchlist(store, clock, privacy, face_models), privacy))
    try:
        yield out[0], out[1]
    finally:
        for s in stores:
            await s.__aexit__(None, None, None)


async def test_entries_travel_under_the_group_key_and_match_there(
    two_sites: tuple[tuple[Watchlist, Privacy], tuple[Watchlist, Privacy]],
    tmp_path: Path,
    assets: Path,
) -> None:
    (north, pn), (south, ps) = two_sites
    cfg = group(tmp_path)
    astronaut = np.asarray(Image.open(assets / "astronaut.png").convert("RGB"))
    entry = await north.register(
        pn.act("ada"), [jpeg(astronaut)], reference="INC-5", category="theft"
    )
    await north.decide(pn.act("ben"), entry, True)

    with pytest.raises(PrivacyRefused, match="shared use is off"):
        await north.export_shared(pn.act("ada"), None, "north")
    body = await north.export_shared(pn.act("ada"), cfg, "north")
    shared = json.loads(body)
    assert shared["group"] == cfg.group and len(shared["entries"]) == 1
    assert set(shared["entries"][0]) == {
        "uid",
        "reference",
        "category",
        "model_id",
        "expires_at",
        "template",
    }
    with sqlite3.connect(north.store.data_dir / "veilcam.db") as conn:
        (recipient, items, by) = conn.execute(
            "SELECT recipient, items, approved_by FROM disclosures"
        ).fetchone()
    assert cfg.group in recipient and json.loads(items) == [f"watchlist:{entry}"] and by == "ada"

    # South imports: proposed, matched only once its other operator approves.
    added, refused = await south.import_shared(ps.act("ben"), cfg, body)
    assert len(added) == 1 and refused == []
    assert south._ids.size == 0
    await south.decide(ps.act("ada"), added[0], True)
    features, vision = south._features, south._vision
    small = np.asarray(Image.fromarray(astronaut).resize((220, 220)))
    template = features.describe(small, vision.faces(small, min_face_px=12)[0]).template
    hit = south.match(template, features.embedder.threshold)
    assert hit is not None and hit.entry_id == added[0]
    (reference,) = [e["reference"] for e in await south.entries(ps.act("ada"))]
    assert reference == "shared north:1: INC-5"

    # Another group's key, an altered template, a key file others may read: refused.
    other = group(tmp_path, "other.key")
    with pytest.raises(PrivacyRefused, match="another group's key"):
        await south.import_shared(ps.act("ben"), other, body)
    spoiled = json.loads(body)
    t = spoiled["entries"][0]["template"]
    spoiled["entries"][0]["template"] = t[:20] + ("A" if t[20] != "A" else "B") + t[21:]
    added, refused = await south.import_shared(ps.act("ben"), cfg, json.dumps(spoiled).encode())
    assert added == [] and "InvalidTag" in refused[0]
    os.chmod(cfg.chain_key_file, 0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        await north.export_shared(pn.act("ada"), cfg, "north")


def test_the_notice_names_the_shared_use(tmp_path: Path) -> None:
    from veilcam.config import loads

    key = tmp_path / "group.key"
    sharing.write_key(key)
    config = loads(
        f'data_dir = "{tmp_path}"\n[watchlist.sharing]\nchain_key_file = "{key}"\n'
        'group = "the five shops"\npurpose = "keep banned people out"\nresponsible = "HQ"\n'
    )
    gate = {
        "legal_basis": "interest",
        "proposed_by": "ada",
        "decided_by": "ben",
        "decided_at": 0.0,
        "dpia_ref": "D",
    }
    text = str(notice.build(config, {"watchlist": gate}, "now", "en").sections)
    assert "Shared with: the five shops" in text and "Responsible for the shared use: HQ" in text
    assert "Shared with" not in str(notice.build(config, {}, "now", "en").sections)
    dutch = str(notice.build(config, {"watchlist": gate}, "now", "nl").sections)
    assert "Gedeeld met: the five shops" in dutch
