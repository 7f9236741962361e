"""The durable outbox (R-3, R-17, R-20) and the no-password-anywhere guarantee over a whole run."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import structlog
from ledger_support import AGENT, CUSTOMER, LANDLINE, MGMT, TX, Sql
from ledger_support import recharge as do_recharge

from ledger import Ledger, outbox, recharge
from ledger.api import RechargeRequest
from ledger.store import schema
from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock, iso
from smsmenu.core.errors import InsufficientFunds, SmsmenuError
from smsmenu.core.settings import Settings
from smsmenu.core.types import TargetKind
from smsmenu.states.notices import SmsNotices

pytestmark = pytest.mark.both_engines


async def due(ledger: Ledger, now: dt.datetime | None = None) -> list[outbox.Notice]:
    when = iso(now or ledger.now())
    return await ledger.writer.run(partial(outbox.due, now=when))


async def test_every_notice_is_queued_in_order(agent: dict[str, Any], ledger: Ledger) -> None:
    """R-3/R-17: opening, deposit and recharge notices wait in the outbox, oldest first."""
    await do_recharge(ledger, "r1")
    notices = await due(ledger)
    assert [(n.to, n.kind) for n in notices] == [
        (AGENT, "opened"), (AGENT, "deposit"), (AGENT, "receipt"), (CUSTOMER, "customer")]
    assert [n.outbox_id for n in notices] == sorted(n.outbox_id for n in notices)


async def test_a_refused_operation_queues_no_notice(agent: dict[str, Any], ledger: Ledger,
                                                    sql: Sql) -> None:
    """R-17: a notice is written in the operation's own transaction: no operation, no notice."""
    with pytest.raises(InsufficientFunds):
        await do_recharge(ledger, "big", 100_000)
    assert await sql("SELECT kind FROM outbox ORDER BY id") == [("opened",), ("deposit",)]


async def test_sent_notices_leave_the_queue_and_receipts_are_matched(agent: dict[str, Any],
                                                                     ledger: Ledger,
                                                                     sql: Sql) -> None:
    """R-20: a transport marks what it sent (free to the agent) and records delivery receipts."""
    first, second = await due(ledger)
    await ledger.writer.run(partial(outbox.mark_sent, ids=[first.outbox_id, second.outbox_id],
                                    gateway="smpp", now=iso(ledger.now()),
                                    message_ids=["m-1", None]))
    assert await due(ledger) == []
    assert await ledger.writer.run(partial(outbox.record_receipt, message_id="m-1",
                                           stat="DELIVRD")) is True
    assert await ledger.writer.run(partial(outbox.record_receipt, message_id="m-404",
                                           stat="DELIVRD")) is False
    assert await sql("SELECT status, attempts, gateway, message_id, receipt FROM outbox "
                     "ORDER BY id") == [("sent", 1, "smpp", "m-1", "DELIVRD"),
                                        ("sent", 1, "smpp", None, None)]


async def test_failed_sends_are_retried_later_then_given_up(agent: dict[str, Any], ledger: Ledger,
                                                            clock: ManualClock, sql: Sql) -> None:
    """R-3: a notice whose link is down waits for its next attempt; after the last one it fails."""
    first, _ = await due(ledger)
    later = clock.now() + dt.timedelta(minutes=1)
    await ledger.writer.run(partial(outbox.mark_retry, outbox_id=first.outbox_id,
                                    next_at=iso(later), max_attempts=2))
    assert [n.kind for n in await due(ledger)] == ["deposit"]
    assert [n.kind for n in await due(ledger, later)] == ["opened", "deposit"]
    await ledger.writer.run(partial(outbox.mark_retry, outbox_id=first.outbox_id,
                                    next_at=iso(later), max_attempts=2))
    assert await sql("SELECT status, attempts FROM outbox WHERE id = ?", first.outbox_id) == [
        ("failed", 2)]
    assert [n.kind for n in await due(ledger, later)] == ["deposit"]


