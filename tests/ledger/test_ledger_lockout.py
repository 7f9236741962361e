"""The two locks (R-2): money and web login counted apart, the fixed ladder, the SMS, the reset."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from ledger_support import AGENT, MGMT, TX, Sql, recharge

from ledger import Ledger
from ledger.context import Rules
from ledger.lockout import UNTIL_UNLOCKED
from ledger.store import schema
from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.errors import AgentLocked, WebLocked, WrongPassword
from smsmenu.core.settings import Settings, load_settings
from smsmenu.states.notices import SmsNotices

pytestmark = pytest.mark.both_engines

RIGHT = {"tx": TX, "mgmt": MGMT}
LOCKED = {"tx": AgentLocked, "mgmt": WebLocked}
UNTIL = {"tx": "locked_until", "mgmt": "web_locked_until"}
OTHER = {"tx": "mgmt", "mgmt": "tx"}
BOTH = [pytest.param("tx", id="money-lock"), pytest.param("mgmt", id="web-lock")]
NEW_COLUMNS = ("tx_lock_step", "tx_failed_at", "web_failures", "web_locked_until",
               "web_lock_step", "web_failed_at")


async def fail(ledger: Ledger, purpose: str, times: int = 5) -> Exception:
    """``times`` wrong passwords of ``purpose`` in a row; the last refusal."""
    errors: list[Exception] = []
    for _ in range(times):
        with pytest.raises((WrongPassword, AgentLocked)) as caught:
            await ledger.check_password(AGENT, purpose, "000000")
        errors.append(caught.value)
    return errors[-1]


async def opens(ledger: Ledger, purpose: str) -> bool:
    """Whether the right password of ``purpose`` is accepted now (a lock refuses it)."""
    try:
        await ledger.check_password(AGENT, purpose, RIGHT[purpose])
    except AgentLocked:
        return False
    return True


def until(error: Exception) -> str:
    assert isinstance(error, AgentLocked)
    return str(error.params["until"])


async def lock_notices(sql: Sql) -> list[tuple[str, str, str]]:
    rows = await sql("SELECT to_msisdn, kind, text FROM outbox WHERE kind LIKE 'locked_%' "
                     "ORDER BY id")
    return [(str(to), str(kind), str(text)) for to, kind, text in rows]


# -- two locks ------------------------------------------------------------------------------------
async def test_five_wrong_management_passwords_never_stop_sms_selling(
        agent: dict[str, Any], ledger: Ledger) -> None:
    """Five wrong management passwords (a stranger at the web login) lock the web login only:
    the agent still recharges and queries its balance with the transaction password."""
    assert isinstance(await fail(ledger, "mgmt"), WebLocked)
    assert (await recharge(ledger, "r1")).status == "succeeded"
    assert await opens(ledger, "tx")
    assert not await opens(ledger, "mgmt")


async def test_wrong_transaction_passwords_leave_the_web_login_open(agent: dict[str, Any],
                                                                    ledger: Ledger) -> None:
    """Five wrong transaction passwords lock recharges and balance, not the web login."""
    error = await fail(ledger, "tx")
    assert type(error) is AgentLocked
    with pytest.raises(AgentLocked):
        await recharge(ledger, "r1")
    assert await opens(ledger, "mgmt")


@pytest.mark.parametrize("purpose", BOTH)
async def test_each_lock_counts_only_its_own_failures(agent: dict[str, Any], ledger: Ledger,
                                                      purpose: str) -> None:
    """Four failures of one password and four of the other lock nothing; the fifth of one
    locks that one alone."""
    await fail(ledger, purpose, 4)
    await fail(ledger, OTHER[purpose], 4)
    assert type(await fail(ledger, purpose, 1)) is LOCKED[purpose]
    assert await opens(ledger, OTHER[purpose])
    assert not await opens(ledger, purpose)


# -- the ladder -----------------------------------------------------------------------------------
@pytest.mark.parametrize("purpose", BOTH)
async def test_the_ladder_30_minutes_then_120_then_an_operator(
        agent: dict[str, Any], ledger: Ledger, clock: ManualClock, purpose: str) -> None:
    """The first lock holds 30 minutes, the second 120, the third until an operator unlocks."""
    assert until(await fail(ledger, purpose)) == "10:30"
    clock.advance(minutes=30)
    assert until(await fail(ledger, purpose)) == "12:30"
    clock.advance(minutes=119, seconds=59)
    assert not await opens(ledger, purpose)
    clock.advance(seconds=1)
    third = await fail(ledger, purpose)
    assert isinstance(third, AgentLocked) and until(third) == ""
    assert "10000" in third.message("zh")
    clock.advance(days=30)
    assert not await opens(ledger, purpose)
    assert getattr(await ledger.agent(AGENT), UNTIL[purpose]) == UNTIL_UNLOCKED


async def test_a_day_of_guessing_gets_fifteen_tries_not_240(
        agent: dict[str, Any], ledger: Ledger, clock: ManualClock, sql: Sql) -> None:
    """A guesser who tries again the moment each lock ends gets 5 + 5 + 5 tries in a day (the
    lock no longer restarts the count for good), then nothing until an operator unlocks."""
    wrong = 0
    for _ in range(24 * 12):  # a day in 5-minute steps
        for _ in range(5):
            try:
                await ledger.check_password(AGENT, "tx", "000000")
            except WrongPassword:
                wrong += 1
            except AgentLocked:
                break
        clock.advance(minutes=5)
    locks = len(await lock_notices(sql))  # each lock was set by one more checked guess
    assert (wrong + locks, locks) == (15, 3)


async def test_attempts_while_locked_neither_count_nor_extend(
        agent: dict[str, Any], ledger: Ledger, clock: ManualClock) -> None:
    """While a lock holds, attempts are refused unchecked: the lock's end and step stay put."""
    await fail(ledger, "tx")
    before = (await ledger.agent(AGENT)).locked_until
    clock.advance(minutes=10)
    for _ in range(10):
        with pytest.raises(AgentLocked):
            await ledger.check_password(AGENT, "tx", "000000")
    assert (await ledger.agent(AGENT)).locked_until == before
    clock.advance(minutes=20)
    error = await fail(ledger, "tx", 1)
    assert isinstance(error, WrongPassword) and error.params["left"] == 4


