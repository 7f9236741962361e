"""Operator accounts (scrypt passwords, roles), what each role may do, and the audit log."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import secrets
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ledger import Ledger
from ledger.context import Env
from ledger.store.queries import Query
from smsmenu.core.clock import iso
from smsmenu.core.errors import InvalidCommand, SmsmenuError
from smsmenu.web.errors import DuplicateOperator, WeakPassword

ROLES = ("clerk", "hotline", "supervisor")
MIN_PASSWORD = 10
PERMISSIONS: dict[str, frozenset[str]] = {
    "clerk": frozenset({"view", "lookup", "open", "deposit", "suspend", "unlock", "close",
                        "invoice", "report"}),
    "hotline": frozenset({"view", "lookup", "unlock", "reversal_check"}),
    "supervisor": frozenset({"view", "lookup", "open", "deposit", "suspend", "unlock", "close",
                             "invoice", "rate", "reversal_check", "reversal", "report", "audit",
                             "operators"}),
}
"""Counter clerks run the hall; the hotline looks up and prepares reversals; supervisors all
(and only they manage operator accounts)."""
SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1, "dklen": 32}


@dataclass(frozen=True, slots=True)
class Operator:
    id: int
    name: str
    role: str
    active: bool

    def may(self, permission: str) -> bool:
        return self.active and permission in PERMISSIONS.get(self.role, frozenset())


def hash_password(password: str, salt: bytes) -> bytes:
    """scrypt: operator passwords are free text, so a slow, memory-hard KDF is right here."""
    return hashlib.scrypt(password.encode(), salt=salt, **SCRYPT)


def verify_password(password: str, salt: bytes, stored: bytes) -> bool:
    return hmac.compare_digest(hash_password(password, salt), stored)


def insert(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, name: str, role: str,
           salt: bytes, pw_hash: bytes) -> dict[str, Any]:
    if conn.execute("SELECT 1 FROM web_operators WHERE name = ?", (name,)).fetchone():
        raise DuplicateOperator(name=name)
    cur = conn.execute("INSERT INTO web_operators (name, role, salt, pw_hash, created_at) "
                       "VALUES (?, ?, ?, ?, ?)", (name, role, salt, pw_hash, iso(now)))
    return {"operator_id": int(cur.lastrowid or 0), "name": name, "role": role}


async def hashed(password: str) -> dict[str, bytes]:
    """A fresh salt and the scrypt hash of a long enough password (off the event loop)."""
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(min=MIN_PASSWORD)
    salt = secrets.token_bytes(16)
    return {"salt": salt, "pw_hash": await asyncio.to_thread(hash_password, password, salt)}


async def prepare(name: str, password: str, role: str) -> dict[str, Any]:
    """A new operator's checked fields for ``insert``, its password hashed."""
    name = name.strip()
    if role not in ROLES:
        raise InvalidCommand(why=f"role must be one of {', '.join(ROLES)}")
    if not name or len(name) > 40 or any(c.isspace() for c in name):
        raise InvalidCommand(why="an operator name is 1-40 characters without spaces")
    return {"name": name, "role": role, **await hashed(password)}


async def create_operator(ledger: Ledger, name: str, password: str, role: str) -> dict[str, Any]:
    """Add an operator (the first one too: ``smsmenu operator add`` calls this)."""
    return await ledger.op(insert, **await prepare(name, password, role))


def by_name(name: str) -> Query[tuple[Operator, bytes, bytes] | None]:
    """An operator with its salt and hash, for the login check."""
    return Query("SELECT id, name, role, active, salt, pw_hash FROM web_operators WHERE name = ?",
                 (name,), lambda rows: (Operator(rows[0][0], rows[0][1], rows[0][2],
                                                 bool(rows[0][3])), rows[0][4], rows[0][5])
                 if rows else None)


def by_id(operator_id: int) -> Query[Operator | None]:
    return Query("SELECT id, name, role, active FROM web_operators WHERE id = ?", (operator_id,),
                 lambda rows: Operator(rows[0][0], rows[0][1], rows[0][2], bool(rows[0][3]))
                 if rows else None)


def audit(conn: sqlite3.Connection, now: dt.datetime, who: Operator, action: str, target: str,
          detail: dict[str, Any], outcome: str) -> None:
    """Append one line to the audit log. ``detail`` must never hold a password."""
    conn.execute("INSERT INTO web_audit (at, operator_id, operator, role, action, target, detail,"
                 " outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (iso(now), who.id, who.name, who.role, action, target,
                  json.dumps(detail, ensure_ascii=False, sort_keys=True), outcome))


def _audited(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, run: Callable[..., Any],
             who: Operator, action: str, target: str, detail: dict[str, Any],
             kw: dict[str, Any]) -> Any:
    result = run(conn, env, now, **kw)
    audit(conn, now, who, action, target, detail, "ok")
    return result


def _line(conn: sqlite3.Connection, env: Env, now: dt.datetime, **kw: Any) -> None:
    audit(conn, now, **kw)


async def audited(ledger: Ledger, who: Operator, action: str, target: str,
                  detail: dict[str, Any], run: Callable[..., Any], **kw: Any) -> Any:
    """Run ``run(conn, env, now, **kw)`` and its audit line as ONE transaction; a refusal is
    audited too (with its error code) in a transaction of its own."""
    try:
        return await ledger.op(_audited, run=run, who=who, action=action, target=target,
                               detail=detail, kw=kw)
    except SmsmenuError as exc:
        await ledger.op(_line, who=who, action=action, target=target, detail=detail,
                        outcome=exc.code)
        raise


async def note(ledger: Ledger, who: Operator, action: str, target: str, detail: dict[str, Any],
               outcome: str) -> None:
    """An audit line for an action that ran elsewhere (a reversal: it awaits billing)."""
    await ledger.op(_line, who=who, action=action, target=target, detail=detail,
                    outcome=outcome)


def log_page(limit: int, offset: int) -> Query[list[dict[str, Any]]]:
    cols = ("id", "at", "operator", "role", "action", "target", "detail", "outcome")
    return Query(f"SELECT {', '.join(cols)} FROM web_audit ORDER BY id DESC LIMIT ? OFFSET ?",
                 (limit, offset), lambda rows: [dict(zip(cols, r, strict=True)) for r in rows])


async def bootstrap(ledger: Ledger, environ: Mapping[str, str]) -> dict[str, Any] | None:
    """The first operator from ``SMSMENU_WEB_OPERATOR`` (``name`` or ``name:role``, supervisor by
    default) and ``SMSMENU_WEB_OPERATOR_PASSWORD``, only while there is no operator at all."""
    spec, password = environ.get("SMSMENU_WEB_OPERATOR"), environ.get(
        "SMSMENU_WEB_OPERATOR_PASSWORD")
    if not spec or not password:
        return None
    if await ledger.read(Query("SELECT COUNT(*) FROM web_operators", (), lambda r: r[0][0])):
        return None
    name, _, role = spec.partition(":")
    return await create_operator(ledger, name, password, role or "supervisor")
