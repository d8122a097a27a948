"""Feature gates: a research camera looks through nothing until one administrator proposes
the study with its basis, purpose, impact assessment and signage and the other approves;
the proposer cannot approve their own; closing stops it again; each step is audited and
shown on the public notice."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.daemon.web.test_privacy_requests import post
from tests.support.daemon import DEMO_ASSETS, config_for
from tests.support.web import PW, USERS, csrf_of, sign_in
from veilcam.accounts import Accounts
from veilcam.clock import FakeClock
from veilcam.config import WebConfig
from veilcam.errors import FeatureClosed, PrivacyRefused
from veilcam.runtime.context import App
from veilcam.runtime.supervisor import running
from veilcam.web.app import make_web_app

RESEARCH = (
    '[[cameras]]\nname = "aisle-1"\npurpose = "research"\n'
    'research_basis = "study consent, DPIA-2026-07"\n'
    f'source = {{ kind = "replay", path = "{DEMO_ASSETS / "floor"}" }}\n'
    '[privacy]\ncontroller = "Bakery Jansen Ltd, 12 Mill Lane"\n'
    'contact = "privacy@jansen.example"\n'
)
STUDY = {
    "feature": "research",
    "legal_basis": "consent of the study's participants, Art. 6(1)(a)",
    "purpose": "how shoppers move and reach at the bread shelf",
    "dpia_ref": "DPIA-2026-07",
    "signage": "A4 notices at both entrances and at the bread shelf",
    "signage_posted": "yes",
}
Client = Callable[..., Awaitable[TestClient]]


@pytest.fixture
async def site(data_dir: Path) -> AsyncIterator[tuple[App, Client]]:
    clients: list[TestClient] = []
    async with running(config_for(data_dir, RESEARCH), clock=FakeClock()) as app:
        acc = Accounts(app.store)
        for role, name in {**USERS, "admin2": "ben"}.items():
            await acc.add(name, role.rstrip("2"), PW, actor="test")

        async def client(username: str) -> TestClient:
            c = TestClient(TestServer(make_web_app(app, WebConfig(tls=False))))
            await c.start_server()
            clients.append(c)
            assert (await sign_in(c, username)).status == 302
            return c

        try:
            yield app, client
        finally:
            for c in clients:
                await c.close()


def audit(app: App) -> list[tuple[str, str, str]]:
    with sqlite3.connect(app.data_dir / "veilcam.db") as conn:
        return conn.execute(
            "SELECT actor, action, coalesce(object, '') FROM audit_log"
            " WHERE action LIKE 'gate.%' ORDER BY id"
        ).fetchall()


async def test_two_administrators_open_a_research_camera(site: tuple[App, Client]) -> None:
    app, client = site
    with pytest.raises(FeatureClosed, match="research is off: no approved decision"):
        await app.pipeline.capture("aisle-1", "manual")
    assert "no approved decision" in app.health.get("camera:aisle-1").message  # type: ignore[union-attr]
    ada, ben, maria = await client("ada"), await client("ben"), await client("maria")

    unsigned = {k: v for k, v in STUDY.items() if k != "signage_posted"}
    r = await post(ada, "/gates", "/gates", unsigned)
    assert r.status == 400 and "notice telling shoppers" in await r.text()
    r = await post(maria, "/gates", "/gates", STUDY)
    assert r.status == 403  # managers see gates, only administrators propose
    r = await post(ada, "/gates", "/gates", STUDY)
    assert r.status == 200 and "gate #1 proposed" in await r.text()
    page = await (await ada.get("/gates")).text()
    assert "Waiting for the other administrator" in page and "/gates/1/approve" not in page

    r = await post(ada, "/gates", "/gates/1/approve", {})
    assert r.status == 400 and "cannot approve it" in await r.text()
    with pytest.raises(FeatureClosed):
        await app.pipeline.capture("aisle-1", "manual")

    assert "/gates/1/approve" in await (await ben.get("/gates")).text()
    r = await post(ben, "/gates", "/gates/1/approve", {})
    assert r.status == 200 and "research approved" in await r.text()
    app.pipeline.allowed(app.pipeline.cameras["aisle-1"])  # may look now, for a study's clips
    with pytest.raises(PrivacyRefused, match="clips for a running study only, never stills"):
        await app.pipeline.capture("aisle-1", "manual")

    notice = await (await maria.get("/privacy")).text()
    assert "Research study: proposed by ada, approved by ben" in notice
    assert "DPIA-2026-07" in notice and "consent of the study" in notice

    r = await post(ada, "/gates", "/gates/1/close", {"reason": "the study has ended"})
    assert r.status == 200 and "research closed" in await r.text()
    with pytest.raises(FeatureClosed):
        await app.pipeline.capture("aisle-1", "manual")
    assert "no research recording" in await (await maria.get("/privacy")).text()

    assert audit(app) == [
        ("ada", "gate.propose", "gate:1"),
        ("ada", "gate.decide.refused", "gate:1"),
        ("ben", "gate.approve", "gate:1"),
        ("ada", "gate.close", "gate:1"),
    ]


async def test_the_database_refuses_a_self_approval_too(site: tuple[App, Client]) -> None:
    app, client = site
    ada = await client("ada")
    assert (await post(ada, "/gates", "/gates", STUDY)).status == 200
    with sqlite3.connect(app.data_dir / "veilcam.db") as conn, pytest.raises(sqlite3.Error):
        conn.execute(
            "UPDATE gates SET state = 'open', decided_by = 'ada', decided_at = 1 WHERE id = 1"
        )
    r = await post(ada, "/gates", "/gates", STUDY)
    assert r.status == 400 and "already has a proposal" in await r.text()


async def test_gates_over_the_api(site: tuple[App, Client]) -> None:
    app, client = site
    ada, ben, aud = await client("ada"), await client("ben"), await client("aud")

    async def api(c: TestClient, path: str, body: dict[str, object]) -> tuple[int, dict]:  # type: ignore[type-arg]
        csrf = csrf_of(await (await c.get("/gates")).text())
        r = await c.post(path, json=body, headers={"X-CSRF-Token": csrf})
        return r.status, await r.json()

    body = {**STUDY, "signage_posted": True}
    r = await ada.post("/api/privacy/gates", json=body, headers={"X-CSRF-Token": "forged"})
    assert r.status == 403
    status, out = await api(ada, "/api/privacy/gates", body)
    assert status == 201 and out["state"] == "proposed", out
    status, out = await api(ada, "/api/privacy/gates/1/approve", {})
    assert status == 400 and "cannot approve" in out["error"]
    status, out = await api(ben, "/api/privacy/gates/1/approve", {})
    assert status == 200 and out == {"id": 1, "feature": "research", "open": True}
    listed = await (await aud.get("/api/privacy/gates")).json()
    assert listed["gates"][0]["decided_by"] == "ben" and "research" in listed["features"]
    assert app.privacy is not None and "research" in app.privacy.open_gates


async def test_the_processing_record_names_every_activity_and_decision(
    site: tuple[App, Client], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    import pypdfium2

    from veilcam.cli import main

    app, client = site
    ada, ben = await client("ada"), await client("ben")
    assert (await post(ada, "/gates", "/gates", STUDY)).status == 200
    assert (await post(ben, "/gates", "/gates/1/approve", {})).status == 200
    config = tmp_path / "veilcam.toml"
    config.write_text(f'data_dir = "{app.data_dir}"\n' + RESEARCH)
    out = tmp_path / "record"
    args = ["privacy", "record", "--config", str(config), "-o", str(out)]
    assert await asyncio.to_thread(main, args) == 0
    md = (out / "processing-record-store.md").read_text()
    for part in (
        "Controller",
        "Purpose",
        "Data subjects",
        "Legal basis",
        "Recipients",
        "Transfers to third countries",
        "Time limit for erasure",
        "security measures",
    ):
        assert part in md, part
    assert "Bakery Jansen Ltd" in md and "privacy@jansen.example" in md
    assert (
        "research (feature gate #1)" in md
        and "research: open; proposed by ada, approved by ben" in md
    )
    assert "consent of the study's participants" in md
    pdf = pypdfium2.PdfDocument((out / "processing-record-store.pdf").read_bytes())
    assert "Record of processing activities" in pdf[0].get_textpage().get_text_range()
    assert await asyncio.to_thread(main, ["privacy", "gates", "--data-dir", str(app.data_dir)]) == 0
    assert "research" in capsys.readouterr().out


async def test_a_study_is_started_from_its_page_under_the_gate(site: tuple[App, Client]) -> None:
    app, client = site
    ada, ben, maria = await client("ada"), await client("ben"), await client("maria")
    study = {
        "name": "bread shelf",
        "purpose": "how shoppers reach",
        "legal_basis": "consent of the participants",
        "starts": "2026-01-01T08:00",
        "ends": "2026-01-20T20:00",
        "area_aisle-1": "0,0.3 1,0.3 1,1 0,1",
        "zones_aisle-1": "bread: 0.72,0.33 0.87,0.33 0.87,0.56 0.72,0.56",
    }
    r = await post(ada, "/studies", "/studies", study)
    assert r.status == 400 and "research is off" in await r.text()
    assert (await post(ada, "/gates", "/gates", STUDY)).status == 200
    assert (await post(ben, "/gates", "/gates/1/approve", {})).status == 200
    bad = {**study, "zones_aisle-1": "bread 0.7,0.3"}
    r = await post(ada, "/studies", "/studies", bad)
    assert r.status == 400 and "name: corners" in await r.text()
    assert (await post(maria, "/studies", "/studies", study)).status == 403
    r = await post(ada, "/studies", "/studies", study)
    page = await r.text()
    assert r.status == 200 and "study #1 saved" in page
    assert "bread: 0.72,0.33 0.87,0.33 0.87,0.56 0.72,0.56" in page
    assert "bread shelf" in await (await maria.get("/studies")).text()
    r = await post(ada, "/studies", "/studies/1/stop", {"reason": "ended early"})
    assert r.status == 200 and "stopped" in await r.text()