async def test_queued_notices_survive_a_restart(settings: Settings, billing: BillingSimulator,
                                                clock: ManualClock) -> None:
    """R-3: a notice owed before a crash is still owed after it (durable outbox)."""
    async with await Ledger.open(settings, billing, clock, notifier=SmsNotices(), secret=b"k" * 32) as before:
        await before.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
    async with await Ledger.open(settings, billing, clock, notifier=SmsNotices(), secret=b"k" * 32) as after:
        assert [(n.to, n.kind) for n in await due(after)] == [(AGENT, "opened")]


async def claim(ledger: Ledger, holder: str, limit: int = 1) -> list[int]:
    now = ledger.now()
    return [n.outbox_id for n in await ledger.writer.run(partial(
        outbox.claim, now=iso(now), lease_until=iso(now + dt.timedelta(seconds=60)), limit=limit,
        holder=holder))]


async def test_a_claim_names_its_holder_and_release_ends_only_its_leases(
        agent: dict[str, Any], ledger: Ledger, sql: Sql) -> None:
    """A lease records its instance; releasing one instance's leases leaves the others' alone."""
    [mine], [theirs] = await claim(ledger, "node-a"), await claim(ledger, "node-b")
    assert await due(ledger) == []
    now = iso(ledger.now())
    assert await ledger.writer.run(partial(outbox.release, holder="node-a", now=now)) == 1
    assert [n.outbox_id for n in await due(ledger)] == [mine]
    assert await sql("SELECT id, claimed_by FROM outbox ORDER BY id") == [
        (mine, None), (theirs, "node-b")]
    assert await ledger.writer.run(partial(outbox.release, holder="node-a", now=now)) == 0


@pytest.mark.parametrize("finish", [
    pytest.param(lambda conn, oid, now: outbox.mark_sent(conn, [oid], "smpp", now), id="sent"),
    pytest.param(lambda conn, oid, now: outbox.mark_retry(conn, oid, now, 20), id="retry"),
])
async def test_a_finished_send_ends_its_lease(agent: dict[str, Any], ledger: Ledger, sql: Sql,
                                              finish: Callable[[Any, int, str], None]) -> None:
    """Marked sent or scheduled for a retry: the row is no longer anyone's lease to release."""
    [leased] = await claim(ledger, "node-a")
    now = iso(ledger.now())
    await ledger.writer.run(lambda conn: finish(conn, leased, now))
    assert await sql("SELECT claimed_by FROM outbox WHERE id = ?", leased) == [(None,)]
    assert await ledger.writer.run(partial(outbox.release, holder="node-a", now=now)) == 0


def test_an_older_database_gains_the_claimed_by_column(tmp_path: Path) -> None:
    """The migration adds ``outbox.claimed_by`` to a database made before it; rows are kept."""
    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    try:
        conn.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY, to_msisdn TEXT NOT NULL, "
                     "text TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL DEFAULT "
                     "'queued', attempts INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, "
                     "next_at TEXT NOT NULL, sent_at TEXT, gateway TEXT, message_id TEXT, "
                     "receipt TEXT) STRICT")
        conn.execute("INSERT INTO outbox (to_msisdn, text, kind, created_at, next_at) "
                     "VALUES ('1', 'x', 'receipt', 'a', 'a')")
        schema.create(conn)
        columns = [row[1] for row in conn.execute("PRAGMA table_info(outbox)")]
        assert columns[-1] == "claimed_by"
        assert conn.execute("SELECT kind, claimed_by FROM outbox").fetchall() == [("receipt", None)]
    finally:
        conn.close()


# -- no password anywhere -------------------------------------------------------------------------
PASSWORDS = ("918273", "564738", "372819", "473829", "777111", "282828")
TX1, MGMT1, TX2, MGMT2, WRONG, WRONG_MGMT = PASSWORDS


