"""Operator management in a real browser (Debian's chromium via playwright), with a screenshot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aiohttp.test_utils import TestServer
from web_support import OPERATOR_PASSWORD

if TYPE_CHECKING:
    from playwright.async_api import Browser as Chromium

playwright = pytest.importorskip("playwright.async_api")
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
NEW_PASSWORD = "brand-new-pass-2"


@pytest.fixture
async def chromium() -> AsyncIterator[Chromium]:
    async with playwright.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        await browser.close()


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no browser at {CHROMIUM}")
async def test_supervisor_manages_operators(chromium: Chromium, server: TestServer,
                                            operators: dict[str, str]) -> None:
    """A supervisor creates an operator, deactivates the clerk, and sees both in the list;
    nothing trips the Content-Security-Policy."""
    context = await chromium.new_context(locale="zh-CN", viewport={"width": 1200, "height": 800})
    page = await context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text)
            if "Content Security Policy" in m.text else None)
    base = str(server.make_url("")).rstrip("/")
    await page.goto(f"{base}/web/ops/login")
    await page.fill("input[name=name]", "supervisor")
    await page.fill("input[name=password]", OPERATOR_PASSWORD)
    await page.click("#ops-login button")
    await page.wait_for_url("**/web/ops/")
    await page.click("nav >> text=操作员管理")
    await page.fill("#create-form input[name=name]", "li")
    await page.check("#create-form input[name=role][value=hotline]")
    await page.fill("#create-form input[name=password]", NEW_PASSWORD)
    await page.fill("#create-form input[name=again]", NEW_PASSWORD)
    await page.click("#create-form button")
    await page.wait_for_url("**/web/ops/operators/4?done=create")
    assert "操作员已创建" in await page.locator("main").inner_text()
    await page.click("nav >> text=操作员管理")
    await page.click("#operators >> text=clerk")
    await page.click("#active-form button")
    assert "停用操作员 clerk" in await page.locator("#ops-confirm-what").inner_text()
    await page.click("#ops-confirm-form button")
    assert await page.locator("#status").inner_text() == "已停用"
    await page.click("nav >> text=操作员管理")
    rows = await page.locator("#operators").inner_text()
    assert "li" in rows and "客服" in rows and "已停用" in rows
    await asyncio.to_thread(SHOTS.mkdir, parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "18-ops-operators.png"), full_page=True)
    assert violations == []
