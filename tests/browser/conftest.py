"""Debian's Chromium, driven by Playwright, for every browser test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.browser.test_ui import ARGS, CHROMIUM


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    assert CHROMIUM, "Chromium is required here: apt-get install chromium"
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            await b.close()
