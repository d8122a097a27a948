"""A running appliance with one user of each role, and a browser-like client per role."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.support.daemon import config_for
from tests.support.web import CABINET, PW, USERS, sign_in
from veilcam.accounts import Accounts
from veilcam.clock import FakeClock
from veilcam.config import WebConfig
from veilcam.runtime.context import App
from veilcam.runtime.supervisor import running
from veilcam.web.app import make_web_app


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
            c = TestClient(TestServer(make_web_app(app, WebConfig(tls=False))))
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
