"""The single writer: group commit, savepoint isolation, cancellation, sqlite errors mapped."""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from ledger_support import AGENT, TX, Sql, available, clean, recharge

from ledger import Ledger, admin, postings
from ledger.api import Deposit
from ledger.store.writer import Writer
from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.errors import InvalidAmount, StorageError, WrongPassword
from smsmenu.core.settings import Settings
from smsmenu.core.types import TargetKind
from smsmenu.states.notices import SmsNotices

pytestmark = pytest.mark.both_engines


@contextlib.asynccontextmanager
async def held(writer: Writer) -> AsyncIterator[None]:
    """Keep the writer busy inside a batch; everything queued meanwhile forms the next batch."""
    started, release = threading.Event(), threading.Event()

    def block(conn: sqlite3.Connection) -> None:
        started.set()
        release.wait(10)

    blocker = asyncio.ensure_future(writer.run(block))
    assert await asyncio.to_thread(started.wait, 10)
    try:
        yield
        for _ in range(3):  # let every caller queued in the block reach the writer's queue
            await asyncio.sleep(0)
    finally:
        release.set()
        await blocker


async def test_group_commit_runs_many_operations_per_batch(agent: dict[str, Any],
                                                           ledger: Ledger) -> None:
    """R-15: concurrent recharges are committed together, fewer batches (fsyncs) than operations."""
    await ledger.set_flag(msisdn=AGENT, rate_ppm=0)
    batches, operations = ledger.writer.batches, ledger.writer.operations
    results = await asyncio.gather(*[recharge(ledger, f"r{i}", 1_000, target=f"1890000{i:04d}")
                                     for i in range(50)])
    assert {r.status for r in results} == {"succeeded"}
    ops = ledger.writer.operations - operations
    assert ops == 100  # begin + finish per recharge
    assert ledger.writer.batches - batches < ops
    assert await available(ledger) == 0


async def test_one_failing_operation_does_not_roll_back_its_batch(agent: dict[str, Any],
                                                                  ledger: Ledger, sql: Sql) -> None:
    """R-8: each operation has its own savepoint: one failure leaves the others committed."""
    def half_then_boom(conn: sqlite3.Connection) -> None:
        cash = postings.account_id(conn, "operator:cash")
        agent_account = postings.account_id(conn, "agent:1")
        postings.post(conn, "bogus", [(cash, -1), (agent_account, 1)], "2026-01-01", "bogus")
        raise RuntimeError("boom after a posted transfer")

    batches = ledger.writer.batches
    async with held(ledger.writer):
        calls = [
            ledger.deposit(key="ok-1", msisdn=AGENT, amount_fen=1_000, channel="online"),
            ledger.writer.run(half_then_boom),
            ledger.deposit(key="bad", msisdn=AGENT, amount_fen=1_234, channel="online"),
            ledger.check_password(AGENT, "tx", "000000"),
            ledger.deposit(key="ok-2", msisdn=AGENT, amount_fen=2_000, channel="online"),
        ]
        tasks = [asyncio.ensure_future(call) for call in calls]
    ok1, boom, bad, wrong, ok2 = await asyncio.gather(*tasks, return_exceptions=True)
    assert ledger.writer.batches == batches + 2  # the blocker's batch, then all five together
    assert isinstance(boom, RuntimeError)  # a foreign error reaches its caller unchanged
    assert isinstance(bad, InvalidAmount)
    assert isinstance(wrong, WrongPassword)
    assert isinstance(ok1, Deposit) and isinstance(ok2, Deposit)
    assert await available(ledger) == 50_000 + 1_000 + 2_000
    assert await sql("SELECT COUNT(*) FROM transfers WHERE op = 'bogus'") == [(0,)]
    assert await sql("SELECT failed_attempts FROM agents") == [(1,)]  # committed on purpose


async def test_caller_cancelled_before_its_turn_runs_nothing(agent: dict[str, Any],
                                                             ledger: Ledger, sql: Sql) -> None:
    """R-8: an operation whose caller gave up before the writer reached it never runs."""
    async with held(ledger.writer):
        task = asyncio.ensure_future(
            ledger.deposit(key="gone", msisdn=AGENT, amount_fen=1_000, channel="online"))
        await asyncio.sleep(0)
        task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await ledger.writer.run(lambda conn: None)
    assert await sql("SELECT COUNT(*) FROM transfers WHERE reference = 'gone'") == [(0,)]
    assert await available(ledger) == 50_000