async def test_a_right_password_resets_the_count_not_the_ladder(
        agent: dict[str, Any], ledger: Ledger, clock: ManualClock) -> None:
    """After a lock, a right password restarts the count; the next lock is still the second."""
    await fail(ledger, "tx")
    clock.advance(minutes=30)
    assert await opens(ledger, "tx")
    error = await fail(ledger, "tx", 4)
    assert isinstance(error, WrongPassword) and error.params["left"] == 1
    assert await opens(ledger, "tx")
    assert until(await fail(ledger, "tx")) == "12:30"


@pytest.mark.parametrize(("quiet", "locks"), [
    pytest.param({"hours": 23, "minutes": 59, "seconds": 59}, True, id="a-second-short"),
    pytest.param({"hours": 24}, False, id="a-full-day"),
])
async def test_a_quiet_day_forgets_the_count(agent: dict[str, Any], ledger: Ledger,
                                             clock: ManualClock, quiet: dict[str, int],
                                             locks: bool) -> None:
    """Failures count toward a lock until 24 h pass without one."""
    await fail(ledger, "mgmt", 4)
    clock.advance(**quiet)
    assert isinstance(await fail(ledger, "mgmt", 1), WebLocked) is locks


async def test_a_quiet_day_forgets_the_ladder_step(agent: dict[str, Any], ledger: Ledger,
                                                   clock: ManualClock) -> None:
    """24 h after the last failure the ladder starts over: the next lock holds 30 minutes."""
    await fail(ledger, "tx")
    clock.advance(minutes=30)
    await fail(ledger, "tx")  # the second lock, from 10:30 to 12:30
    clock.advance(hours=24)
    assert until(await fail(ledger, "tx")) == "11:00"


async def test_operator_unlock_clears_both_locks_and_ladders(
        agent: dict[str, Any], ledger: Ledger, clock: ManualClock) -> None:
    """`agent unlock` (and the back office button) lifts both locks; the next lock is a first."""
    await fail(ledger, "tx")
    clock.advance(minutes=30)
    await fail(ledger, "tx")
    await fail(ledger, "mgmt")
    view = await ledger.set_flag(msisdn=AGENT, unlock=True)
    assert (view.locked_until, view.web_locked_until) == (None, None)
    assert await opens(ledger, "tx") and await opens(ledger, "mgmt")
    assert until(await fail(ledger, "tx")) == "11:00"
    assert until(await fail(ledger, "mgmt")) == "11:00"


# -- the SMS --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("purpose", "lang", "words"), [
    pytest.param("tx", "zh", ["交易密码", "充值和余额查询", "11-10 10:30", "10000"], id="tx-zh"),
    pytest.param("mgmt", "zh", ["网页登录", "短信充值不受影响", "11-10 10:30", "10000"],
                 id="web-zh"),
    pytest.param("tx", "en", ["transaction passwords", "balance", "11-10 10:30", "10000"],
                 id="tx-en"),
    pytest.param("mgmt", "en", ["web login", "SMS recharges still work", "11-10 10:30", "10000"],
                 id="web-en"),
])
async def test_a_lock_is_told_by_sms(ledger: Ledger, sql: Sql, purpose: str, lang: str,
                                     words: list[str]) -> None:
    """Each lock queues one SMS in the agent's language: which lock, until when, the hotline."""
    await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT,
                            lang=lang)
    await fail(ledger, purpose, 4)
    assert await lock_notices(sql) == []
    await fail(ledger, purpose, 1)
    [(to, kind, text)] = await lock_notices(sql)
    assert (to, kind) == (AGENT, "locked_tx" if purpose == "tx" else "locked_web")
    assert all(word in text for word in words), text
    assert TX not in text and MGMT not in text


