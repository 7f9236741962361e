"""The online backup: a consistent copy of a live ledger, atomic, checked, never overwriting."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from ledger_support import AGENT, LANDLINE, MGMT, TX, clean, recharge

from ledger import Ledger
from ledger.store import migrations
from ledger.store.backup import Backup, BackupError, Failure, backup
from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.settings import Settings
from smsmenu.core.types import TargetKind
from smsmenu.states.notices import SmsNotices

pytestmark = pytest.mark.sqlite_only  # the SQLite online backup API (PostgreSQL: pg_dump)

SECOND_AGENT = "18912340000"


@asynccontextmanager
async def restored(settings: Settings, path: Path, billing: BillingSimulator,
                   clock: ManualClock) -> AsyncIterator[Ledger]:
    """The backup opened as a fresh database by a new Ledger (the restore of the drill)."""
    fresh = settings.replace("ledger", db=str(path))
    async with await Ledger.open(fresh, billing, clock, notifier=SmsNotices(),
                                 secret=b"k" * 32) as opened:
        yield opened


async def balance(ledger: Ledger, msisdn: str = AGENT) -> int:
    return int((await ledger.agent(msisdn)).balance_fen)


def leftovers(directory: Path) -> list[str]:
    """Temporary files the backup may have left in ``directory``."""
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


async def test_backup_of_a_live_ledger_while_a_writer_commits(
        agent: dict[str, object], ledger: Ledger, settings: Settings, billing: BillingSimulator,
        clock: ManualClock, tmp_path: Path) -> None:
    """Deposits keep committing during three backups; each copy is one consistent moment:
    verify() is clean on it and its balance lies between the balances before and after."""
    stop = asyncio.Event()
    deposits = 0

    async def writer() -> None:
        nonlocal deposits
        while not stop.is_set():
            deposits += 1
            await ledger.deposit(key=f"live-{deposits}", msisdn=AGENT, amount_fen=50_000,
                                 channel="counter")

    task = asyncio.create_task(writer())
    copies: list[tuple[int, Backup, int]] = []
    try:
        for n in range(3):
            await asyncio.sleep(0.05)
            before = await balance(ledger)
            made = await asyncio.to_thread(backup, settings.ledger.db, str(tmp_path / f"b{n}.db"))
            copies.append((before, made, await balance(ledger)))
    finally:
        stop.set()
        await task
    assert any(after > before for before, _, after in copies), "commits during a backup"
    for before, made, after in copies:
        assert (made.integrity, made.pages > 0, made.bytes) == ("ok", True,
                                                                 made.pages * made.page_size)
        async with restored(settings, Path(made.target), billing, clock) as copy:
            assert clean(await copy.verify())
            assert before <= await balance(copy) <= after
    assert leftovers(tmp_path) == []


async def test_restore_drill_verify_and_reconcile_clean_same_balances(
        agent: dict[str, object], ledger: Ledger, settings: Settings, billing: BillingSimulator,
        clock: ManualClock, tmp_path: Path) -> None:
    """Agents, deposits and recharges (one refused by BOSS); backed up, opened as a fresh
    database by a new Ledger: verify() and the day's reconcile against the same BOSS are clean,
    every balance and the schema version are the same."""
    await ledger.open_agent(msisdn=SECOND_AGENT, name="小李", tx_password=TX, mgmt_password=MGMT)
    await ledger.deposit(key="d2", msisdn=SECOND_AGENT, amount_fen=50_000, channel="counter")
    await recharge(ledger, "r1", 10_000)
    await recharge(ledger, "r2", 5_000, kind=TargetKind.LANDLINE, target=LANDLINE)
    await recharge(ledger, "r3", 2_000, msisdn=SECOND_AGENT)
    billing.fail_next(1)
    await recharge(ledger, "r4", 3_000)
    day = dt.date(2026, 11, 10)
    live = await ledger.reconcile(day)
    assert live.clean and live.posted_fen == 17_000
    made = backup(settings.ledger.db, str(tmp_path / "drill.db"))
    async with restored(settings, tmp_path / "drill.db", billing, clock) as copy:
        assert clean(await copy.verify())
        report = await copy.reconcile(day)
        assert report.clean and report == live
        for msisdn in (AGENT, SECOND_AGENT):
            assert await copy.agent(msisdn) == await ledger.agent(msisdn)
    assert made.schema_version == migrations.latest()
    with sqlite3.connect(made.target) as conn:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    conn.close()
    assert mode == "wal", "the restored database is the server's again (WAL set on open)"


def test_backup_reports_its_figures_and_stands_alone(tmp_path: Path) -> None:
    """A WAL database's copy: one file (no -wal beside it), its pages, bytes, schema version."""
    source = tmp_path / "live.db"
    with sqlite3.connect(source) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        conn.execute("INSERT INTO meta VALUES ('schema_version', '4')")
    conn.close()
    made = backup(str(source), str(tmp_path / "copy.db"))
    assert (made.source, made.target, made.schema_version, made.integrity) == (
        str(source), str(tmp_path / "copy.db"), 4, "ok")
    assert made.bytes == (tmp_path / "copy.db").stat().st_size == made.pages * made.page_size
    assert made.seconds >= 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.db", "live.db"]
    with sqlite3.connect(tmp_path / "copy.db") as copy:
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert copy.execute("SELECT value FROM meta").fetchall() == [("4",)]
    copy.close()


