"""Agent life cycle on the ledger: open (R-1..R-4), deposit (R-8, R-9, R-12), close (R-6), rebind (R-7)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from ledger_support import AGENT, MGMT, TX, Sql

from ledger import Ledger, recharge
from ledger.api import RechargeRequest
from smsmenu.core.errors import (
    AgentClosed,
    CloseRefused,
    DuplicateAgent,
    IdempotencyConflict,
    InvalidAmount,
    InvalidCommand,
    InvalidNumber,
    InvalidPassword,
    InvalidRate,
    StaleState,
    UnknownAgent,
    WrongPassword,
)
from smsmenu.core.types import TargetKind

pytestmark = pytest.mark.both_engines

OTHER = "18987654321"


async def open_other(ledger: Ledger, msisdn: str = OTHER, **kw: Any) -> dict[str, Any]:
    return await ledger.open_agent(msisdn=msisdn, name="老李", tx_password="246810",
                                   mgmt_password="135790", **kw)


# -- open (R-1..R-4) ------------------------------------------------------------------------------
async def test_open_agent_returns_an_active_account(ledger: Ledger) -> None:
    """R-1: opening creates one active agent with an empty recharge account."""
    opened = await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
    assert opened.msisdn == AGENT
    assert opened.status == "active"
    assert opened.balance_fen == 0
    assert opened.phone_suspended is False
    assert (await ledger.agent(AGENT)).agent_id == opened.agent_id


async def test_account_number_is_a_level_three_login(ledger: Ledger) -> None:
    """R-4: the agent account number (the web login) is "A" and 8 digits of the agent id."""
    first = await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
    second = await open_other(ledger)
    assert re.fullmatch(r"A[0-9]{8}", first.account_no)
    assert first.account_no == f"A{first.agent_id:08d}"
    assert second.account_no != first.account_no


async def test_number_is_unique_among_open_agents(ledger: Ledger) -> None:
    """R-1: one agent per CDMA number; a second opening on the same number is refused."""
    await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
    with pytest.raises(DuplicateAgent) as refused:
        await open_other(ledger, AGENT)
    assert refused.value.rule == "R-1"


async def test_number_is_unique_after_normalisation(ledger: Ledger) -> None:
    """R-1: the same number written with +86 and spaces is still the same number."""
    await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
    with pytest.raises(DuplicateAgent):
        await open_other(ledger, "+86 189 1234 5678")


async def test_closed_agents_number_may_be_reopened(ledger: Ledger) -> None:
    """R-1: after closing (R-6) the number is free again and gets a new account."""
    first = await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
    await ledger.close_agent(key="close-1", msisdn=AGENT)
    again = await open_other(ledger, AGENT)
    assert again.agent_id != first.agent_id
    assert again.account_no != first.account_no
    assert (await ledger.agent(AGENT)).agent_id == again.agent_id
    assert (await ledger.agent(AGENT)).status == "active"


@pytest.mark.parametrize("msisdn", [
    pytest.param("13812345678", id="china-mobile-prefix"),
    pytest.param("1891234567", id="ten-digits"),
    pytest.param("189123456789", id="twelve-digits"),
    pytest.param("02787654321", id="landline"),
    pytest.param("1891234567x", id="letter"),
    pytest.param("", id="empty"),
])
async def test_open_refuses_a_number_that_is_not_cdma(ledger: Ledger, sql: Sql, msisdn: str) -> None:
    """R-1: an agent is bound to a China Telecom CDMA mobile number, nothing else."""
    with pytest.raises(InvalidNumber) as refused:
        await ledger.open_agent(msisdn=msisdn, name="小王", tx_password=TX, mgmt_password=MGMT)
    assert refused.value.rule == "R-14"
    assert await sql("SELECT id FROM agents") == []


@pytest.mark.parametrize("password", [
    pytest.param("12345", id="5-digits"),
    pytest.param("1234567", id="7-digits"),
    pytest.param("12345a", id="letter"),
    pytest.param("abcdef", id="letters"),
    pytest.param("１２３４５６", id="full-width-digits"),
    pytest.param("123 456", id="space"),
    pytest.param("123456\n", id="trailing-newline"),
    pytest.param("", id="empty"),
])
@pytest.mark.parametrize("which", [pytest.param("tx", id="tx"), pytest.param("mgmt", id="mgmt")])
async def test_open_refuses_a_password_that_is_not_six_digits(ledger: Ledger, sql: Sql,
                                                               password: str, which: str) -> None:
    """R-2: each password is exactly 6 ASCII digits; any other character is invalid."""
    passwords = {"tx_password": TX, "mgmt_password": MGMT, f"{which}_password": password}
    with pytest.raises(InvalidPassword) as refused:
        await ledger.open_agent(msisdn=AGENT, name="小王", **passwords)
    assert refused.value.rule == "R-2"
    assert await sql("SELECT id FROM agents") == []
    assert await sql("SELECT id FROM outbox") == []


async def test_open_refuses_an_empty_name(ledger: Ledger) -> None:
    """R-1: opening needs an identity; an empty name is refused."""
    with pytest.raises(InvalidCommand):
        await ledger.open_agent(msisdn=AGENT, name="  ", tx_password=TX, mgmt_password=MGMT)


async def test_opening_notice_is_queued_without_passwords(ledger: Ledger, sql: Sql) -> None:
    """R-3: the opening SMS goes to the bound number through the outbox and repeats no password."""
    opened = await ledger.open_agent(msisdn=AGENT, name="小王", tx_password="918273",
                                     mgmt_password="564738")
    [notice] = opened.notices
    assert notice.to == AGENT and notice.kind == "opened"
    assert opened.account_no in notice.text
    rows = await sql("SELECT to_msisdn, text, kind, status FROM outbox")
    assert rows == [(AGENT, notice.text, "opened", "queued")]
    for secret in ("918273", "564738"):
        assert secret not in notice.text


# -- deposits (R-8, R-9, R-12) --------------------------------------------------------------------
@pytest.mark.parametrize("fen, ok", [
    pytest.param(49_900, False, id="499-yuan"),
    pytest.param(50_000, True, id="500-yuan"),
    pytest.param(50_500, False, id="505-yuan"),
    pytest.param(51_000, True, id="510-yuan"),
    pytest.param(50_001, False, id="500.01-yuan"),
    pytest.param(10_000_000, True, id="100000-yuan-no-maximum"),
    pytest.param(0, False, id="zero"),
])
async def test_counter_deposit_is_at_least_500_and_a_multiple_of_10(
        ledger: Ledger, sql: Sql, fen: int, ok: bool) -> None:
    """R-8: a counter deposit is at least 500 yuan, a multiple of 10, with no maximum."""
    await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
    if ok:
        done = await ledger.deposit(key="d1", msisdn=AGENT, amount_fen=fen, channel="counter")
        assert done.balance_fen == fen
    else:
        with pytest.raises(InvalidAmount) as refused:
            await ledger.deposit(key="d1", msisdn=AGENT, amount_fen=fen, channel="counter")
        assert refused.value.rule == "R-8"
        assert await sql("SELECT id FROM deposits") == []
    assert (await ledger.agent(AGENT)).balance_fen == (fen if ok else 0)


@pytest.mark.parametrize("fen, quota", [
    pytest.param(50_000, 5_000, id="500-yuan"),
    pytest.param(51_000, 5_100, id="510-yuan"),
    pytest.param(123_450_000, 12_345_000, id="1234500-yuan"),
])
async def test_counter_deposit_issues_quota_invoices_of_ten_percent(
        ledger: Ledger, sql: Sql, fen: int, quota: int) -> None:
    """R-12: the hall issues quota invoices worth 10% of a counter deposit."""
    await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
    done = await ledger.deposit(key="d1", msisdn=AGENT, amount_fen=fen, channel="counter")
    assert done.invoice_quota_fen == quota
    assert await sql("SELECT channel, amount, invoice_quota FROM deposits") == [
        ("counter", fen, quota)]


@pytest.mark.parametrize("fen, ok", [
    pytest.param(1_000, True, id="10-yuan"),
    pytest.param(2_000, True, id="20-yuan"),
    pytest.param(49_000, True, id="490-yuan-below-counter-minimum"),
    pytest.param(500, False, id="5-yuan"),
    pytest.param(1_500, False, id="15-yuan"),
    pytest.param(0, False, id="zero"),
])
async def test_online_deposit_has_no_minimum_but_is_a_multiple_of_10(
        ledger: Ledger, fen: int, ok: bool) -> None:
    """R-9: an online top-up has no 500 yuan minimum and no fee, still a multiple of 10 yuan."""
    await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
    if ok:
        done = await ledger.deposit(key="d1", msisdn=AGENT, amount_fen=fen, channel="online")
        assert done.balance_fen == fen  # no fee
        assert done.invoice_quota_fen == 0  # quota invoices are a counter thing
    else:
        with pytest.raises(InvalidAmount) as refused:
            await ledger.deposit(key="d1", msisdn=AGENT, amount_fen=fen, channel="online")
        assert refused.value.rule == "R-9"


@pytest.mark.parametrize("channel, source", [
    pytest.param("counter", "operator:cash", id="counter-from-cash"),
    pytest.param("online", "operator:bank", id="online-from-bank"),
])
async def test_deposit_is_a_balanced_transfer(ledger: Ledger, sql: Sql, channel: str,
                                              source: str) -> None:
    """R-8/R-9: a deposit moves money from the operator's cash or bank into the agent account."""
    opened = await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
    await ledger.deposit(key="d1", msisdn=AGENT, amount_fen=60_000, channel=channel)
    rows = await sql("SELECT code, balance FROM accounts WHERE balance != 0 ORDER BY code")
    assert rows == sorted([(f"agent:{opened.agent_id}", 60_000), (source, -60_000)])