@pytest.mark.parametrize("purpose", BOTH)
async def test_the_last_lock_sms_says_an_operator_must_unlock(
        agent: dict[str, Any], ledger: Ledger, clock: ManualClock, sql: Sql,
        purpose: str) -> None:
    """The lock past the ladder's end tells the agent to call the hotline to be unlocked."""
    for _ in range(3):
        await fail(ledger, purpose)
        clock.advance(hours=2)
    *_, (_, kind, text) = await lock_notices(sql)
    assert kind.endswith("tx" if purpose == "tx" else "web")
    assert "客服解锁" in text and "10000" in text and "11-10" not in text
    assert len(await lock_notices(sql)) == 3


# -- settings and schema --------------------------------------------------------------------------
@pytest.mark.parametrize(("toml", "env", "minutes"), [
    pytest.param("", {}, (30, 120), id="default"),
    pytest.param("lockout_minutes = 30", {}, (30,), id="older-scalar"),
    pytest.param("lockout_minutes = [15, 60, 240]", {}, (15, 60, 240), id="longer-ladder"),
    pytest.param("lockout_minutes = []", {}, (), id="empty-operator-at-once"),
    pytest.param("", {"SMSMENU_RULES_LOCKOUT_MINUTES": "10,20"}, (10, 20), id="environment"),
])
def test_lockout_minutes_is_a_ladder(tmp_path: Path, toml: str, env: dict[str, str],
                                     minutes: tuple[int, ...]) -> None:
    """[rules] lockout_minutes: a list; an older scalar is a one-step ladder."""
    config = tmp_path / "s.toml"
    config.write_text(f"[rules]\n{toml}\n", "utf-8")
    settings = load_settings(config, env=env)
    assert settings.rules.lockout_minutes == minutes
    rules = Rules.from_settings(settings)
    assert [int(step.total_seconds() // 60) for step in rules.lockout_ladder] == list(minutes)
    assert rules.lockout_reset.total_seconds() == 24 * 3600


@pytest.mark.parametrize("toml", [
    pytest.param("lockout_minutes = [30, 0]", id="zero-step"),
    pytest.param("lockout_minutes = -5", id="negative"),
    pytest.param('lockout_minutes = ["30"]', id="strings"),
    pytest.param("lockout_minutes = [true]", id="boolean"),
    pytest.param("lockout_reset_hours = 0", id="no-reset"),
])
def test_bad_lockout_settings_are_refused(tmp_path: Path, toml: str) -> None:
    """A ladder step or the reset must be a positive whole number."""
    config = tmp_path / "s.toml"
    config.write_text(f"[rules]\n{toml}\n", "utf-8")
    with pytest.raises(ValueError, match="lockout"):
        load_settings(config, env={})


async def test_a_one_step_ladder_holds_the_second_lock_for_an_operator(
        settings: Settings, billing: BillingSimulator, clock: ManualClock) -> None:
    """With an older scalar `lockout_minutes = 30`, the second lock waits for an operator."""
    scalar = settings.replace("rules", lockout_minutes=(30,))
    async with await Ledger.open(scalar, billing, clock, notifier=SmsNotices(), secret=b"k" * 32) as ledger:
        await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
        assert until(await fail(ledger, "tx")) == "10:30"
        clock.advance(minutes=30)
        assert until(await fail(ledger, "tx")) == ""
        clock.advance(days=2)
        assert not await opens(ledger, "tx")


def test_an_older_database_gains_the_lock_columns(tmp_path: Path) -> None:
    """An agents table from before the two locks gains their columns; its counts stay."""
    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    old = "\n".join(line for line in schema.DDL.splitlines()
                    if not line.strip().startswith(NEW_COLUMNS))
    for statement in old.split(";\n"):
        if statement.strip():
            conn.execute(statement)
    conn.execute("INSERT INTO accounts (id, code, kind, no_overdraft) VALUES (9, 'agent:1', "
                 "'agent', 1)")
    conn.execute("INSERT INTO agents (msisdn, name, account_id, status, salt, tx_hash, mgmt_hash, "
                 "failed_attempts, opened_at) VALUES (?, 'old', 9, 'active', x'00', x'00', x'00',"
                 " 3, '2026-01-01T00:00:00.000000Z')", (AGENT,))
    schema.create(conn)
    have = [row[1] for row in conn.execute("PRAGMA table_info(agents)")]
    assert set(NEW_COLUMNS) <= set(have)
    row = conn.execute("SELECT failed_attempts, tx_lock_step, web_failures, web_lock_step "
                       "FROM agents").fetchone()
    assert row == (3, 0, 0, 0)
    conn.close()
