"""Versioned schema migrations: fresh, adopted (committed fixtures from older code), partial, concurrent."""

from __future__ import annotations

import re
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ledger_support import AGENT, CUSTOMER, clean, recharge

from ledger import Ledger
from ledger.store import migrations, schema
from ledger.store.migrations import Migration, Report, SchemaTooNew
from ledger.store.migrations.sqlite_runner import SqliteMigrator, statements
from ledger.store.writer import connect
from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.settings import Settings
from smsmenu.states.notices import SmsNotices

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LATEST = migrations.latest()
SECRET = b"k" * 32
"""The secret the fixtures were made with (tests/fixtures/make_db.py)."""
OLD_CODE = [
    pytest.param("db_v1.sqlite3", id="made-at-57547df"),
    pytest.param("db_between.sqlite3", id="made-at-50402a0"),
]


def fresh(path: Path | str = ":memory:", target: int | None = None) -> sqlite3.Connection:
    conn = connect(str(path), "OFF")
    schema.migrate(conn, target)
    return conn


def objects(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """Every table, index and trigger with its SQL as SQLite stores it (ALTERs included)."""
    return conn.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE "
                        "'sqlite_%' ORDER BY type, name").fetchall()


def layout(conn: sqlite3.Connection) -> dict[str, Any]:
    """Tables with their columns (name, type, not null, default, key: order aside), indexes and
    triggers by name."""
    found: dict[str, Any] = {}
    for kind, name, _ in objects(conn):
        if kind == "table":
            found[name] = sorted(tuple(row[1:]) for row in conn.execute(f"PRAGMA table_info({name})"))
        else:
            found[name] = kind
    return found


def versions(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    return conn.execute("SELECT version, how FROM schema_migrations ORDER BY version").fetchall()


def meta_version(conn: sqlite3.Connection) -> str:
    return str(conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])


@pytest.fixture
def copy(tmp_path: Path) -> Callable[[str], Path]:
    """A committed fixture copied to the test's temp dir (the original is never opened)."""
    def make(name: str) -> Path:
        target = tmp_path / name
        shutil.copyfile(FIXTURES / name, target)
        return target
    return make


# -- a fresh database ---------------------------------------------------------------------------
def test_a_fresh_database_gets_every_version_in_order() -> None:
    """Versions 1..latest, each recorded as applied; meta follows; the fixed accounts exist."""
    conn = fresh()
    assert versions(conn) == [(v, "applied") for v in range(1, LATEST + 1)]
    assert meta_version(conn) == str(LATEST) == str(schema.SCHEMA_VERSION)
    rows = conn.execute("SELECT id, code, kind, no_overdraft FROM accounts ORDER BY id").fetchall()
    assert rows == schema.FIXED_ACCOUNTS


def test_migrating_twice_changes_nothing() -> None:
    """A second run applies nothing and reports the same version on both sides."""
    conn = fresh()
    before = (objects(conn), conn.execute("SELECT * FROM schema_migrations").fetchall())
    again = schema.migrate(conn)
    assert (again.from_version, again.to_version, again.applied, again.adopted) == (
        LATEST, LATEST, (), False)
    assert (objects(conn), conn.execute("SELECT * FROM schema_migrations").fetchall()) == before


def test_the_packaged_migrations_are_numbered_without_gaps() -> None:
    """Files NNNN_name.sql, 1..N; each splits into complete statements."""
    found = migrations.load()
    assert [m.version for m in found] == list(range(1, LATEST + 1))
    assert all(re.fullmatch(r"\d{4}_[a-z0-9_]+", m.name) for m in found)
    assert all(statements(m.sql) for m in found)


def test_migrations_only_expand() -> None:
    """No migration drops or renames (contract steps come in a later version, on their own)."""
    for migration in migrations.load():
        code = "\n".join(statements(migration.sql)).upper()
        assert not re.search(r"\bDROP\b|\bRENAME\b", code), migration.name


