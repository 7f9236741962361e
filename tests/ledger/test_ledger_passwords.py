"""Passwords (R-2, R-21): lockout after five wrong ones, changes, keyed salted hashes, the secret.

The two locks' ladder, reset and SMS are in test_ledger_lockout.py."""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from ledger_support import AGENT, MGMT, TX, Sql, available, recharge

from ledger import Ledger, passwords
from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.errors import AgentLocked, InvalidPassword, WrongPassword
from smsmenu.core.settings import Settings
from smsmenu.states.notices import SmsNotices

pytestmark = pytest.mark.both_engines

SECRET = b"k" * 32  # what tests/conftest.py gives the ledger


def database_bytes(settings: Settings) -> bytes:
    """The database file with its WAL and shared-memory files, as an attacker would copy them."""
    return b"".join(p.read_bytes() for p in Path(settings.ledger.db).parent.glob("ledger.db*"))


async def wrong(ledger: Ledger, times: int, purpose: str = "tx") -> list[Exception]:
    errors: list[Exception] = []
    for _ in range(times):
        with pytest.raises((WrongPassword, AgentLocked)) as failed:
            await ledger.check_password(AGENT, purpose, "000000")
        errors.append(failed.value)
    return errors


async def failures(sql: Sql, purpose: str = "tx") -> int:
    """Wrong passwords in a row counted toward ``purpose``'s lock (tx: money, mgmt: web)."""
    column = "failed_attempts" if purpose == "tx" else "web_failures"
    [(count,)] = await sql(f"SELECT {column} FROM agents WHERE msisdn = ?", AGENT)
    return int(count)


# -- lockout (R-2) --------------------------------------------------------------------------------
async def test_wrong_password_is_counted(agent: dict[str, Any], ledger: Ledger, sql: Sql) -> None:
    """R-2: each wrong password counts and says how many tries are left."""
    errors = await wrong(ledger, 3)
    assert [e.params["left"] for e in errors] == [4, 3, 2]  # type: ignore[attr-defined]
    assert all(isinstance(e, WrongPassword) and e.rule == "R-2" for e in errors)
    assert await failures(sql) == 3


async def test_five_wrong_in_a_row_lock_for_30_minutes(agent: dict[str, Any], ledger: Ledger,
                                                       clock: ManualClock) -> None:
    """R-2: the fifth wrong password in a row locks for 30 minutes, even the right one."""
    errors = await wrong(ledger, 5)
    assert isinstance(errors[-1], AgentLocked)
    assert errors[-1].params == {"until": "10:30"}
    assert (await ledger.agent(AGENT)).locked_until is not None
    with pytest.raises(AgentLocked):
        await ledger.check_password(AGENT, "tx", TX)
    with pytest.raises(AgentLocked):
        await recharge(ledger, "r1")
    clock.advance(minutes=29, seconds=59)
    with pytest.raises(AgentLocked):
        await ledger.check_password(AGENT, "tx", TX)


async def test_lock_ends_exactly_at_30_minutes(agent: dict[str, Any], ledger: Ledger,
                                               clock: ManualClock, sql: Sql) -> None:
    """R-2: at exactly 30 minutes after the lock the agent may try again and the count restarts."""
    await wrong(ledger, 5)
    clock.advance(minutes=30)
    view = await ledger.check_password(AGENT, "tx", TX)
    assert view.msisdn == AGENT
    assert (await ledger.agent(AGENT)).locked_until is None
    assert (await recharge(ledger, "r1")).status == "succeeded"
    errors = await wrong(ledger, 1)
    assert errors[0].params["left"] == 4  # type: ignore[attr-defined]


async def test_lock_restarts_counting_after_it_expires(agent: dict[str, Any], ledger: Ledger,
                                                       clock: ManualClock) -> None:
    """R-2: after an expired lock, five new wrong passwords are needed to lock again (for the
    ladder's next step: 120 minutes)."""
    await wrong(ledger, 5)
    clock.advance(minutes=30)
    errors = await wrong(ledger, 5)
    assert [type(e) for e in errors] == [WrongPassword] * 4 + [AgentLocked]
    assert errors[-1].params == {"until": "12:30"}  # type: ignore[attr-defined]


async def test_success_resets_the_count(agent: dict[str, Any], ledger: Ledger, sql: Sql) -> None:
    """R-2: only five wrong passwords *in a row* lock; a right one resets the count."""
    await wrong(ledger, 4)
    await ledger.check_password(AGENT, "tx", TX)
    assert await failures(sql) == 0
    errors = await wrong(ledger, 4)
    assert all(isinstance(e, WrongPassword) for e in errors)
    assert errors[-1].params["left"] == 1  # type: ignore[attr-defined]


