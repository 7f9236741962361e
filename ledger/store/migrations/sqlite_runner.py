"""The SQLite runner: ``BEGIN IMMEDIATE`` as the migrators' lock, statements one by one.

SQLite has no advisory locks; ``BEGIN IMMEDIATE`` takes the database's write lock at once, so
two migrators (two processes starting, or ``smsmenu db migrate`` beside a starting server)
never run a version together: the second waits for the first's commit (the connection's
``busy_timeout``; ``ledger.store.writer.connect`` sets 10 s), then re-reads the version and finds
the work done. Readers are never blocked (WAL).

SQLite's ``ALTER TABLE ... ADD COLUMN`` has no ``IF NOT EXISTS``: the runner skips one whose
column the table already has, which makes column additions idempotent for adopted databases.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from ledger.store.migrations import Applied, How, Migration, Runner, State

ADD_COLUMN = re.compile(r"^ALTER\s+TABLE\s+(\w+)\s+ADD\s+(?:COLUMN\s+)?(\w+)\b", re.I)
BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    how TEXT NOT NULL CHECK (how IN ('applied', 'adopted'))
) STRICT
"""


def statements(sql: str) -> list[str]:
    """A script's statements (comment lines dropped), split where SQLite says one is complete:
    a trigger's ``BEGIN ...; END`` stays whole."""
    found: list[str] = []
    buffer = ""
    for line in sql.splitlines(keepends=True):
        if not buffer and (not line.strip() or line.lstrip().startswith("--")):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            found.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise ValueError(f"incomplete statement at the end of a migration: {buffer.strip()[:60]}")
    return found


def columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def needed(conn: sqlite3.Connection, statement: str) -> bool:
    """False for an ``ADD COLUMN`` whose column exists already; True for anything else."""
    match = ADD_COLUMN.match(statement)
    return match is None or match[2] not in columns(conn, match[1])


class SqliteMigrator(Runner):
    """Migrations on one SQLite connection (autocommit: ``isolation_level=None``)."""

    engine = "sqlite"

    def __init__(self, conn: sqlite3.Connection,
                 migrations: tuple[Migration, ...] | None = None) -> None:
        super().__init__(migrations)
        self.conn = conn

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def _tables(self) -> set[str]:
        return {row[0] for row in self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}

    def read_state(self) -> State:
        tables = self._tables()
        recorded = meta = 0
        if "schema_migrations" in tables:
            recorded = self.conn.execute(
                "SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]
        if "meta" in tables:
            row = self.conn.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            meta = int(row[0]) if row and str(row[0]).isascii() and str(row[0]).isdigit() else 0
        return State(int(recorded), meta, bool(tables - {"schema_migrations"}))

    def execute(self, migration: Migration) -> None:
        for statement in statements(migration.sql):
            if needed(self.conn, statement):
                self.conn.execute(statement)

    def record(self, migration: Migration, how: How) -> None:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.conn.execute(BOOKKEEPING)
        self.conn.execute("INSERT INTO schema_migrations (version, name, applied_at, how) "
                          "VALUES (?, ?, ?, ?)", (migration.version, migration.name, now, how))
        self.conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                          "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                          (str(migration.version),))

    def history(self) -> list[Applied]:
        if "schema_migrations" not in self._tables():
            return []
        rows = self.conn.execute("SELECT version, name, applied_at, how FROM schema_migrations "
                                 "ORDER BY version").fetchall()
        return [Applied(*row) for row in rows]
