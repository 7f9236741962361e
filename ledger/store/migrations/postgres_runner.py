"""The PostgreSQL runner: an advisory lock as the migrators' lock, each version one transaction.

``smsmenu db migrate`` (and nothing else on PostgreSQL: a server refuses an older schema rather
than migrating it, so N instances starting together never race to) takes
``pg_advisory_xact_lock`` inside each version's transaction: a second migrator waits, then
re-reads the version and finds the work done. PostgreSQL's DDL is transactional, so a failing
version leaves nothing behind. The scripts use ``IF NOT EXISTS`` throughout.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from ledger.store.migrations import Applied, How, Migration, Runner, State

LOCK = 0x736D736D656E75  # "smsmenu": the advisory lock key every migrator takes
BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    how TEXT NOT NULL CHECK (how IN ('applied', 'adopted'))
)
"""


class PostgresMigrator(Runner):
    """Migrations on one psycopg connection (autocommit: transactions are explicit)."""

    engine = "postgres"

    def __init__(self, conn: psycopg.Connection[Any],
                 migrations: tuple[Migration, ...] | None = None) -> None:
        super().__init__(migrations)
        self.conn = conn

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self.conn.transaction():
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK,))
            yield

    def _tables(self) -> set[str]:
        rows = self.conn.execute("SELECT tablename FROM pg_tables "
                                 "WHERE schemaname = current_schema()").fetchall()
        return {str(row[0]) for row in rows}

    def read_state(self) -> State:
        tables = self._tables()
        recorded = meta = 0
        if "schema_migrations" in tables:
            row = self.conn.execute(
                "SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
            recorded = int(row[0]) if row else 0
        if "meta" in tables:
            found = self.conn.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            meta = int(found[0]) if found and str(found[0]).isdigit() else 0
        return State(recorded, meta, bool(tables - {"schema_migrations"}))

    def execute(self, migration: Migration) -> None:
        self.conn.execute(migration.sql.encode())  # several statements, no parameters

    def record(self, migration: Migration, how: How) -> None:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.conn.execute(BOOKKEEPING.encode())
        self.conn.execute("INSERT INTO schema_migrations (version, name, applied_at, how) "
                          "VALUES (%s, %s, %s, %s)", (migration.version, migration.name, now, how))
        self.conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', %s) "
                          "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                          (str(migration.version),))

    def history(self) -> list[Applied]:
        if "schema_migrations" not in self._tables():
            return []
        rows = self.conn.execute("SELECT version, name, applied_at, how FROM schema_migrations "
                                 "ORDER BY version").fetchall()
        return [Applied(*row) for row in rows]
