"""The stock service in the running daemon: each stored (redacted) still of a calibrated
fridge is checked, rejected stills change no state, empty facings raise an alert that is
stored, shown and mailed through the outbox to a real SMTP server, and a restart carries on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageFilter

from tests.support.aio import until
from tests.support.mail import Smtp
from veilcam.alerts.records import list_job
from veilcam.clock import FakeClock
from veilcam.config import loads
from veilcam.demo import fridge
from veilcam.demo.fridge import Scene, render
from veilcam.runtime.context import App
from veilcam.runtime.supervisor import running
from veilcam.stock import admin, queries
from veilcam.stock.catalogue import Catalogue
from veilcam.store.references import References, empty_name


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    server = Smtp()
    server.start()
    yield server
    server.stop()


def setup(data_dir: Path, frames: list[np.ndarray], smtp: Smtp) -> Any:
    folder = data_dir.parent / "frames"
    folder.mkdir()
    for i, a in enumerate(frames):
        Image.fromarray(a).save(folder / f"{i:03d}.png")
    refs = References(data_dir)
    refs.save("fridge-1", fridge.stocked())
    refs.save(empty_name("fridge-1"), fridge.empty())
    return loads(
        f'site = "corner-shop"\ndata_dir = "{data_dir}"\n'
        '[storage]\nhealth_interval = "1s"\n'
        '[[cameras]]\nname = "fridge-1"\npurpose = "fridge"\n'
        f'source = {{ kind = "replay", path = "{folder}" }}\n'
        '[cameras.triggers]\ndoor_open_delay = "off"\ndoor_close_settle = "off"\n'
        '[stock]\nempty_warning_after = "1m"\nempty_alarm_after = "10m"\n'
        '[notify]\nlevel = "warning"\n'
        f'[notify.email]\nto = ["manager@shop.example"]\nhost = "127.0.0.1"\n'
        f'port = {smtp.port}\nsecurity = "none"\n'
    )


async def checks(app: App) -> list[dict[str, Any]]:
    return await app.store.db.read(queries.checks_job, "fridge-1", 0, 1e12)


async def capture(app: App, clock: FakeClock, n: int) -> dict[str, Any]:
    await app.pipeline.capture("fridge-1", "test")

    async def done() -> bool:
        return len(await checks(app)) >= n

    await until(done, 30)
    clock.advance(60)
    return (await checks(app))[-1]


async def test_stills_are_checked_and_an_empty_facing_alerts_by_mail(
    data_dir: Path, smtp: Smtp
) -> None:
    blurred = np.asarray(
        Image.fromarray(render(Scene(units={0: [1, 1, 1]}), seed=5)).filter(
            ImageFilter.GaussianBlur(6)
        )
    )
    frames = [
        render(Scene(), seed=3),
        render(Scene(units={0: [0, 0, 0]}), seed=4),
        blurred,
        render(Scene(units={0: [0, 0, 0]}, arm=True), seed=6),
        render(Scene(units={0: [0, 0, 0]}), seed=7),
    ]
    cfg = setup(data_dir, frames, smtp)
    clock = FakeClock()
    async with running(cfg, clock=clock) as app:
        await admin.import_catalogue(
            app.store, Catalogue(fridge.PRODUCTS, fridge.planogram()), "tech", fridges=["fridge-1"]
        )
        first = await capture(app, clock, 1)
        assert first["status"] == "ok" and first["compliance"] == 1.0
        second = await capture(app, clock, 2)
        assert second["status"] == "ok" and second["compliance"] < 1.0
        latest = await app.store.db.read(queries.latest_job, "fridge-1")
        assert latest is not None and latest["id"] == second["id"]
        third = await capture(app, clock, 3)
        assert third["status"] == "rejected" and "blurred" in third["reason"]
        again = await app.store.db.read(queries.latest_job, "fridge-1")
        assert again is not None and again["id"] == second["id"]  # nothing changed by it
        await capture(app, clock, 4)  # an arm in front: still empty, the time runs on
        await capture(app, clock, 5)

        async def alerted() -> bool:
            return bool(smtp.inbox.messages)

        await until(alerted, 30)
        alerts = [a for a in await app.store.db.read(list_job) if a["source"] == "stock"]
        assert [a["rule"] for a in alerts] == ["facing_empty"]
        assert "Whole milk 1 l (shelf 1, position 1)" in alerts[0]["message"]
        msg = smtp.inbox.messages[0]
        assert msg["Subject"] == "[veilcam corner-shop] WARNING: fridge-1 facing empty"
        assert "Fridge:    fridge-1" in msg.get_payload()
    # A restart carries on with the open alert: the replay starts again at the stocked
    # fridge, which closes it (a run that forgot it would leave it open for ever).
    async with running(cfg, clock=clock) as app:
        await capture(app, clock, 6)

        async def closed() -> bool:  # the close is written just after the check's row
            rows = [a for a in await app.store.db.read(list_job) if a["source"] == "stock"]
            return len(rows) == 1 and rows[0]["closed_at"] is not None

        await until(closed)
        alerts = [a for a in await app.store.db.read(list_job) if a["source"] == "stock"]
        assert alerts[0]["message"].startswith("every facing restocked")