async def test_no_password_appears_in_logs_notices_errors_or_results(
        ledger: Ledger, billing: BillingSimulator, clock: ManualClock, sql: Sql,
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """R-3/R-2: over a whole run no password is in a log line, an SMS, an error or a result."""
    seen: list[str] = []
    errors: list[SmsmenuError] = []

    async def call(fn: Callable[..., Awaitable[Any]], **kw: Any) -> Any:
        try:
            result = await fn(**kw)
        except SmsmenuError as exc:
            errors.append(exc)
            cause = exc.__cause__ or exc.__context__
            seen.extend([str(exc), repr(exc), repr(exc.args), exc.message("zh"),
                         exc.message("en"), repr(exc.as_dict()), repr(exc.params), repr(cause)])
            return None
        seen.append(repr(result))
        return result

    async def rc(key: str, password: str, **kw: Any) -> Any:
        request = RechargeRequest(
                key=key, msisdn=AGENT, kind=kw.pop("kind", TargetKind.MOBILE),
                target=kw.pop("target", CUSTOMER), amount_fen=kw.pop("amount", 10_000),
                tx_password=password, **kw)
        return await call(ledger.recharge, request=request)

    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as logs:
        await call(ledger.open_agent, msisdn=AGENT, name="小王", tx_password=TX1,
                   mgmt_password=MGMT1)
        await call(ledger.open_agent, msisdn=AGENT, name="小王", tx_password=TX1,
                   mgmt_password=MGMT1)  # duplicate
        await call(ledger.open_agent, msisdn="18911112222", name="x", tx_password=TX1 + "0",
                   mgmt_password=MGMT1)  # 7 digits
        await call(ledger.deposit, key="d1", msisdn=AGENT, amount_fen=50_000, channel="counter")
        await rc("r1", TX1)
        await rc("r2", WRONG)
        await rc("r3", TX1[:5])
        await rc("r4", TX1, amount=100_000)
        await call(ledger.check_password, msisdn=AGENT, purpose="mgmt", password=WRONG_MGMT)
        await call(ledger.change_password, msisdn=AGENT, purpose="tx", old=WRONG, new=TX2)
        await call(ledger.change_password, msisdn=AGENT, purpose="tx", old=TX1, new=TX2)
        await call(ledger.change_password, msisdn=AGENT, purpose="mgmt", old=MGMT1, new=MGMT2)
        billing.fail_next(1)
        failed = await rc("r5", TX2)
        await call(ledger.retry, key="retry", msisdn=AGENT, recharge_id=failed.recharge_id,
                   tx_password=TX2)
        billing.timeout_next(1, applied=True)
        await rc("r6", TX2)
        billing.timeout_next(1, applied=False)
        await rc("r7", TX2)
        billing.down = True
        await rc("r8", TX2)
        billing.down = False
        billing.open_account(TargetKind.LANDLINE, LANDLINE, "postpaid", bills={"2026-11": 1_000})
        done = await rc("r9", TX2, kind=TargetKind.LANDLINE, target=LANDLINE, amount=1_000,
                        notice_to="18900002222")
        await call(ledger.reverse, key="rv", recharge_id=done.recharge_id, operator="10000")
        await rc("r9", TX2, kind=TargetKind.LANDLINE, target=LANDLINE, amount=2_000)  # key conflict
        for i in range(5):
            await rc(f"lock-{i}", WRONG)
        await rc("locked", TX2)
        await call(ledger.set_flag, msisdn=AGENT, unlock=True)
        await ledger.op(recharge.begin, request=RechargeRequest(
                key="crash", msisdn=AGENT, kind=TargetKind.MOBILE, target=CUSTOMER,
                amount_fen=1_000, tx_password=TX2))
        await call(ledger.recover)
        await call(ledger.change_msisdn, msisdn=AGENT, new_msisdn="18987654321",
                   mgmt_password=MGMT1)  # the old one: wrong
        await call(ledger.change_msisdn, msisdn=AGENT, new_msisdn="18987654321",
                   mgmt_password=MGMT2)
        await call(ledger.close_agent, key="close", msisdn="18987654321")
    texts = [row[0] for row in await sql("SELECT text FROM outbox")]
    assert len(logs) >= 8 and len(errors) >= 10 and len(texts) >= 10
    codes = {e.code for e in errors}
    assert {"E_WRONG_PASSWORD", "E_LOCKED", "E_PASSWORD_FORMAT", "E_FUNDS", "E_IDEMPOTENCY",
            "E_DUPLICATE_AGENT", "E_CLOSE_BALANCE"} <= codes
    everything = "\n".join([repr(logs), caplog.text, *texts, *seen])
    assert AGENT in everything and "(R-2)" in everything  # the haystack is the real one
    for password in PASSWORDS:
        assert password not in everything