def test_every_migration_may_run_again() -> None:
    """Each migration run once more over the latest schema fails nowhere and changes nothing:
    what adopting a database that already has some of it relies on."""
    conn = fresh()
    before = objects(conn)
    runner = SqliteMigrator(conn)
    for migration in runner.migrations:
        with runner.exclusive():
            runner.execute(migration)
    assert objects(conn) == before


@pytest.mark.parametrize(("sql", "expected"), [
    pytest.param("-- a comment\nCREATE TABLE a (x);\n\nCREATE TABLE b (y);\n",
                 ["CREATE TABLE a (x);", "CREATE TABLE b (y);"], id="two"),
    pytest.param("CREATE TRIGGER t BEFORE DELETE ON a\nBEGIN SELECT RAISE(ABORT, 'no'); END;\n",
                 ["CREATE TRIGGER t BEFORE DELETE ON a\nBEGIN SELECT RAISE(ABORT, 'no'); END;"],
                 id="trigger-whole"),
    pytest.param("INSERT INTO a VALUES ('x;\n-- y');\n", ["INSERT INTO a VALUES ('x;\n-- y');"],
                 id="semicolon-in-a-string"),
])
def test_statements_split_where_sqlite_says(sql: str, expected: list[str]) -> None:
    """Statements end where SQLite's tokenizer says one is complete, not at every semicolon."""
    assert statements(sql) == expected


def test_an_incomplete_statement_is_refused() -> None:
    """A migration ending mid-statement is an error, not silently dropped."""
    with pytest.raises(ValueError, match="incomplete"):
        statements("CREATE TABLE a (x);\nCREATE TABLE b (y)\n")


# -- databases made by older code --------------------------------------------------------------
@pytest.mark.parametrize("name", OLD_CODE)
async def test_a_database_from_older_code_is_adopted_and_works(
        name: str, copy: Callable[[str], Path], settings: Settings, billing: BillingSimulator,
        clock: ManualClock) -> None:
    """Opened with today's code: adopted as version 1, migrated to the latest, its data intact,
    ``ledger verify`` clean, its menu dialog kept, and a recharge goes through."""
    settings = settings.replace("ledger", db=str(copy(name)))
    async with await Ledger.open(settings, billing, clock, notifier=SmsNotices(), secret=SECRET) as ledger:
        shown = await ledger.agent(AGENT)
        assert (shown.balance_fen, shown.reserved_fen) == (40_200, 0)
        [old] = await ledger.records(AGENT)
        assert (old.id, old.status, old.amount, old.commission) == (1, "succeeded", 10_000, 200)
        assert clean(await ledger.verify())
        done = await recharge(ledger, "after-migration", 5_000)
        assert done.status == "succeeded" and done.recharge_id == 2
        assert (await ledger.agent(AGENT)).balance_fen == 40_200 - 4_900
        assert clean(await ledger.verify())

        def rows(conn: sqlite3.Connection) -> dict[str, Any]:
            return {
                "versions": versions(conn), "meta": meta_version(conn),
                "operators": conn.execute("SELECT name, role FROM web_operators").fetchall(),
                "sessions": conn.execute("SELECT msisdn, channel, state FROM menu_sessions "
                                         "UNION ALL SELECT msisdn, 'old', state FROM sessions")
                .fetchall(),
                "lock": conn.execute("SELECT tx_lock_step, web_failures FROM agents").fetchall(),
            }
        found = await ledger.writer.run(rows)
    assert found == {
        "versions": [(1, "adopted"), *((v, "applied") for v in range(2, LATEST + 1))],
        "meta": str(LATEST), "operators": [("li", "supervisor")],
        "sessions": [(AGENT, "sms", "kind")], "lock": [(0, 0)],
    }


@pytest.mark.parametrize("name", OLD_CODE)
def test_an_adopted_database_has_the_fresh_layout(name: str, copy: Callable[[str], Path]) -> None:
    """Same tables, columns, indexes and triggers as a fresh database; from version 1 even the
    stored SQL is the same (the same statements ran)."""
    adopted = connect(str(copy(name)), "OFF")
    report = schema.migrate(adopted)
    assert (report.from_version, report.to_version, report.adopted) == (1, LATEST, True)
    assert [m.version for m in report.applied] == list(range(1, LATEST + 1))
    assert layout(adopted) == layout(fresh())
    if name == "db_v1.sqlite3":
        assert objects(adopted) == objects(fresh())