async def test_deposit_notice_is_queued(agent: dict[str, Any], sql: Sql) -> None:
    """R-8: the agent is told of its deposit by SMS through the outbox."""
    rows = await sql("SELECT to_msisdn, kind, text FROM outbox WHERE kind = 'deposit'")
    [(to, _, text)] = rows
    assert to == AGENT and "500.00" in text


async def test_deposit_refused_for_a_closed_agent(ledger: Ledger) -> None:
    """R-6: a closed agent's recharge account takes no deposit."""
    await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
    await ledger.close_agent(key="c1", msisdn=AGENT)
    for channel in ("counter", "online"):
        with pytest.raises(AgentClosed):
            await ledger.deposit(key=f"d-{channel}", msisdn=AGENT, amount_fen=50_000,
                                 channel=channel)


async def test_deposit_refused_for_an_unknown_number(ledger: Ledger) -> None:
    """R-1: only an agent has a recharge account to deposit into."""
    with pytest.raises(UnknownAgent):
        await ledger.deposit(key="d1", msisdn=AGENT, amount_fen=50_000, channel="counter")


async def test_deposit_refuses_an_unknown_channel(ledger: Ledger) -> None:
    """R-8/R-9: a deposit is made at a counter or online, nowhere else."""
    await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
    with pytest.raises(InvalidAmount):
        await ledger.deposit(key="d1", msisdn=AGENT, amount_fen=50_000, channel="card")


