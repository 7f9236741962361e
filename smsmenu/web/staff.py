"""Operator accounts as supervisors manage them: list, create, role, active flag, password."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ledger import Ledger, audit
from ledger.context import Env
from ledger.store import Conn, web_operators
from ledger.store.web_operators import Account, StaffRow
from smsmenu.core.errors import StaleState
from smsmenu.web import limits, operators, sessions
from smsmenu.web.errors import Forbidden, OwnAccount, PageNotFound
from smsmenu.web.operators import Operator


async def listing(ledger: Ledger) -> list[StaffRow]:
    """Every operator: active ones first, then by name."""
    return await ledger.read(web_operators.listing())


async def one(ledger: Ledger, operator_id: int) -> StaffRow | None:
    return await ledger.read(web_operators.staff_row(operator_id))


def record_login(conn: Conn, now: dt.datetime, operator_id: int) -> None:
    web_operators.record_login(conn, operator_id=operator_id, at=now)


def _actor(conn: Conn, who: Operator) -> None:
    """``who`` must still be an active supervisor now, in this transaction (not only when its
    request was let in): two supervisors cannot deactivate each other at the same moment."""
    found = web_operators.account(conn, operator_id=who.id)
    if found is None or found.role != "supervisor" or not found.active:
        raise Forbidden()


def _target(conn: Conn, who: Operator, operator_id: int) -> Account:
    """The operator to change, after checking the one changing it."""
    _actor(conn, who)
    found = web_operators.account(conn, operator_id=operator_id)
    if found is None:
        raise PageNotFound()
    return found


def _name(conn: Conn, operator_id: int) -> str:
    found = web_operators.account(conn, operator_id=operator_id)
    return found.name if found else str(operator_id)


def create(conn: Conn, env: Env, now: dt.datetime, *, by: Operator,
           **fields: Any) -> dict[str, Any]:
    """A new operator (fields from ``operators.prepare``)."""
    _actor(conn, by)
    return operators.insert(conn, env, now, actor=by.actor, **fields)


def set_role(conn: Conn, env: Env, now: dt.datetime, *, by: Operator,
             operator_id: int, role: str, was: str) -> dict[str, Any]:
    """A new role; ``was`` (the role the page showed, in the audit line) must still hold."""
    current = _target(conn, by, operator_id).role
    if operator_id == by.id and role != "supervisor":
        raise OwnAccount()
    if current != was:
        raise StaleState(why=current)
    web_operators.set_role(conn, operator_id=operator_id, role=role)
    audit.record(conn, now, by.actor, "operator_role", _name(conn, operator_id),
                 detail={"role": role, "was": was})
    return {"role": role}


def set_active(conn: Conn, env: Env, now: dt.datetime, *, by: Operator,
               operator_id: int, active: bool) -> dict[str, Any]:
    """Deactivate (every session of the operator ends now) or reactivate an operator."""
    name = _target(conn, by, operator_id).name
    if operator_id == by.id and not active:
        raise OwnAccount()
    web_operators.set_active(conn, operator_id=operator_id, active=active)
    if not active:
        sessions.end_all(conn, "operator", operator_id)
    audit.record(conn, now, by.actor, "operator_reactivate" if active else "operator_deactivate",
                 name, detail={"active": active})
    return {"active": active}


def set_password(conn: Conn, env: Env, now: dt.datetime, *, by: Operator,
                 operator_id: int, salt: bytes, pw_hash: bytes,
                 ttl: dt.timedelta) -> str | None:
    """A new password: the operator's sessions end and its failed logins are forgotten. A
    supervisor resetting its own goes on in a new session (returns its token), like an agent."""
    name = _target(conn, by, operator_id).name
    web_operators.set_password(conn, operator_id=operator_id, salt=salt, pw_hash=pw_hash)
    sessions.end_all(conn, "operator", operator_id)
    limits.forget_login(conn, f"op:{name}")
    audit.record(conn, now, by.actor, "operator_password", name)
    return sessions.start(conn, now, "operator", by.id, ttl) if operator_id == by.id else None
