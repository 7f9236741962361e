"""Load agents resynchronize after a duplicated key press or a lost reply; money by the ledger."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import pytest

from simulator.load import fund, reconcile, render
from simulator.load_agents import Agent, Tally
from simulator.load_report import figures
from simulator.load_rig import Line, Rig
from smsmenu.core.settings import Settings
from smsmenu.server.simulators import own_server

ROUNDS = 3
CHARGE_FEN = 9_800
"""100 yuan at the default 2% commission (R-16)."""


class Faulty:
    """The real line over HTTP, but MO number ``at`` is delivered twice (a duplicated key press)
    or, with ``lose``, its reply never comes. Replies queue as on a handset: the duplicate's
    reply is taken for the answer to whatever the agent sends next, until ``late`` drains it."""

    def __init__(self, line: Line, at: int, lose: bool = False) -> None:
        self.line, self.at, self.lose = line, at, lose
        self.sent = 0
        self.queued: list[str] = []

    async def step(self, msisdn: str, text: str) -> str:
        n, self.sent = self.sent, self.sent + 1
        reply = await self.line.step(msisdn, text)
        if n == self.at and self.lose:
            raise TimeoutError("the reply was lost")
        self.queued.append(reply)
        if n == self.at:
            self.queued.append(await self.line.step(msisdn, text))
        return self.queued.pop(0)

    async def late(self, msisdn: str, quiet: float) -> list[str]:
        texts, self.queued = self.queued, []
        return texts


@pytest.fixture
async def rig(settings: Settings) -> AsyncIterator[Rig]:
    """Our own server (HTTP) on the test's temp database."""
    settings = settings.replace("http", port=0).replace("billing", url="http://127.0.0.1:0")
    async with own_server(settings, "http") as rig:
        yield rig


@pytest.mark.parametrize("at, lose, errors, outcomes, unconfirmed", [
    pytest.param(0, False, {}, {"recharge_ok": 2}, 0, id="duplicated-first-key"),
    pytest.param(4, False, {}, {"recharge_ok": 2, "recharge_unconfirmed": 1}, 0,
                 id="duplicated-confirm-key-then-receipt-late"),
    pytest.param(5, False, {}, {"recharge_ok": 2}, 0, id="duplicated-password"),
    pytest.param(5, True, {"timeout": 1}, {"recharge_ok": 2, "recharge_unconfirmed": 1}, 1,
                 id="receipt-lost"),
])
async def test_an_agent_resyncs_and_the_money_is_the_ledgers(
        rig: Rig, at: int, lose: bool, errors: dict[str, int], outcomes: dict[str, int],
        unconfirmed: int) -> None:
    """One resync (not an error), the next dialogs clean; an unconfirmed recharge is neither ok
    nor failed, and the money check reconciles by the ledger's records."""
    [(msisdn, target)] = pairs = await fund(rig, 1, "1330000")
    line = Faulty(rig.line("http", 10.0), at, lose)
    tally = Tally()
    agent = Agent(msisdn, target, line.step, tally, late=line.late, balance_every=100)
    await agent.run(math.inf, rounds=ROUNDS)
    assert (tally.resyncs, dict(tally.errors), dict(tally.outcomes)) == (1, errors, outcomes)
    money = await reconcile(rig, pairs, tally)
    assert money["ok"], money
    assert money["unconfirmed"] == unconfirmed and money["unmatched_receipts"] == []
    assert money["debited_fen"] == money["ledger_fen"] == money["recharges_succeeded"] * CHARGE_FEN
    assert money["receipts_fen"] == money["receipts"] * CHARGE_FEN
    assert not any((await rig.ledger.verify()).values())


async def test_a_receipt_the_ledger_does_not_have_is_a_mismatch(rig: Rig) -> None:
    """A success receipt naming no succeeded recharge fails the money check, and says which."""
    [(msisdn, target)] = pairs = await fund(rig, 1, "1330000")
    tally = Tally()
    await Agent(msisdn, target, rig.line("http", 10.0).step, tally).run(math.inf, rounds=1)
    tally.receipts[msisdn].add("RC9999999999")
    money = await reconcile(rig, pairs, tally)
    assert not money["ok"] and money["unmatched_receipts"] == ["RC9999999999"]
    assert money["debited_fen"] == money["ledger_fen"] == CHARGE_FEN
    summary = render(figures(1, "http", 1.0, tally, money, {}))
    assert "MISMATCH" in summary and "NOT IN THE LEDGER: RC9999999999" in summary
