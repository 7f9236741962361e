"""The engine choice (URL or path), the PostgreSQL adapter's SQL translation and its migrations."""

from __future__ import annotations

import asyncio
import re

import psycopg
import pytest
from pg import Cluster

from ledger.store import engine, migrations
from ledger.store.engine import Engine
from ledger.store.migrations import SchemaTooOld
from ledger.store.migrations.postgres_runner import PostgresMigrator
from ledger.store.pg import PgConn, connect, translate
from ledger.store.pg_writer import PgWriter
from ledger.store.schema import require
from smsmenu.core.settings import ConfigError


@pytest.mark.parametrize(("text", "kind", "target"), [
    ("var/smsmenu.db", Engine.SQLITE, "var/smsmenu.db"),
    ("sqlite:///var/smsmenu.db", Engine.SQLITE, "var/smsmenu.db"),
    ("sqlite:////srv/smsmenu.db", Engine.SQLITE, "/srv/smsmenu.db"),
    (":memory:", Engine.SQLITE, ":memory:"),
    ("postgresql://sms@db:5432/smsmenu", Engine.POSTGRES, "postgresql://sms@db:5432/smsmenu"),
    ("postgres://sms@db/smsmenu", Engine.POSTGRES, "postgres://sms@db/smsmenu"),
])
def test_the_url_or_path_chooses_the_engine(text: str, kind: Engine, target: str) -> None:
    """A bare path or sqlite:///PATH is SQLite; postgresql:// (or postgres://) is PostgreSQL."""
    found = engine.parse(text)
    assert (found.engine, found.target) == (kind, target)


@pytest.mark.parametrize("url", ["postgresql://sms:s3cret-pw@db:5432/smsmenu",
                                 "postgresql://sms@db/smsmenu?password=s3cret-pw"])
def test_a_url_with_a_password_is_refused_without_showing_it(url: str) -> None:
    """The password comes from PGPASSWORD or .pgpass only: a URL with one is refused, masked."""
    with pytest.raises(ConfigError) as refused:
        engine.parse(url)
    assert "s3cret-pw" not in str(refused.value)
    assert "PGPASSWORD" in str(refused.value)
    assert ConfigError.exit_code == 78


def test_an_unknown_scheme_is_refused() -> None:
    """mysql://... is no engine of ours: refused (exit 78), not taken for a file name."""
    with pytest.raises(ConfigError, match="unknown database URL"):
        engine.parse("mysql://u@h/db")


def test_translation_of_placeholders_and_percent_signs() -> None:
    """? and ?N become %s (numbered ones reorder the parameters); literal % is doubled, also
    inside quotes; a ? inside a string literal stays."""
    assert translate("SELECT a FROM t WHERE b = ? AND c = ?") == (
        "SELECT a FROM t WHERE b = %s AND c = %s", None)
    assert translate("UPDATE t SET x = x + ?1 WHERE id = ?2 AND x + ?1 >= 0") == (
        "UPDATE t SET x = x + %s WHERE id = %s AND x + %s >= 0", (0, 1, 0))
    sql, order = translate("SELECT 1 WHERE a LIKE ('% ' || ? || ' %') AND b = '?'")
    assert sql == "SELECT 1 WHERE a LIKE ('%% ' || %s || ' %%') AND b = '?'" and order is None


def test_both_engines_have_the_same_versions() -> None:
    """Every schema version exists in both dialects, with the same number and name."""
    names = {e: [m.name for m in migrations.load(e)] for e in migrations.ENGINES}
    assert names["postgres"] == names["sqlite"]


