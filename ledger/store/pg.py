"""The PostgreSQL connection: the store's SQL (``?`` placeholders, DB-API cursors) run on psycopg 3.

Every store function and ledger operation is written once, against a ``sqlite3.Connection``-
shaped object: ``conn.execute(sql, params)`` returning a cursor with ``fetchone``/``fetchall``/
``rowcount``, ``executemany``, ``in_transaction``. ``PgConn`` gives exactly that on psycopg:
``?`` and ``?N`` become ``%s`` (numbered ones reorder the parameters), a literal ``%`` becomes
``%%``; the translation is cached per statement text. Python ``bool`` parameters are sent as
integers (the schema keeps SQLite's 0/1 columns); ``SUM`` of integers (``numeric`` in
PostgreSQL) comes back as ``int`` when it is whole, as SQLite returns it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import pq
from psycopg.adapt import Buffer
from psycopg.types.numeric import NumericLoader

ENGINE = "postgres"
Order = tuple[int, ...] | None


@lru_cache(maxsize=8192)
def translate(sql: str) -> tuple[str, Order]:
    """``sql`` with psycopg placeholders; the parameter order when it used ``?N`` (else None)."""
    out: list[str] = []
    order: list[int] = []
    numbered = False
    quote = ""
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if quote:
            out.append("%%" if c == "%" else c)
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
            out.append(c)
        elif c == "%":
            out.append("%%")
        elif c == "?":
            j = i + 1
            while j < n and sql[j].isdigit():
                j += 1
            if j > i + 1:
                numbered = True
                order.append(int(sql[i + 1:j]) - 1)
            else:
                order.append(order[-1] + 1 if order else 0)
            out.append("%s")
            i = j
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out), tuple(order) if numbered else None


def _params(params: Sequence[Any], order: Order) -> tuple[Any, ...]:
    values = tuple(int(p) if isinstance(p, bool) else p for p in params)
    return values if order is None else tuple(values[k] for k in order)


class WholeNumericLoader(NumericLoader):
    """``numeric`` as ``int`` when whole (``SUM`` of integers), else ``Decimal``."""

    def load(self, data: Buffer) -> Any:
        value = super().load(data)
        if isinstance(value, Decimal) and value == value.to_integral_value():
            return int(value)
        return value


def configure(conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> None:
    """The loaders every engine connection uses (on the writer's and the readers')."""
    conn.adapters.register_loader("numeric", WholeNumericLoader)


def connect(url: str, *, autocommit: bool = True) -> psycopg.Connection[Any]:
    """A psycopg connection to ``url`` (the password from ``PGPASSWORD`` or ``.pgpass``)."""
    conn = psycopg.connect(url, autocommit=autocommit)
    configure(conn)
    return conn


class PgConn:
    """A psycopg connection with the ``sqlite3.Connection`` surface the store uses."""

    engine = ENGINE

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.raw = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        query, order = translate(sql)
        return self.raw.execute(query, _params(params, order))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> psycopg.Cursor[Any]:
        query, order = translate(sql)
        cur = self.raw.cursor()
        cur.executemany(query, [_params(row, order) for row in rows])
        return cur

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status in (pq.TransactionStatus.INTRANS,
                                                    pq.TransactionStatus.INERROR)

    @property
    def closed(self) -> bool:
        return self.raw.closed or self.raw.broken

    def close(self) -> None:
        self.raw.close()


class PgReader:
    """The read path on PostgreSQL: ``execute_fetchall`` like aiosqlite's, one autocommit
    connection (reconnected when it broke)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: psycopg.AsyncConnection[Any] | None = None

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
            configure(self._conn)
        return self._conn

    async def execute_fetchall(self, sql: str, parameters: Iterable[Any] = ()) -> list[Any]:
        conn = await self._connection()
        query, order = translate(sql)
        cur = await conn.execute(query, _params(tuple(parameters), order))
        return await cur.fetchall() if cur.description is not None else []

    @asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[bool]:
        """Whether this process holds ``name`` (a session advisory lock, not waited for) for
        the block: one instance at a time runs what it guards; a crashed one lets go with its
        connection."""
        conn = await self._connection()
        cur = await conn.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (name,))
        row = await cur.fetchone()
        held = bool(row and row[0])
        try:
            yield held
        finally:
            if held and not (conn.closed or conn.broken):
                await conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (name,))

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