async def test_caller_cancelled_after_its_turn_commits_whole(agent: dict[str, Any],
                                                             ledger: Ledger, sql: Sql) -> None:
    """R-8: an operation already running when its caller is cancelled commits whole, not half."""
    started, release = threading.Event(), threading.Event()

    def slow_deposit(conn: sqlite3.Connection, **kw: Any) -> Any:
        started.set()
        release.wait(10)
        return admin.deposit(conn, **kw)

    task = asyncio.ensure_future(ledger.op(slow_deposit, key="late", msisdn=AGENT,
                                           amount_fen=1_000, channel="online"))
    assert await asyncio.to_thread(started.wait, 10)
    task.cancel()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    await ledger.writer.run(lambda conn: None)
    assert await sql("SELECT COUNT(*) FROM transfers WHERE reference = 'late'") == [(1,)]
    assert await sql("SELECT COUNT(*) FROM deposits") == [(2,)]
    assert await available(ledger) == 51_000


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed-{s}") for s in range(3)])
async def test_cancelled_recharges_never_leave_half_a_transfer(agent: dict[str, Any],
                                                               ledger: Ledger,
                                                               billing: BillingSimulator,
                                                               sql: Sql, seed: int) -> None:
    """R-15/R-16: recharges cancelled at random points leave whole transfers; recover settles them."""
    await ledger.deposit(key="more", msisdn=AGENT, amount_fen=100_000, channel="counter")
    billing.latency = 0.001
    rng = random.Random(seed)
    tasks = [asyncio.ensure_future(recharge(ledger, f"c{i}", 1_000, target=f"1890000{i:04d}"))
             for i in range(60)]
    loop = asyncio.get_running_loop()
    for task in tasks:
        when = rng.random()
        if when < 0.2:
            loop.call_soon(task.cancel)  # while its reservation is queued or being written
        elif when < 0.7:
            loop.call_later(rng.random() * 0.02, task.cancel)  # somewhere later in flight
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert any(isinstance(o, asyncio.CancelledError) for o in outcomes)
    await ledger.writer.run(lambda conn: None)
    assert clean(await ledger.verify())  # pending ones are whole reservations, not half transfers
    billing.latency = 0.0
    counts = await ledger.recover()
    assert counts["kept"] == 0
    assert await sql("SELECT COUNT(*) FROM recharges WHERE status = 'pending'") == [(0,)]
    assert clean(await ledger.verify())
    [(credited,)] = await sql("SELECT COALESCE(SUM(amount), 0) FROM recharges "
                              "WHERE status = 'succeeded'")
    boss = sum(a.balance_fen for a in billing.books.accounts.values())
    assert boss == credited  # BOSS and the ledger agree on every credit
    assert await sql("SELECT balance FROM accounts WHERE code = 'settlement:mobile'") == [
        (credited,)]
    [(charged,)] = await sql("SELECT COALESCE(SUM(amount - commission), 0) FROM recharges "
                             "WHERE status = 'succeeded'")
    assert await available(ledger) == 150_000 - charged


