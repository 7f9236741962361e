"""The audit log (table ``web_audit``): append-only, hash-chained; its search and its check.

Canonical form (what a row's ``hash`` covers): the UTF-8 bytes of the JSON array

    [previous hash, id, at, operator_id, operator, role, action, target, agent_id, amount_fen,
     detail, outcome]

written with ``json.dumps(..., ensure_ascii=False, separators=(",", ":"))`` (no spaces; ``at``
and ``detail`` are the stored text, a missing agent or amount is ``null``), and
``hash = sha256(canonical).hexdigest()``, kept in ``audit_chain`` by the row's id (append-only
like ``web_audit``). The first row's previous hash is ``""``. The row ids
run 1, 2, 3... without a gap: a new row takes ``audit_head.last_id + 1`` while it holds the head
row (an UPDATE first: the row lock on PostgreSQL, the write lock on SQLite), so two writers
never fork the chain. ``verify`` recomputes every link and compares the last with the head: a
row altered, deleted or inserted breaks the chain at the first row that differs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from ledger.store.queries import Query
from smsmenu.core.clock import iso

COLUMNS = ("id, at, operator_id, operator, role, action, target, agent_id, amount_fen, detail, "
           "outcome")

_PREFIXED = ", ".join(f"a.{c}" for c in COLUMNS.split(", "))


@dataclass(frozen=True, slots=True)
class Line:
    """What an audit line records (``detail`` is JSON text; never a password nor a key)."""

    operator_id: int
    operator: str
    role: str
    action: str
    target: str
    detail: str
    outcome: str
    agent_id: int | None = None
    amount_fen: int | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """An audit line as the log page shows it."""

    id: int
    at: str
    operator_id: int
    operator: str
    role: str
    action: str
    target: str
    agent_id: int | None
    amount_fen: int | None
    detail: str
    outcome: str


@dataclass(frozen=True, slots=True)
class Filter:
    """Which lines to show: each field that is set must match (``since``/``until`` are stored
    timestamps, ``until`` excluded)."""

    action: str = ""
    operator: str = ""
    agent_id: int | None = None
    since: str = ""
    until: str = ""


@dataclass(frozen=True, slots=True)
class Verdict:
    """``verify``'s answer: how many rows, the head hash, and the first broken row (its id and
    why) or None when the chain holds."""

    count: int
    head: str
    broken_id: int | None = None
    why: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def link(previous: str, values: tuple[Any, ...]) -> str:
    """The hash of a row: ``values`` in ``COLUMNS`` order, chained to ``previous``."""
    canonical = json.dumps([previous, *values], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def adopt(conn: sqlite3.Connection) -> int:
    """Chain the rows written before the chain existed, in id order, and create the head;
    once (a database with a head is left alone). How many rows were adopted."""
    if conn.execute("SELECT 1 FROM audit_head WHERE id = 1").fetchone() is not None:
        return 0
    previous, last = "", 0
    rows = conn.execute(f"SELECT {COLUMNS} FROM web_audit ORDER BY id").fetchall()
    for row in rows:
        previous, last = link(previous, tuple(row)), row[0]
        conn.execute("INSERT INTO audit_chain (id, hash) VALUES (?, ?)", (last, previous))
    conn.execute("INSERT INTO audit_head (id, last_id, hash) VALUES (1, ?, ?)", (last, previous))
    return len(rows)


def append(conn: sqlite3.Connection, *, at: dt.datetime, line: Line) -> int:
    """Append one line at the head of the chain, in the caller's transaction; its id."""
    if not conn.execute("UPDATE audit_head SET last_id = last_id + 1 WHERE id = 1").rowcount:
        adopt(conn)
        conn.execute("UPDATE audit_head SET last_id = last_id + 1 WHERE id = 1")
    new_id, previous = conn.execute("SELECT last_id, hash FROM audit_head WHERE id = 1").fetchone()
    values = (new_id, iso(at), line.operator_id, line.operator, line.role, line.action,
              line.target, line.agent_id, line.amount_fen, line.detail, line.outcome)
    digest = link(previous, values)
    conn.execute(f"INSERT INTO web_audit ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 values)
    conn.execute("INSERT INTO audit_chain (id, hash) VALUES (?, ?)", (new_id, digest))
    conn.execute("UPDATE audit_head SET hash = ? WHERE id = 1", (digest,))
    return int(new_id)


def _where(f: Filter) -> tuple[str, tuple[Any, ...]]:
    clauses: list[str] = []
    params: list[Any] = []
    for clause, value, wanted in (("action = ?", f.action, bool(f.action)),
                                  ("operator = ?", f.operator, bool(f.operator)),
                                  ("agent_id = ?", f.agent_id, f.agent_id is not None),
                                  ("at >= ?", f.since, bool(f.since)),
                                  ("at < ?", f.until, bool(f.until))):
        if wanted:
            clauses.append(clause)
            params.append(value)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)