async def test_deposit_key_same_fields_returns_the_first_result(agent: dict[str, Any],
                                                                ledger: Ledger, sql: Sql) -> None:
    """R-8: a repeated deposit key with the same fields returns the first result, one transfer."""
    first = await ledger.deposit(key="d-x", msisdn=AGENT, amount_fen=60_000, channel="counter")
    again = await ledger.deposit(key="d-x", msisdn=AGENT, amount_fen=60_000, channel="counter")
    assert again == first
    assert await sql("SELECT COUNT(*) FROM transfers WHERE reference = 'd-x'") == [(1,)]
    assert (await ledger.agent(AGENT)).balance_fen == 50_000 + 60_000


@pytest.mark.parametrize("change", [
    pytest.param({"amount_fen": 70_000}, id="amount"),
    pytest.param({"channel": "online"}, id="channel"),
    pytest.param({"msisdn": OTHER}, id="agent"),
])
async def test_deposit_key_different_fields_is_a_conflict(agent: dict[str, Any], ledger: Ledger,
                                                          change: dict[str, Any]) -> None:
    """R-8: a deposit key reused for a different deposit is refused, nothing moves."""
    await open_other(ledger)
    fields = {"msisdn": AGENT, "amount_fen": 60_000, "channel": "counter"}
    await ledger.deposit(key="d-x", **fields)
    with pytest.raises(IdempotencyConflict):
        await ledger.deposit(key="d-x", **{**fields, **change})
    assert (await ledger.agent(AGENT)).balance_fen == 50_000 + 60_000
    assert (await ledger.agent(OTHER)).balance_fen == 0


async def test_concurrent_deposits_with_one_key_move_money_once(agent: dict[str, Any],
                                                                ledger: Ledger) -> None:
    """R-8: the same deposit key sent many times at once still deposits once."""
    results = await asyncio.gather(*[
        ledger.deposit(key="d-burst", msisdn=AGENT, amount_fen=60_000, channel="counter")
        for _ in range(20)])
    assert len({r.transfer_id for r in results}) == 1
    assert (await ledger.agent(AGENT)).balance_fen == 50_000 + 60_000


# -- commission rate setting (R-16) ---------------------------------------------------------------
@pytest.mark.parametrize("rate_ppm", [
    pytest.param(200_000, id="at-max-rate"),
    pytest.param(1_000_000, id="hundred-percent"),
    pytest.param(-1, id="negative"),
])
async def test_rate_outside_the_allowed_range_is_refused(agent: dict[str, Any], ledger: Ledger,
                                                         rate_ppm: int) -> None:
    """R-16: a per-agent commission rate is within [0, max_rate) like the default."""
    with pytest.raises(InvalidRate) as refused:
        await ledger.set_flag(msisdn=AGENT, rate_ppm=rate_ppm)
    assert refused.value.rule == "R-16"
    assert (await ledger.agent(AGENT)).rate_ppm == 20_000


