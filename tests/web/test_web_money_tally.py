"""Metrics and logs of the portal's money actions: web recharges count in
``smsmenu_recharges_total`` with ``channel="web"`` like the menu's, deposits (counter and
online) and reversals have counters, and each writes one structured log line (a refusal's with
its rule)."""

from __future__ import annotations

import re
from typing import Any

import structlog
from web_support import AGENT, MGMT, Browser, web_recharge

from ledger import Ledger
from simulator.billing import BillingSimulator
from smsmenu.web.state import Web


def _value(web_state: Web, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", web_state.metrics.render().decode(),
                      re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def _lines(logs: list[dict[str, Any]], event: str) -> list[dict[str, Any]]:
    return [line for line in logs if line["event"] == event]


async def test_web_recharges_count_with_their_channel(browser: Browser, web_state: Web,
                                                      agent: dict[str, object]) -> None:
    """A web recharge counts as channel web; a refused one (R-2) is logged with its rule and
    counts nothing, as the menu's refusals."""
    await browser.login_agent(AGENT, MGMT)
    with structlog.testing.capture_logs() as logs:
        await web_recharge(browser)
        await web_recharge(browser, password="000000")
    assert _value(web_state, 'smsmenu_recharges_total{channel="web",kind="mobile",'
                             'outcome="succeeded"}') == 1
    done, refused = _lines(logs, "web.recharge")
    assert (done["status"], done["amount_fen"], done["kind"]) == ("succeeded", 10_000, "mobile")
    assert (refused["status"], refused["code"], refused["rule"]) == (
        "refused", "E_WRONG_PASSWORD", "R-2")


async def test_deposits_count_once_and_refusals_name_their_rule(
        browser: Browser, web_state: Web, agent: dict[str, object],
        operators: dict[str, str]) -> None:
    """A counter deposit and its refresh count once; one under 500 yuan is refused (R-8)."""
    await browser.login_operator("clerk")
    page = await browser.get("/web/ops/agents/1")
    key = re.findall(r'name="key" value="(\w+)"', page.text)[0]
    with structlog.testing.capture_logs() as logs:
        await browser.confirmed("/web/ops/agents/1/deposit", {"amount": "400", "key": key})
        for _ in range(2):
            await browser.confirmed("/web/ops/agents/1/deposit", {"amount": "800", "key": key})
    assert _value(web_state, 'smsmenu_deposits_total{channel="counter",'
                             'outcome="succeeded"}') == 1
    assert _value(web_state, 'smsmenu_deposits_total{channel="counter",outcome="refused"}') == 1
    assert _value(web_state, 'smsmenu_deposited_fen_total{channel="counter"}') == 80_000
    refused, done = _lines(logs, "web.deposit")
    assert (refused["status"], refused["rule"]) == ("refused", "R-8")
    assert (done["status"], done["amount_fen"], done["operator"]) == ("succeeded", 80_000,
                                                                      "clerk")


async def test_online_deposit_counts(browser: Browser, web_state: Web,
                                     agent: dict[str, object]) -> None:
    """A top-up paid at the bank (R-9) counts as an online deposit, once for all its notices."""
    await browser.login_agent(AGENT, MGMT)
    await browser.get("/web/topup")
    page = await browser.post("/web/topup", {"amount": "100"})
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text))
    fields = {k: v.replace("&amp;", "&") for k, v in fields.items()}
    with structlog.testing.capture_logs() as logs:
        await browser.post("/bank/pay", {**fields, "decision": "pay"}, csrf=False)
        async with browser.client.post(f"/bank/notify-again/{fields['order']}"):
            pass
    assert _value(web_state, 'smsmenu_deposits_total{channel="online",outcome="succeeded"}') == 1
    assert [line["channel"] for line in _lines(logs, "web.deposit")] == ["online"]


async def test_reversals_count_by_outcome(browser: Browser, web_state: Web, ledger: Ledger,
                                          billing: BillingSimulator, agent: dict[str, object],
                                          operators: dict[str, str]) -> None:
    """A reversal done counts as succeeded; one refused by a check (R-24, a prepaid top-up)
    counts as refused, its log line naming the rule."""
    billing.open_account("mobile", "18900007777", "postpaid", bills={"2026-11": 10_000})
    await browser.login_agent(AGENT, MGMT)
    await web_recharge(browser, target="18900007777")
    await web_recharge(browser)
    await browser.login_operator("supervisor")
    with structlog.testing.capture_logs() as logs:
        for recharge in (2, 1):
            await browser.get(f"/web/ops/recharges/{recharge}/reversal")
            await browser.confirmed(f"/web/ops/recharges/{recharge}/reversal", {"key": "k"})
    assert _value(web_state, 'smsmenu_reversals_total{outcome="refused"}') == 1
    assert _value(web_state, 'smsmenu_reversals_total{outcome="succeeded"}') == 1
    refused, done = _lines(logs, "web.reversal")
    assert (refused["status"], refused["rule"], refused["operator"]) == ("refused", "R-24",
                                                                         "supervisor")
    assert (done["status"], done["amount_fen"]) == ("succeeded", 10_000)