def test_postgres_migrations_match_the_sqlite_tables(pg_cluster: Cluster) -> None:
    """The migrated template has every table and column the SQLite schema has."""
    import sqlite3

    from ledger.store import schema
    lite = sqlite3.connect(":memory:", isolation_level=None)
    schema.create(lite)
    tables = {r[0] for r in lite.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                         "AND name NOT LIKE 'sqlite_%'")}
    expected = {(t, r[1]) for t in tables for r in lite.execute(f"PRAGMA table_info({t})")}
    with psycopg.connect(pg_cluster.url("smsmenu_template")) as conn:
        found = {(str(t), str(c)) for t, c in conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public'")}
    assert expected == found


def test_migrate_takes_an_advisory_lock_and_a_server_refuses_an_older_schema(
        pg_cluster: Cluster) -> None:
    """Two migrators at once apply each version once; a database one version behind the code
    is refused by the server's start-up check with exit 78, naming `db migrate`."""
    with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
        admin.execute("CREATE DATABASE mig_lock")
    url = pg_cluster.url("mig_lock")
    try:
        with connect(url) as first:
            behind = PostgresMigrator(first)
            behind.migrate(behind.latest - 1)
        pgconn = PgConn(connect(url))
        with pytest.raises(SchemaTooOld, match=re.escape("smsmenu db migrate")) as old:
            require(pgconn)  # type: ignore[arg-type]
        assert old.value.exit_code == 78
        with connect(url) as a, connect(url) as b:
            reports = [PostgresMigrator(a).migrate(), PostgresMigrator(b).migrate()]
        assert [len(r.applied) for r in reports] == [1, 0]
        require(pgconn)  # type: ignore[arg-type]
        pgconn.close()
    finally:
        with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
            admin.execute("DROP DATABASE mig_lock WITH (FORCE)")


async def test_the_pg_writer_retries_a_deadlocked_batch(pg_url: str) -> None:
    """Two writers locking two rows in opposite orders deadlock; PostgreSQL aborts one, whose
    batch runs again whole: both operations commit, each once."""
    one, two = PgWriter(pg_url), PgWriter(pg_url)
    one.start()
    two.start()
    gate = asyncio.Event()
    loop = asyncio.get_running_loop()

    def bump(first: str, second: str) -> int:
        def op(conn: PgConn) -> int:
            conn.execute("INSERT INTO meta (key, value) VALUES (?, '0') ON CONFLICT DO NOTHING",
                         (first,))
            conn.execute("SELECT value FROM meta WHERE key = ? FOR UPDATE", (first,))
            loop.call_soon_threadsafe(gate.set)
            import time
            time.sleep(0.2)
            conn.execute("INSERT INTO meta (key, value) VALUES (?, '0') ON CONFLICT DO NOTHING",
                         (second,))
            conn.execute("UPDATE meta SET value = (value::int + 1)::text WHERE key IN (?, ?)",
                         (first, second))
            return 1
        return op  # type: ignore[return-value]

    with psycopg.connect(pg_url, autocommit=True) as c:
        c.execute("INSERT INTO meta (key, value) VALUES ('x', '0'), ('y', '0')")
    results = await asyncio.gather(one.run(bump("x", "y")), two.run(bump("y", "x")))  # type: ignore[arg-type]
    await one.aclose()
    await two.aclose()
    assert results == [1, 1]
    assert one.retries + two.retries >= 1
    with psycopg.connect(pg_url) as c:
        values = dict(c.execute("SELECT key, value FROM meta WHERE key IN ('x', 'y')").fetchall())
    assert values == {"x": "2", "y": "2"}


async def test_one_step_of_an_agent_at_a_time_across_instances(pg_url: str) -> None:
    """The dialog lock (menu_sessions.lock) held by one instance's step makes another
    instance's step of the same agent wait for its commit; another agent's step does not wait."""
    import time

    from ledger.store import menu_sessions
    writers = [PgWriter(pg_url), PgWriter(pg_url), PgWriter(pg_url)]
    for w in writers:
        w.start()
    spans: dict[str, tuple[float, float]] = {}

    def step(name: str, msisdn: str, hold: float) -> object:
        def op(conn: PgConn) -> None:
            menu_sessions.lock(conn, msisdn)  # type: ignore[arg-type]
            start = time.monotonic()
            time.sleep(hold)
            spans[name] = (start, time.monotonic())
        return op

    first = asyncio.ensure_future(writers[0].run(step("a1", "18900000001", 0.3)))  # type: ignore[arg-type]
    await asyncio.sleep(0.1)
    await asyncio.gather(first, writers[1].run(step("a2", "18900000001", 0.0)),  # type: ignore[arg-type]
                         writers[2].run(step("b", "18900000002", 0.0)))  # type: ignore[arg-type]
    for w in writers:
        await w.aclose()
    assert spans["a2"][0] >= spans["a1"][1]  # waited for the first step's commit
    assert spans["b"][0] < spans["a1"][1]  # another agent: no wait


async def test_a_lost_connection_fails_the_batch_then_the_writer_reconnects(pg_url: str) -> None:
    """The server drops the writer's connection (a restart, a failover): the next batch fails
    as storage failing (readiness reports it), the one after reconnects and clears it."""
    writer = PgWriter(pg_url)
    writer.start()
    try:
        pid = await writer.run(lambda conn: conn.raw.info.backend_pid)  # type: ignore[attr-defined]
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        assert await writer.probe(5.0) is not None
        assert writer.failure is not None
        assert await writer.probe(5.0) is None
        assert writer.failure is None
    finally:
        await writer.aclose()


async def test_the_writer_warns_when_the_server_does_not_make_commits_durable(
        pg_url: str) -> None:
    """The durability promise rests on synchronous_commit: the test cluster runs with it off
    (speed), and the writer says so at start with the setting to fix."""
    from structlog.testing import capture_logs
    writer = PgWriter(pg_url)
    with capture_logs() as logs:
        writer.start()
    await writer.aclose()
    assert writer.synchronous == "OFF"
    assert any(e["event"] == "ledger.commits_not_durable" and "synchronous_commit" in e["hint"]
               for e in logs)


def test_a_server_runs_on_the_next_schema_version_not_on_two_ahead(pg_url: str) -> None:
    """Rolling upgrade on PostgreSQL: after `db migrate` for version N+1, servers of version N
    still start (N+1 only expands); a schema two versions ahead is refused (exit 78)."""
    from ledger.store.migrations import SchemaTooNew
    latest = migrations.latest("postgres")
    pgconn = PgConn(connect(pg_url))
    try:
        for ahead in (1, 2):
            pgconn.execute("INSERT INTO schema_migrations (version, name, applied_at, how) "
                           "VALUES (?, ?, '2026-11-25T00:00:00+00:00', 'applied')",
                           (latest + ahead, f"{latest + ahead:04d}_future"))
            if ahead == 1:
                require(pgconn)  # type: ignore[arg-type]
            else:
                with pytest.raises(SchemaTooNew):
                    require(pgconn)  # type: ignore[arg-type]
    finally:
        pgconn.execute("DELETE FROM schema_migrations WHERE version > ?", (latest,))
        pgconn.close()


async def test_two_instances_claiming_the_outbox_at_once_take_disjoint_messages(
        pg_url: str) -> None:
    """The outbox claim selects FOR UPDATE SKIP LOCKED: two instances draining at the same
    moment lease different messages (none sent twice), and together all of them."""
    import time

    from ledger import outbox
    writers = [PgWriter(pg_url), PgWriter(pg_url)]
    for w in writers:
        w.start()
    now, until = "2026-11-25T10:00:00.000000Z", "2026-11-25T10:01:00.000000Z"

    def queue(conn: PgConn) -> None:
        for i in range(40):
            outbox.enqueue(conn, f"189{i:08d}", "hi", "receipt", now)  # type: ignore[arg-type]

    def claim(holder: str) -> object:
        def op(conn: PgConn) -> list[int]:
            got = outbox.claim(conn, now, until, limit=25, holder=holder)  # type: ignore[arg-type]
            time.sleep(0.2)  # hold the rows while the other instance claims
            return [r.outbox_id for r in got]
        return op

    await writers[0].run(queue)  # type: ignore[arg-type]
    a, b = await asyncio.gather(writers[0].run(claim("a")), writers[1].run(claim("b")))  # type: ignore[arg-type]
    for w in writers:
        await w.aclose()
    assert not set(a) & set(b)
    assert len(a) + len(b) == 40