def test_tables_without_versions_are_adopted_too(tmp_path: Path) -> None:
    """Tables but no ``meta`` row and no ``schema_migrations`` (an interrupted first open of the
    old code): version 1 runs over them, filling in what is missing, and is recorded adopted."""
    conn = connect(str(tmp_path / "odd.db"), "OFF")
    conn.execute("CREATE TABLE inbox (key TEXT PRIMARY KEY, msisdn TEXT NOT NULL, replies TEXT "
                 "NOT NULL, final INTEGER NOT NULL, at TEXT NOT NULL) STRICT, WITHOUT ROWID")
    conn.execute("INSERT INTO inbox VALUES ('k', '1', '[]', 1, 'a')")
    report = schema.migrate(conn)
    assert (report.from_version, report.to_version, report.adopted) == (0, LATEST, True)
    assert layout(conn) == layout(fresh())
    assert conn.execute("SELECT key FROM inbox").fetchall() == [("k",)]


# -- partial, newer, concurrent ------------------------------------------------------------------
@pytest.mark.parametrize("stopped", [pytest.param(k, id=f"after-v{k}") for k in range(1, LATEST)])
def test_a_partly_migrated_database_goes_on_from_where_it_stopped(
        stopped: int, tmp_path: Path) -> None:
    """Stopped after version k, the next run applies k+1..latest only: the fresh result."""
    conn = fresh(tmp_path / "partial.db", target=stopped)
    assert meta_version(conn) == str(stopped)
    report = schema.migrate(conn)
    assert (report.from_version, report.to_version) == (stopped, LATEST)
    assert [m.version for m in report.applied] == list(range(stopped + 1, LATEST + 1))
    assert objects(conn) == objects(fresh())


def test_a_failing_migration_leaves_the_last_version_that_committed() -> None:
    """Each version is one transaction: a failure rolls back that version alone."""
    broken = (*migrations.load(), Migration(LATEST + 1, "9999_broken",
                                            "CREATE TABLE half (x);\nSELECT * FROM no_such;\n"))
    conn = fresh()
    with pytest.raises(sqlite3.OperationalError, match="no_such"):
        SqliteMigrator(conn, broken).migrate()
    assert meta_version(conn) == str(LATEST) and len(versions(conn)) == LATEST
    assert "half" not in layout(conn) and not conn.in_transaction


@pytest.mark.parametrize("newer", [
    pytest.param("recorded", id="in-schema_migrations"),
    pytest.param("meta-only", id="meta-without-schema_migrations"),
])
async def test_a_database_newer_than_the_code_is_refused(
        newer: str, tmp_path: Path, settings: Settings, billing: BillingSimulator,
        clock: ManualClock) -> None:
    """Version latest+1 (from newer code): neither migrated nor opened; nothing changes."""
    path = tmp_path / "newer.db"
    conn = fresh(path)
    if newer == "recorded":
        conn.execute("INSERT INTO schema_migrations VALUES (?, 'future', 'now', 'applied')",
                     (LATEST + 1,))
    else:
        conn.execute("DROP TABLE schema_migrations")
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(LATEST + 1),))
    before = objects(conn)
    with pytest.raises(SchemaTooNew) as refused:
        schema.migrate(conn)
    message = f"database schema v{LATEST + 1} is newer than this code (v{LATEST})"
    assert refused.value.message("en") == message and refused.value.exit_code == 78
    with pytest.raises(SchemaTooNew, match=re.escape(message)):
        await Ledger.open(settings.replace("ledger", db=str(path)), billing, clock,
                          notifier=SmsNotices(), secret=SECRET)
    assert objects(conn) == before and meta_version(conn) == str(LATEST + 1)


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    """Released at the end of the test whatever happens (no thread left waiting)."""
    event = threading.Event()
    yield event
    event.set()


