"""Helpers shared by the web tests (a plain module, not collected)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from ledger import Ledger
from ledger.store.queries import Query

AGENT = "18912345678"
TX = "123456"
MGMT = "654321"
CUSTOMER = "18900001111"
SECOND = "18912340000"
"""A second agent's number (opened by ``second_agent``)."""


CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
CONFIRM = re.compile(r'name="confirm" value="([0-9a-f]+)"')
OPERATOR_PASSWORD = "counter-pass-1"


@dataclass
class Page:
    """One answer: status, final URL, body text and headers."""

    status: int
    url: str
    text: str
    headers: dict[str, str] = field(default_factory=dict)


class Browser:
    """A test client that keeps cookies and sends the last page's CSRF token with each form."""

    def __init__(self, client: TestClient[Any, Any]) -> None:
        self.client = client
        self.last = ""

    async def _page(self, response: ClientResponse) -> Page:
        text = await response.text()
        if "text/html" in response.headers.get("Content-Type", ""):
            self.last = text
        return Page(response.status, str(response.url.path), text, dict(response.headers))

    async def get(self, path: str, **kw: Any) -> Page:
        async with self.client.get(path, **kw) as response:
            return await self._page(response)

    def csrf(self) -> str:
        found = CSRF.search(self.last)
        return found.group(1) if found else ""

    async def post(self, path: str, data: dict[str, str], *, csrf: bool = True,
                   **kw: Any) -> Page:
        form = {"csrf": self.csrf(), **data} if csrf else data
        async with self.client.post(path, data=form, **kw) as response:
            return await self._page(response)

    async def confirmed(self, path: str, data: dict[str, str]) -> Page:
        """POST a back-office action, then confirm it on the confirmation page it answers with
        (the page's token sent with the same fields); an answer without one is returned."""
        page = await self.post(path, data)
        found = CONFIRM.search(page.text)
        if found is None:
            return page
        return await self.post(path, {**data, "confirm": found.group(1)})

    async def login_agent(self, who: str, password: str) -> Page:
        await self.get("/web/login")
        return await self.post("/web/login", {"who": who, "password": password})

    async def login_operator(self, name: str, password: str = OPERATOR_PASSWORD) -> Page:
        await self.get("/web/ops/login")
        return await self.post("/web/ops/login", {"name": name, "password": password})


async def outbox(ledger: Ledger, kind: str | None = None) -> list[tuple[str, str, str]]:
    """Every queued SMS as (to, text, kind), oldest first; only ``kind`` when given."""
    rows = await ledger.read(Query("SELECT to_msisdn, text, kind FROM outbox ORDER BY id", (),
                                   lambda rows: [(str(a), str(b), str(c)) for a, b, c in rows]))
    return [r for r in rows if kind is None or r[2] == kind]


async def sql(ledger: Ledger, query: str, *params: Any) -> list[tuple[Any, ...]]:
    return await ledger.read(Query(query, params, lambda rows: rows))


async def last_code(ledger: Ledger, to: str) -> str:
    """The six digits of the latest one-time code sent to ``to``."""
    texts = [text for number, text, kind in await outbox(ledger) if number == to
             and kind.startswith("code_")]
    found = re.search(r"(?<![0-9])([0-9]{6})(?![0-9])", texts[-1])
    assert found is not None
    return found.group(1)


async def second_agent(ledger: Ledger) -> None:
    await ledger.open_agent(msisdn=SECOND, name="老李", tx_password="111111",
                            mgmt_password="222222")
    await ledger.deposit(key="seed-second", msisdn=SECOND, amount_fen=50_000, channel="counter")


async def web_recharge(browser: Browser, target: str = CUSTOMER, amount: str = "100",
                       kind: str = "mobile", password: str = TX, notice: str = "") -> Page:
    """Fill the recharge form, confirm it, and submit with ``password``: the final page."""
    await browser.get("/web/recharge")
    confirm = await browser.post("/web/recharge/confirm", {
        "kind": kind, "target": target, "again": target, "amount": amount, "notice": notice})
    assert confirm.status == 200, confirm.text
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">',
                             confirm.text.split('id="confirm-form"')[1].split("</form>")[0]))
    fields.pop("csrf", None)
    return await browser.post("/web/recharge", {**fields, "tx_password": password})
