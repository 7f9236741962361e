"""`smsmenu db migrate | version | backup`: the schema version, its migrations, a live backup."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path
from typing import Any

import psycopg

from ledger.store import engine, migrations, pg, schema
from ledger.store.backup import BackupError, Failure
from ledger.store.backup import backup as make_backup
from ledger.store.migrations import Migrator
from ledger.store.migrations.postgres_runner import PostgresMigrator
from ledger.store.migrations.sqlite_runner import SqliteMigrator
from ledger.store.writer import connect
from smsmenu.cli import output as cli_output
from smsmenu.cli.common import ConfigError, Subparsers, common_options, emit, load
from smsmenu.cli.entry import fail
from smsmenu.core.errors import InvalidCommand


def _text(args: argparse.Namespace, key: str, *values: object) -> str:
    return cli_output.words(args.lang, "db")[key].format(*values)


def _open(path: str, synchronous: str, *, readonly: bool = False) -> sqlite3.Connection:
    try:
        if path != ":memory:" and not readonly:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return connect(path, synchronous, readonly=readonly)
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError(f"cannot open the ledger at {path}: {exc}") from None


def _postgres(url: str) -> psycopg.Connection[Any]:
    return pg.connect(url)  # psycopg.Error (server unreachable): E_STORAGE, exit 1


def migrate(args: argparse.Namespace) -> int:
    """Apply every pending migration (or up to ``--to``); print from and to versions."""
    settings = load(args)
    database = engine.parse(settings.ledger.db)
    path = database.target
    known = migrations.latest()
    if args.to is not None and not 1 <= args.to <= known:
        raise InvalidCommand(why=f"--to: this code knows schema versions 1..{known}")
    if database.postgres:  # each version under pg_advisory_xact_lock (one migrator at a time)
        with _postgres(path) as pgconn:
            report = PostgresMigrator(pgconn).migrate(args.to)
    else:
        conn = _open(path, settings.ledger.synchronous)
        try:
            report = schema.migrate(conn, args.to)
        finally:
            conn.close()
    lines = [_text(args, "migrated" if report.changed else "current", report.from_version,
                   report.to_version)]
    if report.adopted:
        lines.append(_text(args, "adopted"))
    lines += [f"{_text(args, 'applied')} {m.name}" for m in report.applied]
    emit(args, {"db": path, **report.as_dict()}, lines)
    return 0


def version(args: argparse.Namespace) -> int:
    """The database's version, this code's, what is pending and what was applied when."""
    settings = load(args)
    database = engine.parse(settings.ledger.db)
    path = database.target
    latest = migrations.load()
    if database.postgres:
        with _postgres(path) as pgconn:
            return _report(args, path, PostgresMigrator(pgconn, migrations.load("postgres")))
    if path != ":memory:" and not Path(path).exists():
        data: dict[str, Any] = {"db": path, "exists": False, "version": 0,
                                "latest": len(latest), "adopt": False,
                                "pending": [{"version": m.version, "name": m.name} for m in latest],
                                "history": []}
        emit(args, data, [_text(args, "none", path)])
        return 0
    conn = _open(path, settings.ledger.synchronous, readonly=True)
    try:
        return _report(args, path, SqliteMigrator(conn, latest))
    finally:
        conn.close()


def _report(args: argparse.Namespace, path: str, migrator: Migrator) -> int:
    latest = migrations.load()
    state = migrator.state()
    migrator.check(state)
    history = migrator.history()
    pending = [m for m in latest if m.version > state.recorded]
    adopt = state.recorded == 0 and state.populated
    data = {"db": path, "exists": True, "version": state.version, "latest": migrator.latest,
            "adopt": adopt, "pending": [{"version": m.version, "name": m.name} for m in pending],
            "history": [{"version": a.version, "name": a.name, "applied_at": a.applied_at,
                         "how": a.how} for a in history]}
    lines = [_text(args, "behind", state.version, migrator.latest, len(pending)) if pending
             else _text(args, "current", state.version)]
    lines += [_text(args, "adopt")] if adopt else []
    lines += [f"{_text(args, 'applied')} {a.name}  {a.applied_at}  {a.how}" for a in history]
    lines += [f"{_text(args, 'pending')} {m.name}" for m in pending]
    emit(args, data, lines)
    return 0


FAILURES = {Failure.MISSING: ("E_NO_DATABASE", ConfigError.exit_code),
            Failure.EXISTS: ("E_BACKUP_EXISTS", 4),
            Failure.UNWRITABLE: ("E_BACKUP_TARGET", ConfigError.exit_code),
            Failure.CORRUPT: ("E_BACKUP_CORRUPT", 1)}
"""A refused backup's code and exit code (78: fix the paths; 4: the target exists; 1: storage)."""


def backup(args: argparse.Namespace) -> int:
    """Copy the live database to ``TARGET`` (SQLite online backup), checked; print its figures."""
    words = cli_output.words(args.lang, "backup")
    database = engine.parse(load(args).ledger.db)
    path = database.target
    if database.postgres:
        raise ConfigError(words["postgres"])
    try:
        made = make_backup(path, args.target, force=args.force)
    except BackupError as exc:
        code, exit_code = FAILURES[exc.failure]
        message = words[exc.failure.value].format(exc.path, exc.detail)
        return fail(args, {"code": code, "rule": "", "message": message, "path": exc.path},
                    message, exit_code)
    emit(args, made.as_dict(), [
        words["done"].format(made.source, made.target),
        words["size"].format(made.pages, made.page_size, made.bytes, made.seconds),
        words["checked"].format(made.schema_version, made.integrity)])
    return 0


def register(subparsers: Subparsers) -> None:
    """Add `db migrate`, `db version` and `db backup`."""
    db = subparsers.add_parser(
        "db", help="the database: its schema version, migrations and backups",
        description="The schema is versioned: numbered migrations (ledger/store/migrations) applied in "
                    "order, each in one transaction, one migrator at a time (SQLite: BEGIN "
                    "IMMEDIATE; PostgreSQL: pg_advisory_xact_lock). On SQLite the server and every command "
                    "also migrate on open; on PostgreSQL they refuse an older schema (exit 78): "
                    "run `db migrate` once, before starting the new version. A database "
                    "made before versioning is adopted as version 1; one newer than this code "
                    "is refused (exit 78). `db backup` copies the live SQLite database "
                    "consistently while the server runs; PostgreSQL: pg_dump -Fc.")
    commands = db.add_subparsers(dest="db_command", metavar="COMMAND", required=True)
    p = commands.add_parser("migrate", parents=[common_options()],
                            help="apply the pending migrations; print from and to versions")
    p.add_argument("--to", type=int, metavar="N",
                   help="stop after version N (default: the latest this code knows)")
    p.set_defaults(func=migrate)
    p = commands.add_parser("version", parents=[common_options()],
                            help="the database's schema version, this code's, what is pending")
    p.set_defaults(func=version)
    p = commands.add_parser(
        "backup", parents=[common_options()],
        help="copy the live database to TARGET, consistently, while the server runs",
        description="SQLite online backup: one consistent snapshot (the server keeps writing), "
                    "written to a temporary file beside TARGET, integrity-checked, fsynced and "
                    "renamed into place. An existing TARGET is never overwritten without "
                    "--force. Restore: stop the server, copy the backup over the database and "
                    "delete its -wal and -shm files (or point [ledger] db at the copy), start "
                    "it. PostgreSQL: pg_dump -Fc.")
    p.add_argument("target", metavar="TARGET", help="the backup file to write")
    p.add_argument("--force", action="store_true", help="replace TARGET if it exists")
    p.set_defaults(func=backup)