async def test_open_with_an_out_of_range_rate_is_refused(ledger: Ledger) -> None:
    """R-16: opening with a commission rate of 100% or more is refused."""
    with pytest.raises(InvalidRate):
        await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT,
                                rate_ppm=1_000_000)


async def test_agent_rate_defaults_then_follows_the_setting(agent: dict[str, Any],
                                                            ledger: Ledger) -> None:
    """R-16: the rate is per agent, with the settings' default (2%) when none is set."""
    assert agent.rate_ppm == 20_000
    assert (await ledger.set_flag(msisdn=AGENT, rate_ppm=15_000)).rate_ppm == 15_000
    assert (await open_other(ledger, rate_ppm=0)).rate_ppm == 0


# -- close (R-6) ----------------------------------------------------------------------------------
async def spend_to(ledger: Ledger, rate_ppm: int) -> None:
    """Recharge 500 yuan at ``rate_ppm`` so that 500 yuan x rate stays on the account."""
    await ledger.set_flag(msisdn=AGENT, rate_ppm=rate_ppm)
    await ledger.recharge(RechargeRequest(
            key="spend", msisdn=AGENT, kind=TargetKind.MOBILE, target="18900001111",
            amount_fen=50_000, tx_password=TX))


async def test_close_refunds_a_balance_under_10_yuan(agent: dict[str, Any], ledger: Ledger,
                                                     sql: Sql) -> None:
    """R-6: closing with 9.99 yuan refunds it in full to operator:refunds and closes the agent."""
    await spend_to(ledger, 19_980)  # commission 9.99 yuan is what stays
    assert (await ledger.agent(AGENT)).balance_fen == 999
    closed = await ledger.close_agent(key="c1", msisdn=AGENT)
    assert closed.refund_fen == 999
    assert closed.transfer_id is not None
    view = await ledger.agent(AGENT)
    assert (view.status, view.balance_fen) == ("closed", 0)
    assert await sql("SELECT balance FROM accounts WHERE code = 'operator:refunds'") == [(999,)]
    assert await sql("SELECT op, state FROM transfers WHERE id = ?", closed.transfer_id) == [
        ("refund", "posted")]


async def test_close_refuses_a_balance_of_10_yuan(agent: dict[str, Any], ledger: Ledger) -> None:
    """R-6: 10 yuan or more is not refunded; closing is refused with the reason."""
    await spend_to(ledger, 20_000)
    assert (await ledger.agent(AGENT)).balance_fen == 1_000
    with pytest.raises(CloseRefused) as refused:
        await ledger.close_agent(key="c1", msisdn=AGENT)
    assert refused.value.rule == "R-6"
    assert "10.00" in str(refused.value)
    assert (await ledger.agent(AGENT)).status == "active"


async def test_close_refuses_the_whole_deposit(agent: dict[str, Any], ledger: Ledger) -> None:
    """R-6: an agent with its 500 yuan deposit cannot close (the balance is far above 10)."""
    with pytest.raises(CloseRefused):
        await ledger.close_agent(key="c1", msisdn=AGENT)


async def test_close_with_nothing_left_moves_no_money(ledger: Ledger, sql: Sql) -> None:
    """R-6: closing an empty account refunds 0 and records no transfer."""
    await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
    closed = await ledger.close_agent(key="c1", msisdn=AGENT)
    assert (closed.refund_fen, closed.transfer_id) == (0, None)
    assert await sql("SELECT COUNT(*) FROM transfers") == [(0,)]


async def test_close_queues_a_notice(ledger: Ledger) -> None:
    """R-6: the agent is told by SMS that the account is closed and what was refunded."""
    await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
    closed = await ledger.close_agent(key="c1", msisdn=AGENT)
    [notice] = closed.notices
    assert (notice.to, notice.kind) == (AGENT, "closed")
    assert "0.00" in notice.text


async def test_close_is_idempotent_by_key(ledger: Ledger) -> None:
    """R-6: repeating the close request with its key returns the first result."""
    await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
    first = await ledger.close_agent(key="c1", msisdn=AGENT)
    assert await ledger.close_agent(key="c1", msisdn=AGENT) == first
    with pytest.raises(AgentClosed):
        await ledger.close_agent(key="c2", msisdn=AGENT)