def test_an_existing_target_is_never_overwritten_without_force(tmp_path: Path) -> None:
    """Without ``force`` an existing file stays as it was; with it, it is replaced."""
    source = tmp_path / "live.db"
    sqlite3.connect(source).close()
    with sqlite3.connect(source) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    target = tmp_path / "keep.db"
    target.write_bytes(b"someone else's file")
    with pytest.raises(BackupError) as refused:
        backup(str(source), str(target))
    assert (refused.value.failure, refused.value.path) == (Failure.EXISTS, str(target))
    assert target.read_bytes() == b"someone else's file"
    made = backup(str(source), str(target), force=True)
    assert made.integrity == "ok" and target.read_bytes().startswith(b"SQLite format 3\0")
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("where", [pytest.param("missing-dir/b.db", id="no-directory"),
                                   pytest.param("a-file/b.db", id="directory-is-a-file")])
def test_an_unwritable_target_fails_cleanly(tmp_path: Path, where: str) -> None:
    """A target that cannot be written: UNWRITABLE naming it, nothing left behind."""
    source = tmp_path / "live.db"
    with sqlite3.connect(source) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    (tmp_path / "a-file").write_text("not a directory")
    with pytest.raises(BackupError) as refused:
        backup(str(source), str(tmp_path / where))
    assert (refused.value.failure, refused.value.path) == (Failure.UNWRITABLE,
                                                           str(tmp_path / where))
    assert refused.value.detail
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("source", [pytest.param("absent.db", id="absent"),
                                    pytest.param(":memory:", id="memory"),
                                    pytest.param(".", id="a-directory")])
def test_a_missing_database_is_refused_and_not_created(tmp_path: Path, source: str) -> None:
    """No database at the source: MISSING; neither the source nor the target is created."""
    path = source if source == ":memory:" else str(tmp_path / source)
    with pytest.raises(BackupError) as refused:
        backup(path, str(tmp_path / "b.db"))
    assert refused.value.failure is Failure.MISSING
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_corrupt_copy_is_refused_and_nothing_is_put_in_place(tmp_path: Path) -> None:
    """A source with a damaged page: the copy fails integrity_check; no target, no temp file."""
    source = tmp_path / "live.db"
    with sqlite3.connect(source) as conn:
        conn.execute("CREATE TABLE t (x TEXT)")
        conn.execute("CREATE INDEX t_x ON t (x)")
        conn.executemany("INSERT INTO t VALUES (?)", [(f"row {i:05d}" * 4,) for i in range(3000)])
    conn.close()
    data = bytearray(source.read_bytes())
    page = 4096
    data[page * 5 + 100:page * 5 + 1100] = b"\xff" * 1000
    source.write_bytes(bytes(data))
    with pytest.raises(BackupError) as refused:
        backup(str(source), str(tmp_path / "b.db"))
    assert (refused.value.failure, refused.value.path) == (Failure.CORRUPT, str(source))
    assert refused.value.detail and refused.value.detail != "ok"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live.db"]
