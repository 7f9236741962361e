"""The back office's operator accounts (tables ``web_operators``, ``web_operator_logins``)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from typing import Any

from ledger.store.queries import Query
from smsmenu.core.clock import iso


@dataclass(frozen=True, slots=True)
class Account:
    """An operator account as the permission checks need it."""

    id: int
    name: str
    role: str
    active: bool


@dataclass(frozen=True, slots=True)
class Login:
    """An account with its password salt and scrypt hash, for the login check."""

    account: Account
    salt: bytes
    pw_hash: bytes


@dataclass(frozen=True, slots=True)
class StaffRow:
    """One line of the operators page: the account, when it was made, when it last logged in."""

    id: int
    name: str
    role: str
    active: bool
    created_at: str
    last_login_at: str | None


def _account(row: tuple[Any, ...]) -> Account:
    return Account(int(row[0]), str(row[1]), str(row[2]), bool(row[3]))


def _staff(rows: list[tuple[Any, ...]]) -> list[StaffRow]:
    return [StaffRow(int(r[0]), str(r[1]), str(r[2]), bool(r[3]), str(r[4]), r[5]) for r in rows]


STAFF = ("SELECT o.id, o.name, o.role, o.active, o.created_at, l.at FROM web_operators o "
         "LEFT JOIN web_operator_logins l ON l.operator_id = o.id")


def name_taken(conn: sqlite3.Connection, *, name: str) -> bool:
    return conn.execute("SELECT 1 FROM web_operators WHERE name = ?", (name,)).fetchone() is not None


def insert(conn: sqlite3.Connection, *, name: str, role: str, salt: bytes, pw_hash: bytes,
           created: dt.datetime) -> int:
    """A new active operator; its id."""
    row = conn.execute("INSERT INTO web_operators (name, role, salt, pw_hash, created_at) "
                       "VALUES (?, ?, ?, ?, ?) RETURNING id", (name, role, salt, pw_hash,
                                                               iso(created))).fetchone()
    return int(row[0])


def account(conn: sqlite3.Connection, *, operator_id: int) -> Account | None:
    """The account as it stands in this transaction."""
    return by_id(operator_id).run(conn)


def by_id(operator_id: int) -> Query[Account | None]:
    return Query("SELECT id, name, role, active FROM web_operators WHERE id = ?", (operator_id,),
                 lambda rows: _account(rows[0]) if rows else None)


def by_name(name: str) -> Query[Login | None]:
    """An account with its salt and hash."""
    return Query("SELECT id, name, role, active, salt, pw_hash FROM web_operators WHERE name = ?",
                 (name,), lambda rows: Login(_account(rows[0]), rows[0][4], rows[0][5])
                 if rows else None)


def count() -> Query[int]:
    """How many operator accounts there are (any state)."""
    return Query("SELECT COUNT(*) FROM web_operators", (), lambda rows: int(rows[0][0]))


def set_role(conn: sqlite3.Connection, *, operator_id: int, role: str) -> None:
    conn.execute("UPDATE web_operators SET role = ? WHERE id = ?", (role, operator_id))


def set_active(conn: sqlite3.Connection, *, operator_id: int, active: bool) -> None:
    conn.execute("UPDATE web_operators SET active = ? WHERE id = ?", (int(active), operator_id))


def set_password(conn: sqlite3.Connection, *, operator_id: int, salt: bytes,
                 pw_hash: bytes) -> None:
    conn.execute("UPDATE web_operators SET salt = ?, pw_hash = ? WHERE id = ?",
                 (salt, pw_hash, operator_id))


def record_login(conn: sqlite3.Connection, *, operator_id: int, at: dt.datetime) -> None:
    """When the operator last logged in (one row per operator, replaced)."""
    conn.execute("INSERT INTO web_operator_logins (operator_id, at) VALUES (?, ?) "
                 "ON CONFLICT (operator_id) DO UPDATE SET at = excluded.at",
                 (operator_id, iso(at)))


def listing() -> Query[list[StaffRow]]:
    """Every operator: active ones first, then by name."""
    return Query(f"{STAFF} ORDER BY o.active DESC, o.name", (), _staff)


def staff_row(operator_id: int) -> Query[StaffRow | None]:
    return Query(f"{STAFF} WHERE o.id = ?", (operator_id,),
                 lambda rows: _staff(rows)[0] if rows else None)


def account_named(conn: sqlite3.Connection, *, name: str) -> Account | None:
    """The account of a login name as it stands in this transaction (no password fields)."""
    row = conn.execute("SELECT id, name, role, active FROM web_operators WHERE name = ?",
                       (name,)).fetchone()
    return None if row is None else _account(row)


def active_with_role(conn: sqlite3.Connection, *, role: str) -> int:
    """How many active operators hold ``role`` in this transaction."""
    row = conn.execute("SELECT COUNT(*) FROM web_operators WHERE role = ? AND active = 1",
                       (role,)).fetchone()
    return int(row[0])