async def test_wrong_passwords_of_each_kind_count_apart(agent: dict[str, Any], ledger: Ledger,
                                                        sql: Sql) -> None:
    """R-2: wrong transaction and management passwords count toward two different locks."""
    await wrong(ledger, 3, "tx")
    errors = await wrong(ledger, 2, "mgmt")
    assert all(isinstance(e, WrongPassword) for e in errors)
    assert (await failures(sql, "tx"), await failures(sql, "mgmt")) == (3, 2)


async def test_wrong_recharge_password_counts(agent: dict[str, Any], ledger: Ledger) -> None:
    """R-2: a recharge with a wrong transaction password counts toward the lock."""
    for i in range(4):
        with pytest.raises(WrongPassword):
            await recharge(ledger, f"r{i}", tx_password="000000")
    with pytest.raises(AgentLocked):
        await recharge(ledger, "r5", tx_password="000000")
    with pytest.raises(AgentLocked):
        await recharge(ledger, "r6")
    assert await available(ledger) == 50_000


async def test_badly_formed_password_is_not_a_wrong_one(agent: dict[str, Any], ledger: Ledger,
                                                        sql: Sql) -> None:
    """R-2: a password that is not 6 digits is invalid input and does not count as wrong."""
    with pytest.raises(InvalidPassword):
        await ledger.check_password(AGENT, "tx", "12345")
    assert await failures(sql) == 0


async def test_operator_unlock(agent: dict[str, Any], ledger: Ledger) -> None:
    """R-2: the operator can unlock a locked agent at once."""
    await wrong(ledger, 5)
    view = await ledger.set_flag(msisdn=AGENT, unlock=True)
    assert view.locked_until is None
    assert (await ledger.check_password(AGENT, "tx", TX)).msisdn == AGENT
    assert (await recharge(ledger, "r1")).status == "succeeded"


# -- changing passwords (R-21) --------------------------------------------------------------------
@pytest.mark.parametrize("purpose, old", [pytest.param("tx", TX, id="transaction"),
                                          pytest.param("mgmt", MGMT, id="management")])
async def test_change_password(agent: dict[str, Any], ledger: Ledger, purpose: str,
                               old: str) -> None:
    """R-21: the agent changes a password by giving the old one; the new one works, the old not."""
    done = await ledger.change_password(msisdn=AGENT, purpose=purpose, old=old, new="808080")
    assert done.changed == purpose
    [notice] = done.notices
    assert (notice.to, notice.kind) == (AGENT, "password_changed")
    assert "808080" not in notice.text and old not in notice.text
    assert (await ledger.check_password(AGENT, purpose, "808080")).msisdn == AGENT
    with pytest.raises(WrongPassword):
        await ledger.check_password(AGENT, purpose, old)
    other, other_password = ("mgmt", MGMT) if purpose == "tx" else ("tx", TX)
    assert (await ledger.check_password(AGENT, other, other_password)).msisdn == AGENT


async def test_changed_transaction_password_pays_recharges(agent: dict[str, Any],
                                                           ledger: Ledger) -> None:
    """R-21: after a change the recharge takes the new transaction password only."""
    await ledger.change_password(msisdn=AGENT, purpose="tx", old=TX, new="808080")
    with pytest.raises(WrongPassword):
        await recharge(ledger, "r1")
    assert (await recharge(ledger, "r2", tx_password="808080")).status == "succeeded"


@pytest.mark.parametrize("purpose, old", [pytest.param("tx", TX, id="transaction"),
                                          pytest.param("mgmt", MGMT, id="management")])
async def test_change_password_needs_the_old_one(agent: dict[str, Any], ledger: Ledger,
                                                 sql: Sql, purpose: str, old: str) -> None:
    """R-21 with R-2: a wrong old password changes nothing and counts toward the lock."""
    with pytest.raises(WrongPassword):
        await ledger.change_password(msisdn=AGENT, purpose=purpose, old="000000", new="808080")
    assert await failures(sql, purpose) == 1
    assert (await ledger.check_password(AGENT, purpose, old)).msisdn == AGENT


