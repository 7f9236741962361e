"""Which database engine: a URL or path chosen by ``[ledger] db``, and engine-specific SQL helpers.

``postgresql://USER@HOST:PORT/DB`` (or ``postgres://``) is PostgreSQL; anything else, a bare path
or ``sqlite:///PATH`` (PATH relative; absolute with a fourth slash: ``sqlite:////var/db``), is
SQLite. A PostgreSQL password never travels in the URL: libpq reads it from ``PGPASSWORD`` or
``~/.pgpass``, and a URL that carries one is refused with the password masked, so it can reach
no log, no error and no process listing through us.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from smsmenu.core.settings import ConfigError

_PASSWORD = re.compile(r"^([a-z]+://[^:@/]*):[^@/]*@", re.I)


class Engine(StrEnum):
    SQLITE = "sqlite"
    POSTGRES = "postgres"


@dataclass(frozen=True, slots=True)
class Database:
    """Where the ledger lives: the engine and its target (a file path, or a libpq URL)."""

    engine: Engine
    target: str

    @property
    def postgres(self) -> bool:
        return self.engine is Engine.POSTGRES

    def __str__(self) -> str:
        return self.target


def redact(text: str) -> str:
    """``text`` with any URL password replaced by ``***`` (for messages about a bad URL)."""
    return _PASSWORD.sub(r"\1:***@", text)


def parse(text: str) -> Database:
    """The database named by ``[ledger] db`` / ``--db`` / ``SMSMENU_DB``."""
    if text.startswith(("postgresql://", "postgres://")):
        parts = urlsplit(text)
        if parts.password is not None or any(k == "password" for k, _ in parse_qsl(parts.query)):
            raise ConfigError(
                f"refusing the database URL {redact(text).split('?')[0]}: it carries a password; "
                "give it in PGPASSWORD or ~/.pgpass instead")
        return Database(Engine.POSTGRES, text)
    if text.startswith("sqlite://"):
        if not text.startswith("sqlite:///") or text == "sqlite:///":
            raise ConfigError(f"a SQLite URL is sqlite:///PATH, not {text}")
        return Database(Engine.SQLITE, text.removeprefix("sqlite:///"))
    if "://" in text:
        raise ConfigError(f"unknown database URL scheme in {redact(text)}: "
                          "use a path, sqlite:///PATH or postgresql://USER@HOST:PORT/DB")
    return Database(Engine.SQLITE, text)


def is_postgres(conn: Any) -> bool:
    """True on the PostgreSQL writer's connection (``ledger.store.pg.PgConn``)."""
    return getattr(conn, "engine", Engine.SQLITE) == Engine.POSTGRES


def lock_key(conn: Any, scope: str, name: str) -> None:
    """Hold a lock on ``scope:name`` until the transaction ends, across every process on the
    database (PostgreSQL: ``pg_advisory_xact_lock``). SQLite needs none: its one writer per
    database runs every transaction alone."""
    if is_postgres(conn):
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (f"{scope}:{name}",))


def lock_row(conn: Any, table: str, row_id: int) -> None:
    """Lock one row until the transaction ends before reading it to decide (PostgreSQL:
    ``SELECT ... FOR UPDATE``): two instances finishing the same recharge take turns, and the
    second reads what the first committed. SQLite's single writer needs none."""
    if is_postgres(conn):
        conn.execute(f"SELECT 1 FROM {table} WHERE id = ? FOR UPDATE", (row_id,))


def skip_locked(conn: Any) -> str:
    """The clause that makes a claiming SELECT lock its rows and pass over rows others hold."""
    return " FOR UPDATE SKIP LOCKED" if is_postgres(conn) else ""