def search(f: Filter, limit: int, offset: int = 0) -> Query[list[Entry]]:
    """The lines ``f`` selects, newest first."""
    where, params = _where(f)
    return Query(f"SELECT {COLUMNS} FROM web_audit{where} ORDER BY id DESC LIMIT ? OFFSET ?",
                 (*params, limit, offset), lambda rows: [Entry(*r) for r in rows])


def page(limit: int, offset: int) -> Query[list[Entry]]:
    """Newest first."""
    return search(Filter(), limit, offset)


def actions() -> Query[list[str]]:
    """Every action the log holds (the filter's choices)."""
    return Query("SELECT DISTINCT action FROM web_audit ORDER BY action", (),
                 lambda rows: [str(r[0]) for r in rows])


def check(rows: list[tuple[Any, ...]], head: tuple[Any, ...] | None) -> Verdict:
    """The chain of ``rows`` (``COLUMNS`` and ``hash``, in id order) against the ``head``
    (``last_id``, ``hash``). ``Verdict.why`` is a code: ``missing`` (a row before it, or it,
    is gone), ``order`` (its id is out of order), ``altered`` (its hash does not match its
    content and the row before it), ``unchained`` (it has no hash), ``no_head``, ``past_head``
    (it was added after the head), ``head`` (the head names another hash)."""
    previous, expected = "", 1
    for row in rows:
        row_id, stored = row[0], row[-1]
        if row_id != expected:
            return (Verdict(len(rows), previous, expected, "missing") if row_id > expected
                    else Verdict(len(rows), previous, row_id, "order"))
        if stored != link(previous, tuple(row[:-1])):
            return Verdict(len(rows), previous, row_id, "altered" if stored else "unchained")
        previous, expected = stored, expected + 1
    last = expected - 1
    if head is None:
        return Verdict(len(rows), previous, last or None, "no_head" if last else "")
    if head[0] > last:
        return Verdict(len(rows), previous, last + 1, "missing")
    if head[0] < last:
        return Verdict(len(rows), previous, head[0] + 1, "past_head")
    if head[1] != previous:
        return Verdict(len(rows), previous, last, "head")
    return Verdict(len(rows), previous)


def chain() -> Query[list[tuple[Any, ...]]]:
    """Every row with its hash, in id order (``check``'s input)."""
    return Query(f"SELECT {_PREFIXED}, c.hash FROM web_audit a LEFT JOIN audit_chain c "
                 "ON c.id = a.id ORDER BY a.id", (),
                 lambda rows: [tuple(r) for r in rows])


def head() -> Query[tuple[Any, ...] | None]:
    """The chain's head: (last id, its hash), None before adoption."""
    return Query("SELECT last_id, hash FROM audit_head WHERE id = 1", (),
                 lambda rows: tuple(rows[0]) if rows else None)


def _breaks(rows: list[tuple[Any, ...]]) -> list[str]:
    if not rows:
        return []
    head = None if rows[0][-2] is None else (rows[0][-2], rows[0][-1])
    verdict = check([tuple(r[:-2]) for r in rows], head)
    return [] if verdict.ok else [f"audit row {verdict.broken_id}: {verdict.why}"]


def breaks() -> Query[list[str]]:
    """The chain's first break as one line (none when it holds): ``ledger verify``'s check."""
    return Query(f"SELECT {_PREFIXED}, c.hash, h.last_id, h.hash FROM web_audit a "
                 "LEFT JOIN audit_chain c ON c.id = a.id LEFT JOIN audit_head h ON h.id = 1 "
                 "ORDER BY a.id", (), _breaks)


def verify(conn: sqlite3.Connection) -> Verdict:
    """Recompute the whole chain and compare its end with the head."""
    return check(chain().run(conn), head().run(conn))
