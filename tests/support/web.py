"""Signing in as a browser does: the sign-in form's CSRF token, then the session cookie."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient

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
