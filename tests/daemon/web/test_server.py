from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from tests.daemon.test_app import DEMO_ASSETS, config_for
from veilcam.app import running
from veilcam.web.server import SECURITY_HEADERS, make_web_app

FLOOR = f"""
[[cameras]]
name = "floor-1"
purpose = "floor"
source = {{ kind = "replay", path = "{DEMO_ASSETS / "floor"}" }}
stream = {{ fps = 5, still_interval = "60s" }}
"""


async def test_status_page_json_and_headers(data_dir: Path) -> None:
    async with running(config_for(data_dir, FLOOR)) as app:
        await app.pipeline.capture("fridge-1", "manual")
        async with TestClient(TestServer(make_web_app(app))) as client:
            page = await client.get("/")
            assert page.status == 200
            html = await page.text()
            assert "pictures stored" in html and "<script" not in html
            for name, value in SECURITY_HEADERS.items():
                assert page.headers[name] == value
            api = await client.get("/api/status")
            data = await api.json()
            assert data["captures"] >= 1 and data["media_files"] == data["captures"]
            assert data["live"]["streams"]["floor-1"]["grabbed"] >= 0
            live = data["live"]
            assert live["cameras"]["fridge-1"] == {"grabs": 1, "failures": 0}
            assert live["captures_this_run"] >= 1 and live["blanked_this_run"] == 0
            assert data["health"]["models"]["state"] == "ok"
            assert live["picture_store_failures"] == 0
            assert data["live"]["kernels"] == "native"
            assert (await (await client.get("/healthz")).json())["overall"] in ("ok", "warning")
            css = await client.get("/static/style.css")
            assert css.status == 200


async def test_hostile_requests_are_refused(data_dir: Path) -> None:
    async with running(config_for(data_dir)) as app:
        async with TestClient(TestServer(make_web_app(app))) as client:
            for path in (
                "/static/../../../etc/passwd",
                "/static/%2e%2e/%2e%2e/veilcam.db",
                "/media/x",
            ):
                resp = await client.get(path)
                assert resp.status in (403, 404), path
                assert "root:" not in await resp.text()
            resp = await client.post("/", data=b"x" * 200_000)
            assert resp.status in (405, 413)
            resp = await client.get(
                "/", headers={"Host": "evil.example", "X-Forwarded-For": "1.2.3.4"}
            )
            assert resp.status == 200
