"""What the store's jobs publish: a fridge's facings and restock list from real stock
checks of replayed stills, today's visitor counts, the uploads' progress; each only when it
changed, and nothing about a person in any of it."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from PIL import Image

from tests.support.aio import until
from veilcam.clock import FakeClock
from veilcam.config import loads
from veilcam.demo import fridge
from veilcam.demo.fridge import Scene, render
from veilcam.faces.counting import add_job
from veilcam.fleet.shop import ShopFeed
from veilcam.research.uploads import Progress
from veilcam.runtime.supervisor import running
from veilcam.stock import admin, queries
from veilcam.stock.catalogue import Catalogue
from veilcam.store.references import References, empty_name


def _config(data_dir: Path) -> object:
    folder = data_dir.parent / "frames"
    folder.mkdir()
    for i, scene in enumerate([Scene(), Scene(units={0: [0, 0, 0]})]):
        Image.fromarray(render(scene, seed=3 + i)).save(folder / f"{i:03d}.png")
    refs = References(data_dir)
    refs.save("fridge-1", fridge.stocked())
    refs.save(empty_name("fridge-1"), fridge.empty())
    return loads(
        f'site = "corner-shop"\ndata_dir = "{data_dir}"\n'
        '[[cameras]]\nname = "fridge-1"\npurpose = "fridge"\n'
        f'source = {{ kind = "replay", path = "{folder}" }}\n'
        '[cameras.triggers]\ndoor_open_delay = "off"\ndoor_close_settle = "off"\n'
        '[[cameras]]\nname = "door"\npurpose = "floor"\n'
        f'source = {{ kind = "replay", path = "{folder}" }}\n'
        "stream = { fps = 0.2 }\n"
        "counting = { line = [[0.5, 1.0], [0.5, 0.3]] }\n"
        '[cameras.triggers]\ndoor_open_delay = "off"\ndoor_close_settle = "off"\n'
    )


async def test_stock_counts_and_uploads_when_they_change(data_dir: Path) -> None:
    cfg = _config(data_dir)
    clock = FakeClock()
    async with running(cfg, clock=clock) as app:  # type: ignore[arg-type]
        catalogue = Catalogue(fridge.PRODUCTS, fridge.planogram())
        await admin.import_catalogue(app.store, catalogue, "tech", fridges=["fridge-1"])
        uploader = SimpleNamespace(progress=Progress(sent=3, bytes=12_000))
        feed = ShopFeed(app.config, app.store, clock, uploader)  # type: ignore[arg-type]
        first = {m.topic: m for m in await feed.messages()}
        assert json.loads(first["stock/fridge-1/restock"].payload)["why"].startswith("no accepted")
        assert "stock/fridge-1/facings" not in first  # no still checked yet
        assert json.loads(first["research/uploads"].payload)["sent"] == 3
        for n in (1, 2):
            await app.pipeline.capture("fridge-1", "test")

            async def checked(n: int = n) -> bool:
                rows = await app.store.db.read(queries.checks_job, "fridge-1", 0, 1e12)
                return len(rows) >= n

            await until(checked, 30)
            clock.advance(60)
        expires = app.store.expires("stock_records", clock.now())
        await app.store.db.write(add_job, "door", clock.now(), {"entered": 5, "exited": 3}, expires)
        second = {m.topic: m for m in await feed.messages()}
        facings = json.loads(second["stock/fridge-1/facings"].payload)
        first_shelf = [f for f in facings["facings"] if f["shelf"] == 1 and f["position"] == 1]
        assert first_shelf[0]["state"] == "empty" and facings["compliance"] < 1.0
        restock = json.loads(second["stock/fridge-1/restock"].payload)
        assert restock["why"] is None and restock["items"][0]["action"]
        visitors = json.loads(second["visitors/door/today"].payload)
        assert (visitors["entered"], visitors["exited"]) == (5, 3)
        assert set(visitors) == {"at", "since", "entered", "exited", "staff"}  # counts only
        assert "research/uploads" not in second  # unchanged
        clock.advance(30)
        assert await feed.messages() == []  # nothing changed: nothing sent
        assert all(m.retain and m.kind == "telemetry" for m in second.values())
