"""Operator accounts as supervisors manage them: list, create, role, active flag, password."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

from ledger.context import Env
from ledger.store.queries import Query
from smsmenu.core.clock import iso
from smsmenu.core.errors import StaleState
from smsmenu.web import limits, operators, sessions
from smsmenu.web.errors import Forbidden, OwnAccount, PageNotFound
from smsmenu.web.operators import Operator

COLUMNS = ("id", "name", "role", "active", "created_at", "last_login_at")
SELECT = ("SELECT o.id, o.name, o.role, o.active, o.created_at, l.at FROM web_operators o "
          "LEFT JOIN web_operator_logins l ON l.operator_id = o.id")


def _rows(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [{**dict(zip(COLUMNS, r, strict=True)), "active": bool(r[3])} for r in rows]


def listing() -> Query[list[dict[str, Any]]]:
    """Every operator: active ones first, then by name."""
    return Query(f"{SELECT} ORDER BY o.active DESC, o.name", (), _rows)


def one(operator_id: int) -> Query[dict[str, Any] | None]:
    return Query(f"{SELECT} WHERE o.id = ?", (operator_id,),
                 lambda rows: _rows(rows)[0] if rows else None)


def record_login(conn: sqlite3.Connection, now: dt.datetime, operator_id: int) -> None:
    conn.execute("INSERT INTO web_operator_logins (operator_id, at) VALUES (?, ?) "
                 "ON CONFLICT (operator_id) DO UPDATE SET at = excluded.at",
                 (operator_id, iso(now)))


def _actor(conn: sqlite3.Connection, who: Operator) -> None:
    """``who`` must still be an active supervisor now, in this transaction (not only when its
    request was let in): two supervisors cannot deactivate each other at the same moment."""
    row = conn.execute("SELECT role, active FROM web_operators WHERE id = ?", (who.id,)).fetchone()
    if row is None or row[0] != "supervisor" or not row[1]:
        raise Forbidden()


def _target(conn: sqlite3.Connection, who: Operator, operator_id: int) -> tuple[str, str]:
    """The name and role of the operator to change, after checking the one changing it."""
    _actor(conn, who)
    row = conn.execute("SELECT name, role FROM web_operators WHERE id = ?",
                       (operator_id,)).fetchone()
    if row is None:
        raise PageNotFound()
    return str(row[0]), str(row[1])


def create(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, by: Operator,
           **fields: Any) -> dict[str, Any]:
    """A new operator (fields from ``operators.prepare``)."""
    _actor(conn, by)
    return operators.insert(conn, env, now, **fields)


def set_role(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, by: Operator,
             operator_id: int, role: str, was: str) -> dict[str, Any]:
    """A new role; ``was`` (the role the page showed, in the audit line) must still hold."""
    _, current = _target(conn, by, operator_id)
    if operator_id == by.id and role != "supervisor":
        raise OwnAccount()
    if current != was:
        raise StaleState(why=current)
    conn.execute("UPDATE web_operators SET role = ? WHERE id = ?", (role, operator_id))
    return {"role": role}


def set_active(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, by: Operator,
               operator_id: int, active: bool) -> dict[str, Any]:
    """Deactivate (every session of the operator ends now) or reactivate an operator."""
    _target(conn, by, operator_id)
    if operator_id == by.id and not active:
        raise OwnAccount()
    conn.execute("UPDATE web_operators SET active = ? WHERE id = ?", (int(active), operator_id))
    if not active:
        sessions.end_all(conn, "operator", operator_id)
    return {"active": active}


def set_password(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, by: Operator,
                 operator_id: int, salt: bytes, pw_hash: bytes,
                 ttl: dt.timedelta) -> str | None:
    """A new password: the operator's sessions end and its failed logins are forgotten. A
    supervisor resetting its own goes on in a new session (returns its token), like an agent."""
    name, _ = _target(conn, by, operator_id)
    conn.execute("UPDATE web_operators SET salt = ?, pw_hash = ? WHERE id = ?",
                 (salt, pw_hash, operator_id))
    sessions.end_all(conn, "operator", operator_id)
    for bucket, _rule in limits.login_buckets("-", f"op:{name}")[1:]:
        conn.execute("DELETE FROM web_rate WHERE bucket = ?", (bucket,))
    return sessions.start(conn, now, "operator", by.id, ttl) if operator_id == by.id else None
