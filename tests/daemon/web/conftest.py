"""A running appliance with one user of each role, and a browser-like client per role."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.daemon.test_app import config_for
from veilcam.accounts import Accounts
from veilcam.app import App, running
from veilcam.clock import FakeClock
from veilcam.config import WebConfig
from veilcam.web.server import make_web_app

PW = "correct horse battery"
USERS = {"admin": "ada", "manager": "maria", "technician": "tom", "auditor": "aud"}
CABINET = '[[cabinets]]\nname = "dairy"\nprobe = "1"\ndoor = "1"\n'
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, "no CSRF field on the page"
    return m.group(1)


async def sign_in(client: TestClient, username: str, password: str = PW) -> Any:
    page = await client.get("/login")
    token = csrf_of(await page.text())
    return await client.post(
        "/login",
        data={"username": username, "password": password, "csrf": token, "next": "/"},
        allow_redirects=False,
    )


@pytest.fixture
async def ui(
    data_dir: Path,
) -> AsyncIterator[tuple[App, FakeClock, Callable[..., Awaitable[TestClient]]]]:
    clock = FakeClock()
    clients: list[TestClient] = []
    async with running(config_for(data_dir, CABINET), clock=clock) as app:
        acc = Accounts(app.store)
        for role, name in USERS.items():
            await acc.add(name, role, PW, actor="test")

        async def client(role: str | None = None) -> TestClient:
            c = TestClient(TestServer(make_web_app(app, WebConfig(tls=False), "")))
            await c.start_server()
            clients.append(c)
            if role:
                r = await sign_in(c, USERS[role])
                assert r.status == 302, await r.text()
            return c

        try:
            yield app, clock, client
        finally:
            for c in clients:
                await c.close()