# -- sqlite errors --------------------------------------------------------------------------------
@pytest.mark.parametrize("statement", [
    pytest.param("UPDATE accounts SET reserved = -1 WHERE code = 'agent:1'", id="check-constraint"),
    pytest.param("UPDATE accounts SET balance = -1 WHERE code = 'agent:1'", id="no-overdraft"),
    pytest.param("DELETE FROM postings", id="immutable-postings"),
    pytest.param("UPDATE transfers SET state = 'voided'", id="resolved-transfer"),
    pytest.param("INSERT INTO outbox (id, to_msisdn, text, kind, created_at, next_at) "
                 "VALUES (1, 'x', 'x', 'x', 'x', 'x')", id="duplicate-key"),
    pytest.param("SELECT * FROM no_such_table", id="syntax"),
])
@pytest.mark.sqlite_only
async def test_sqlite_errors_become_storage_errors(agent: dict[str, Any], ledger: Ledger,
                                                   statement: str) -> None:
    """R-15: a sqlite error inside an operation reaches the caller as StorageError, rolled back."""
    def run(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE agents SET name = 'changed'")
        conn.execute(statement)

    with pytest.raises(StorageError) as failed:
        await ledger.writer.run(run)
    assert isinstance(failed.value.__cause__, sqlite3.Error)
    assert failed.value.code == "E_STORAGE"
    assert (await ledger.agent(AGENT)).name == "小王"
    assert (await recharge(ledger, "after")).status == "succeeded"


@pytest.mark.sqlite_only
async def test_a_locked_database_fails_the_whole_batch_as_storage_error(
        agent: dict[str, Any], ledger: Ledger, settings: Settings) -> None:
    """R-15: when the transaction cannot even begin, every queued operation gets StorageError."""
    await ledger.writer.run(lambda conn: conn.execute("PRAGMA busy_timeout = 0"))
    other = sqlite3.connect(settings.ledger.db, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        results = await asyncio.gather(
            ledger.deposit(key="d1", msisdn=AGENT, amount_fen=1_000, channel="online"),
            recharge(ledger, "r1"), return_exceptions=True)
        assert all(isinstance(r, StorageError) for r in results), results
        assert all(isinstance(r.__cause__, sqlite3.OperationalError) for r in results)
        other.execute("ROLLBACK")
    finally:
        other.close()
    await ledger.writer.run(lambda conn: conn.execute("PRAGMA busy_timeout = 10000"))
    assert await available(ledger) == 50_000
    done = await ledger.deposit(key="d1", msisdn=AGENT, amount_fen=1_000, channel="online")
    assert done.balance_fen == 51_000


async def test_writer_refuses_work_when_closed(tmp_path: Path) -> None:
    """R-15: an operation on a closed (or never started) writer is a StorageError, not a hang."""
    writer = Writer(str(tmp_path / "w.db"), synchronous="OFF")
    with pytest.raises(StorageError):
        await writer.run(lambda conn: 1)
    writer.start()
    assert await writer.run(lambda conn: conn.execute("SELECT 41 + 1").fetchone()[0]) == 42
    await writer.aclose()
    await writer.aclose()  # twice is harmless
    with pytest.raises(StorageError):
        await writer.run(lambda conn: 1)


@pytest.mark.parametrize("synchronous, level", [
    pytest.param("FULL", 2, id="full-by-default"),
    pytest.param("normal", 1, id="normal"),
    pytest.param("OFF", 0, id="off"),
])
async def test_writer_pragmas(tmp_path: Path, synchronous: str, level: int) -> None:
    """R-15: the write connection is WAL with foreign keys, synchronous as configured (FULL)."""
    writer = Writer(str(tmp_path / "w.db"), synchronous=synchronous)
    writer.start()
    try:
        read: Callable[[sqlite3.Connection], tuple[Any, ...]] = lambda conn: (  # noqa: E731
            conn.execute("PRAGMA synchronous").fetchone()[0],
            conn.execute("PRAGMA journal_mode").fetchone()[0],
            conn.execute("PRAGMA foreign_keys").fetchone()[0])
        assert await writer.run(read) == (level, "wal", 1)
    finally:
        await writer.aclose()


def test_writer_refuses_an_unknown_synchronous_mode(tmp_path: Path) -> None:
    """R-15: a typo in the durability setting is refused, not silently weakened."""
    with pytest.raises(ValueError, match="synchronous"):
        Writer(str(tmp_path / "w.db"), synchronous="FAST")


async def test_foreign_error_in_an_operation_passes_through(ledger: Ledger) -> None:
    """R-15: a programming error (not sqlite, not ours) is not disguised as StorageError."""
    def bad(conn: sqlite3.Connection) -> None:
        raise KeyError("x")

    with pytest.raises(KeyError):
        await ledger.writer.run(bad)
    assert await ledger.writer.run(lambda conn: 7) == 7


async def test_confirmed_operations_survive_a_restart(settings: Settings, billing: BillingSimulator,
                                                      clock: ManualClock) -> None:
    """R-15: what the writer confirmed is in the file when the ledger is opened again."""
    async with await Ledger.open(settings, billing, clock, notifier=SmsNotices(), secret=b"k" * 32) as first:
        await first.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password="654321")
        await first.deposit(key="d1", msisdn=AGENT, amount_fen=50_000, channel="counter")
        await recharge(first, "r1", kind=TargetKind.MOBILE)
    async with await Ledger.open(settings, billing, clock, notifier=SmsNotices(), secret=b"k" * 32) as second:
        assert await available(second) == 50_000 - 9_800
        assert clean(await second.verify())


# -- storage health -------------------------------------------------------------------------------
@pytest.mark.sqlite_only
async def test_a_failed_commit_marks_storage_failing_until_the_next_commit(
        agent: dict[str, Any], ledger: Ledger, settings: Settings) -> None:
    """A batch that cannot commit sets ``failure`` (since, error); the next clean commit clears it."""
    assert ledger.writer.failure is None
    await ledger.writer.run(lambda conn: conn.execute("PRAGMA busy_timeout = 0"))
    other = sqlite3.connect(settings.ledger.db, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StorageError):
            await ledger.deposit(key="d1", msisdn=AGENT, amount_fen=1_000, channel="online")
        first = ledger.writer.failure
        assert first is not None and first.error == "database is locked"
        assert await ledger.writer.probe(5.0) == "database is locked"
        assert ledger.writer.failure is not None and ledger.writer.failure.since == first.since
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert await ledger.writer.probe(5.0) is None
    assert ledger.writer.failure is None
    await ledger.writer.run(lambda conn: conn.execute("PRAGMA busy_timeout = 10000"))


def fill_disk(conn: sqlite3.Connection) -> None:
    """Write more than the file may grow by: SQLITE_FULL, as on a full disk."""
    limit = conn.execute("PRAGMA max_page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
    try:
        conn.execute("INSERT INTO meta (key, value) VALUES ('filler', ?)", ("x" * 100_000,))
    finally:
        conn.execute(f"PRAGMA max_page_count = {limit}")


def duplicate_key(conn: sqlite3.Connection) -> None:
    conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', 'x')")


def no_such_table(conn: sqlite3.Connection) -> None:
    conn.execute("SELECT * FROM no_such_table")


@pytest.mark.parametrize("operation, failing", [
    pytest.param(fill_disk, True, id="disk-full"),
    pytest.param(duplicate_key, False, id="constraint"),
    pytest.param(no_such_table, False, id="programming-error"),
])
@pytest.mark.sqlite_only
async def test_an_operation_hit_by_a_storage_error_marks_storage_failing(
        ledger: Ledger, operation: Callable[[sqlite3.Connection], None], failing: bool) -> None:
    """Disk full inside an operation is a storage failure though its batch commits; a refused
    constraint or a bad query is the operation's own error."""
    with pytest.raises(StorageError):
        await ledger.writer.run(operation)
    assert (ledger.writer.failure is not None) == failing
    assert ledger.writer.failure is None or "full" in ledger.writer.failure.error
    assert await ledger.writer.run(lambda conn: 1) == 1
    assert ledger.writer.failure is None


async def test_the_probe_commits_a_heartbeat(ledger: Ledger, sql: Sql) -> None:
    """``probe`` commits the ``meta`` heartbeat row through the queue: None when it did."""
    assert await ledger.writer.probe(5.0) is None
    [(beat,)] = await sql("SELECT value FROM meta WHERE key = 'heartbeat'")
    assert beat.endswith("+00:00")


async def test_a_stuck_writer_fails_the_probe(ledger: Ledger) -> None:
    """A writer that does not get to the heartbeat within the timeout says so (nothing hangs)."""
    async with held(ledger.writer):
        assert await ledger.writer.probe(0.05) == "the writer did not commit within 0.05 s"
    assert await ledger.writer.probe(5.0) is None


async def test_a_closed_writer_fails_the_probe(tmp_path: Path) -> None:
    """After ``aclose`` the probe reports the storage error instead of raising."""
    writer = Writer(str(tmp_path / "w.db"), synchronous="OFF")
    assert await writer.probe(1.0) == "E_STORAGE"


@pytest.mark.sqlite_only
async def test_a_full_disk_fails_its_whole_batch_and_commits_nothing(
        agent: dict[str, Any], ledger: Ledger) -> None:
    """R-15: SQLite rolls the batch back on a full disk: every operation in it fails, none sticks."""
    async with held(ledger.writer):
        results = asyncio.gather(
            ledger.deposit(key="before", msisdn=AGENT, amount_fen=1_000, channel="online"),
            ledger.writer.run(fill_disk),
            ledger.deposit(key="after", msisdn=AGENT, amount_fen=2_000, channel="online"),
            return_exceptions=True)
    failed = await results
    assert all(isinstance(r, StorageError) for r in failed), failed
    assert all("full" in str(r.__cause__) for r in failed if isinstance(r, StorageError))
    assert ledger.writer.failure is not None
    assert await available(ledger) == 50_000  # an operation that commits: no longer failing
    assert ledger.writer.failure is None
    done = await ledger.deposit(key="after", msisdn=AGENT, amount_fen=2_000, channel="online")
    assert done.balance_fen == 52_000