async def test_closed_agent_cannot_recharge_or_change_anything(ledger: Ledger) -> None:
    """R-6: after closing, recharge, deposit, flags and password checks are refused."""
    await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
    await ledger.close_agent(key="c1", msisdn=AGENT)
    with pytest.raises(AgentClosed):
        await ledger.recharge(RechargeRequest(
                key="r1", msisdn=AGENT, kind=TargetKind.MOBILE, target="18900001111",
                amount_fen=1_000, tx_password=TX))
    with pytest.raises(AgentClosed):
        await ledger.set_flag(msisdn=AGENT, suspended=True)
    with pytest.raises(AgentClosed):
        await ledger.check_password(AGENT, "tx", TX)
    with pytest.raises(AgentClosed):
        await ledger.change_msisdn(msisdn=AGENT, new_msisdn=OTHER, mgmt_password=MGMT)


async def test_close_refuses_while_a_recharge_is_reserved(agent: dict[str, Any],
                                                          ledger: Ledger) -> None:
    """R-6: money held by an unfinished recharge is not refunded; closing waits for it."""
    await spend_to(ledger, 19_980)
    await ledger.deposit(key="top", msisdn=AGENT, amount_fen=1_000, channel="online")
    await ledger.op(recharge.begin, request=RechargeRequest(
            key="held", msisdn=AGENT, kind=TargetKind.MOBILE, target="18900001111",
            amount_fen=1_000, tx_password=TX))
    with pytest.raises(StaleState, match="in progress"):
        await ledger.close_agent(key="c1", msisdn=AGENT)
    await ledger.recover()
    assert (await ledger.agent(AGENT)).reserved_fen == 0


# -- change bound number (R-7) --------------------------------------------------------------------
async def test_change_bound_number_with_the_management_password(agent: dict[str, Any],
                                                                ledger: Ledger) -> None:
    """R-7: the agent moves to another CDMA number; the notice goes to the new number."""
    changed = await ledger.change_msisdn(msisdn=AGENT, new_msisdn=OTHER, mgmt_password=MGMT)
    assert (changed.old_msisdn, changed.msisdn) == (AGENT, OTHER)
    [notice] = changed.notices
    assert (notice.to, notice.kind) == (OTHER, "msisdn_changed")
    moved = await ledger.agent(OTHER)
    assert moved.agent_id == agent.agent_id
    assert moved.balance_fen == agent.balance_fen
    with pytest.raises(UnknownAgent):
        await ledger.agent(AGENT)


@pytest.mark.parametrize("password", [
    pytest.param("000000", id="wrong"),
    pytest.param(TX, id="transaction-password-instead"),
])
async def test_change_bound_number_needs_the_management_password(
        agent: dict[str, Any], ledger: Ledger, password: str) -> None:
    """R-7: rebinding is confirmed by the management password (R-2), nothing else."""
    with pytest.raises(WrongPassword):
        await ledger.change_msisdn(msisdn=AGENT, new_msisdn=OTHER, mgmt_password=password)
    assert (await ledger.agent(AGENT)).msisdn == AGENT


@pytest.mark.parametrize("number", [
    pytest.param("13812345678", id="china-mobile"),
    pytest.param("02787654321", id="landline"),
    pytest.param("1898765432", id="ten-digits"),
])
async def test_change_bound_number_must_be_cdma(agent: dict[str, Any], ledger: Ledger,
                                                number: str) -> None:
    """R-7: the new bound number must be a China Telecom CDMA mobile (R-1)."""
    with pytest.raises(InvalidNumber):
        await ledger.change_msisdn(msisdn=AGENT, new_msisdn=number, mgmt_password=MGMT)


async def test_change_bound_number_not_to_another_open_agent(agent: dict[str, Any],
                                                             ledger: Ledger) -> None:
    """R-7 with R-1: the new number may not belong to another open agent."""
    await open_other(ledger)
    with pytest.raises(DuplicateAgent):
        await ledger.change_msisdn(msisdn=AGENT, new_msisdn=OTHER, mgmt_password=MGMT)
    assert (await ledger.agent(AGENT)).msisdn == AGENT


async def test_change_bound_number_to_a_closed_agents_number(agent: dict[str, Any],
                                                             ledger: Ledger) -> None:
    """R-7 with R-1: a closed agent's number is free to be bound again."""
    await open_other(ledger)
    await ledger.close_agent(key="c-other", msisdn=OTHER)
    changed = await ledger.change_msisdn(msisdn=AGENT, new_msisdn=OTHER, mgmt_password=MGMT)
    assert changed.msisdn == OTHER
    assert (await ledger.agent(OTHER)).agent_id == agent.agent_id
