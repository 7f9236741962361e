"""What `smsmenu operator` changes, each one audited transaction: create, password, active."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from ledger import Ledger, audit
from ledger.context import Env
from ledger.store import Conn, web_operators
from ledger.store.web_operators import Account, StaffRow
from smsmenu.cli import common
from smsmenu.web import limits, operators, sessions
from smsmenu.web.errors import OwnAccount, PageNotFound
from smsmenu.web.operators import Operator

MANAGER = "supervisor"
"""The role that manages operators: one active account of it must always remain."""


def actor() -> Operator:
    """Who acts from the command line, as the audit log names it: ``cli:<OS user>``."""
    shell = common.actor()
    return Operator(shell.id, shell.name, shell.role, True)


def _named(conn: Conn, name: str) -> Account:
    found = web_operators.account_named(conn, name=name)
    if found is None:
        raise PageNotFound()
    return found


def set_password(conn: Conn, env: Env, now: dt.datetime, *, name: str, salt: bytes,
                 pw_hash: bytes) -> dict[str, Any]:
    """A new password: the operator's web sessions end and its failed logins are forgotten."""
    found = _named(conn, name)
    web_operators.set_password(conn, operator_id=found.id, salt=salt, pw_hash=pw_hash)
    sessions.end_all(conn, "operator", found.id)
    limits.forget_login(conn, f"op:{name}")
    audit.record(conn, now, actor().actor, "operator_password", found.name)
    return {"name": found.name, "role": found.role}


def set_active(conn: Conn, env: Env, now: dt.datetime, *, name: str,
               active: bool) -> dict[str, Any]:
    """Deactivate (its sessions end now; never the last active supervisor) or reactivate."""
    found = _named(conn, name)
    if (not active and found.active and found.role == MANAGER
            and web_operators.active_with_role(conn, role=MANAGER) <= 1):
        raise OwnAccount()
    web_operators.set_active(conn, operator_id=found.id, active=active)
    if not active:
        sessions.end_all(conn, "operator", found.id)
    audit.record(conn, now, actor().actor,
                 "operator_reactivate" if active else "operator_deactivate", found.name,
                 detail={"active": active})
    return {"name": found.name, "role": found.role, "active": active}


async def listing(ledger: Ledger) -> list[StaffRow]:
    """Every operator (no password fields): active ones first, then by name."""
    return await ledger.read(web_operators.listing())


async def change(ledger: Ledger, action: str, name: str, detail: dict[str, Any],
                 run: Callable[..., dict[str, Any]], **kw: Any) -> dict[str, Any]:
    """``run`` (which writes its audit row) as one transaction; a refusal is audited too, as
    ``action`` on ``name`` with ``detail`` (never a password)."""
    done: dict[str, Any] = await operators.audited(ledger, actor(), action, name, detail, run,
                                                   name=name, **kw)
    return done


async def create(ledger: Ledger, name: str, password: str, role: str) -> dict[str, Any]:
    """A new operator (checked and hashed like the back office's), audited like its own."""
    fields = await operators.prepare(name, password, role)
    done: dict[str, Any] = await operators.audited(
        ledger, actor(), "operator_create", fields["name"], {"name": fields["name"], "role": role},
        operators.insert, actor=actor().actor, **fields)
    return done
