"""The database's schema: the versioned migrations (``ledger/store/migrations``), run on open.

Every table (the ledger's, the menu engine's, the web portal's) is defined by the migrations
and nowhere else; ``create`` brings a database to the latest version when the writer starts.
"""

from __future__ import annotations

import sqlite3
from typing import cast

import structlog

from ledger.store import migrations
from ledger.store.migrations.postgres_runner import PostgresMigrator
from ledger.store.migrations.sqlite_runner import ADD_COLUMN, SqliteMigrator, needed, statements
from ledger.store.pg import PgConn

log = structlog.get_logger("ledger.store.schema")

SCHEMA_VERSION = migrations.latest()
"""The version this code brings a database to (the highest migration)."""

# id, code, kind, no_overdraft. The operator's accounts have fixed ids (no lookup on the hot
# path); agent accounts are created per agent, as ``agent:<agent id>``, with ids after these.
# 0001_base.sql inserts these very rows (tests/ledger/test_migrations.py checks they agree).
FIXED_ACCOUNTS = [
    (1, "operator:cash", "operator", 0),
    (2, "operator:bank", "operator", 0),
    (3, "operator:refunds", "operator", 0),
    (4, "expense:commission", "expense", 0),
    (5, "settlement:landline", "settlement", 1),
    (6, "settlement:mobile", "settlement", 1),
    (7, "settlement:phs", "settlement", 1),
    (8, "settlement:broadband", "settlement", 1),
]
FIXED_IDS = {code: account for account, code, _, _ in FIXED_ACCOUNTS}


DDL = migrations.load()[0].sql
"""Version 1's script (``0001_base.sql``), for tests that build a database as it was then."""


def _migrate(conn: sqlite3.Connection) -> None:
    """Legacy helper for tests of older layouts: every migration's ``ADD COLUMN`` that a table
    present lacks, nothing else. ``create`` is the way to migrate a database."""
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for migration in migrations.load():
        for statement in statements(migration.sql):
            added = ADD_COLUMN.match(statement)
            if added and added[1] in tables and needed(conn, statement):
                conn.execute(statement)


def create(conn: sqlite3.Connection) -> None:
    """Bring the database to the latest schema version (the writer's start-up hook)."""
    migrate(conn)


def migrate(conn: sqlite3.Connection, target: int | None = None) -> migrations.Report:
    """Apply the pending migrations (up to ``target``), then the catch-up below; what was done.

    Each pending migration runs in its own ``BEGIN IMMEDIATE`` transaction (one migrator at a
    time); a database made before versioning is adopted as version 1 first; one newer than this
    code raises ``migrations.SchemaTooNew``.
    """
    report = SqliteMigrator(conn).migrate(target)
    if report.changed:
        log.info("ledger.schema_migrated", from_version=report.from_version,
                 to_version=report.to_version, adopted=report.adopted,
                 applied=[m.name for m in report.applied])
    if report.to_version >= SESSIONS_MOVED:
        _catch_up(conn)
    if report.to_version >= AUDIT_CHAINED:
        _adopt_audit(conn)
    return report


AUDIT_CHAINED = 8
"""The version that chains the audit log; its older rows are chained on the first start after
it (``web_audit.adopt``: SQL has no portable sha256), here, once."""


def _adopt_audit(conn: sqlite3.Connection) -> None:
    from ledger.store import web_audit  # its Query imports the ledger, which imports schema

    if conn.execute("SELECT 1 FROM audit_head WHERE id = 1").fetchone() is not None:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        adopted = web_audit.adopt(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    if adopted:
        log.info("ledger.audit_adopted", rows=adopted)


def require(conn: sqlite3.Connection) -> None:
    """The PostgreSQL writer's start-up check: the schema is this code's version, or the next
    one (a rolling upgrade: ``db migrate`` ran for the new code while instances of this one
    still run or restart; the next version only expands, so this code works on it). Older:
    ``SchemaTooOld``, naming ``smsmenu db migrate``; two or more versions newer:
    ``SchemaTooNew``."""
    migrator = PostgresMigrator(cast(PgConn, conn).raw)
    state = migrator.state()
    if state.version == migrator.latest + 1:
        log.warning("ledger.schema_ahead", version=state.version, code=migrator.latest,
                    hint="a rolling upgrade: start the new version's servers")
        return
    migrator.check(state)
    if state.version < migrator.latest:
        raise migrations.SchemaTooOld(state.version, migrator.latest)


SESSIONS_MOVED = 3
"""The version that moved ``sessions`` into ``menu_sessions``."""
CATCH_UP = (
    "INSERT OR IGNORE INTO menu_sessions (msisdn, channel, state, data, dialog, updated_at) "
    "SELECT msisdn, 'sms', state, data, dialog, updated_at FROM sessions",
    "DELETE FROM sessions",
)
"""Rows that code older than version 3 (one session per agent) wrote to ``sessions`` after the
migration moved them become SMS dialogs on each open, as before versioning; this goes with
the contract migration that drops ``sessions``."""


def _catch_up(conn: sqlite3.Connection) -> None:
    if not conn.execute("SELECT EXISTS (SELECT 1 FROM sessions)").fetchone()[0]:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in CATCH_UP:
            conn.execute(statement)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