def test_a_second_migrator_waits_for_the_first(tmp_path: Path, gate: threading.Event) -> None:
    """While one migrator is inside a version (BEGIN IMMEDIATE), another waits for the lock;
    afterwards each version was applied exactly once, the held one by the first migrator."""
    steps = (Migration(1, "0001_base", "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);\n"),
             Migration(2, "0002_slow", "SELECT pause();\nCREATE TABLE slow (x);\n"),
             Migration(3, "0003_more", "CREATE TABLE more (x);\n"))
    inside = threading.Event()
    path = str(tmp_path / "race.db")
    reports: dict[str, Report] = {}

    def migrator(name: str, pause: Callable[[], int]) -> threading.Thread:
        conn = connect(path, "OFF")
        conn.create_function("pause", 0, pause)

        def run() -> None:
            try:
                reports[name] = SqliteMigrator(conn, steps).migrate()
            finally:
                conn.close()
        return threading.Thread(target=run, name=f"migrator-{name}")

    def held() -> int:
        inside.set()
        gate.wait(10)
        return 0

    first, second = migrator("first", held), migrator("second", lambda: 0)
    first.start()
    assert inside.wait(5)
    second.start()
    time.sleep(0.3)
    assert second.is_alive() and "second" not in reports  # waiting on BEGIN IMMEDIATE
    gate.set()
    first.join(10)
    second.join(10)
    applied = {name: [m.version for m in r.applied] for name, r in reports.items()}
    assert 2 in applied["first"] and 2 not in applied["second"]
    assert sorted(applied["first"] + applied["second"]) == [1, 2, 3]
    conn = connect(path, "OFF")
    assert [v for v, _ in versions(conn)] == [1, 2, 3] and meta_version(conn) == "3"
    conn.close()


def test_migrators_racing_on_a_new_database_apply_each_version_once(tmp_path: Path) -> None:
    """Four processes' worth of migrators started together: every version recorded once."""
    path = str(tmp_path / "race.db")
    start = threading.Barrier(4)
    reports: list[Report] = []

    def run() -> None:
        conn = connect(path, "OFF")
        try:
            start.wait(5)
            reports.append(schema.migrate(conn))
        finally:
            conn.close()
    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(reports) == 4
    assert sorted(m.version for r in reports for m in r.applied) == list(range(1, LATEST + 1))
    conn = connect(path, "OFF")
    assert [v for v, _ in versions(conn)] == list(range(1, LATEST + 1))
    conn.close()


# -- the catch-up and the DDL constants still in other modules ---------------------------------
def test_rows_old_code_writes_to_sessions_later_become_sms_dialogs() -> None:
    """Code before version 3 may still write ``sessions`` beside new code: each open moves
    those rows to ``menu_sessions`` (SMS dialogs), as the code before versioning did."""
    conn = fresh()
    conn.execute("INSERT INTO sessions VALUES (?, 'kind', '{}', 1, 'a')", (CUSTOMER,))
    schema.create(conn)
    assert conn.execute("SELECT msisdn, channel, state FROM menu_sessions").fetchall() == [
        (CUSTOMER, "sms", "kind")]
    assert conn.execute("SELECT count(*) FROM sessions").fetchone() == (0,)




def test_connections_opened_together_on_a_new_file_all_get_wal(tmp_path: Path) -> None:
    """Eight servers opening and migrating one new file at once all succeed, 20 times over
    (SQLite answers a WAL switch racing another "database is locked" without waiting; connect
    retries; before it did, about one round in 13 failed)."""
    for round_ in range(20):
        path = str(tmp_path / f"together-{round_}.db")
        start = threading.Barrier(8)
        modes: list[str] = []
        errors: list[str] = []

        def run(path: str = path, start: threading.Barrier = start,
                modes: list[str] = modes, errors: list[str] = errors) -> None:
            start.wait(5)
            try:
                conn = connect(path, "OFF")
                try:
                    schema.migrate(conn)
                    modes.append(conn.execute("PRAGMA journal_mode").fetchone()[0])
                finally:
                    conn.close()
            except sqlite3.Error as exc:
                errors.append(repr(exc))
        threads = [threading.Thread(target=run) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert (errors, modes) == ([], ["wal"] * 8), round_