@pytest.mark.parametrize("new", [
    pytest.param("80808", id="5-digits"),
    pytest.param("8080808", id="7-digits"),
    pytest.param("80808a", id="letter"),
    pytest.param("８０８０８０", id="full-width"),
    pytest.param(TX, id="same-as-old"),
])
async def test_new_password_must_be_six_new_digits(agent: dict[str, Any], ledger: Ledger,
                                                   new: str) -> None:
    """R-2: the new password is exactly 6 ASCII digits (and not the old one)."""
    with pytest.raises(InvalidPassword):
        await ledger.change_password(msisdn=AGENT, purpose="tx", old=TX, new=new)
    assert (await ledger.check_password(AGENT, "tx", TX)).msisdn == AGENT


# -- storage --------------------------------------------------------------------------------------
async def test_stored_hash_is_keyed_and_salted(ledger: Ledger, sql: Sql) -> None:
    """R-2: the stored form is an HMAC with a per-agent salt: not the password, unique per agent."""
    for msisdn in (AGENT, "18987654321"):
        await ledger.open_agent(msisdn=msisdn, name="同密码", tx_password="918273",
                                mgmt_password="918273")
    rows = await sql("SELECT salt, tx_hash, mgmt_hash FROM agents ORDER BY id")
    (salt1, tx1, mgmt1), (salt2, tx2, mgmt2) = rows
    assert salt1 != salt2
    assert tx1 != tx2 and mgmt1 != mgmt2  # same password, different agents
    assert tx1 != mgmt1  # same password, different purposes
    for stored in (tx1, tx2, mgmt1, mgmt2):
        assert b"918273" not in stored
        assert stored != hashlib.sha256(b"918273").digest()
        assert len(stored) == 32
    assert tx1 == passwords.digest(SECRET, salt1, "tx", "918273")


@pytest.mark.sqlite_only
async def test_database_file_holds_neither_secret_nor_password(ledger: Ledger,
                                                               settings: Settings) -> None:
    """R-2: the HMAC secret lives outside the database; no password is stored in clear."""
    await ledger.open_agent(msisdn=AGENT, name="小王", tx_password="918273",
                            mgmt_password="564738")
    await ledger.change_password(msisdn=AGENT, purpose="tx", old="918273", new="372819")
    await ledger.deposit(key="d1", msisdn=AGENT, amount_fen=50_000, channel="counter")
    await recharge(ledger, "r1", tx_password="372819")
    with pytest.raises(WrongPassword):
        await ledger.check_password(AGENT, "mgmt", "473829")
    data = database_bytes(settings)
    assert len(data) > 4096
    for needle in (SECRET, SECRET.hex().encode(), b"918273", b"564738", b"372819", b"473829",
                   "918273".encode("utf-16-le")):
        assert needle not in data


async def test_another_secret_cannot_check_the_passwords(settings: Settings,
                                                         billing: BillingSimulator,
                                                         clock: ManualClock) -> None:
    """R-2: the database alone is not enough: without the server secret no password matches."""
    async with await Ledger.open(settings, billing, clock, notifier=SmsNotices(), secret=SECRET) as first:
        await first.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
    async with await Ledger.open(settings, billing, clock, notifier=SmsNotices(), secret=b"z" * 32) as stolen:
        with pytest.raises(WrongPassword):
            await stolen.check_password(AGENT, "tx", TX)
    async with await Ledger.open(settings, billing, clock, notifier=SmsNotices(), secret=SECRET) as again:
        await again.set_flag(msisdn=AGENT, unlock=True)
        assert (await again.check_password(AGENT, "tx", TX)).msisdn == AGENT


async def test_secret_file_is_created_private_and_kept_out_of_the_database(
        settings: Settings, billing: BillingSimulator, clock: ManualClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """R-2: without a given secret one is created in its own 0600 file, never in the database."""
    monkeypatch.delenv("SMSMENU_SECRET", raising=False)
    secret_file = Path(settings.ledger.secret_file)
    assert not await asyncio.to_thread(secret_file.exists)
    async with await Ledger.open(settings, billing, clock, notifier=SmsNotices()) as opened:
        await opened.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    secret = passwords.load_secret(secret_file)  # the file exists now: read, not recreated
    assert len(secret) == 32
    assert passwords.load_secret(secret_file) == secret  # stable across restarts
    data = database_bytes(settings)
    assert secret not in data and secret.hex().encode() not in data


def test_secret_from_the_environment_wins(tmp_path: Path) -> None:
    """R-2: SMSMENU_SECRET (hex) overrides the secret file, which is then not created."""
    assert passwords.load_secret(tmp_path / "secret", "ab" * 32) == bytes.fromhex("ab" * 32)
    assert not (tmp_path / "secret").exists()
