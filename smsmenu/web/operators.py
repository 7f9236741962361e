"""Operator accounts (scrypt passwords, roles), what each role may do, and the audit log."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from ledger import Ledger
from ledger import audit as ledger_audit
from ledger.audit import SYSTEM, Actor
from ledger.context import Env
from ledger.store import Conn, web_operators
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

    @property
    def actor(self) -> Actor:
        """Who the audit rows of this operator's effects name."""
        return Actor(self.id, self.name, self.role)

    @classmethod
    def of(cls, account: web_operators.Account) -> Operator:
        return cls(account.id, account.name, account.role, account.active)


def hash_password(password: str, salt: bytes) -> bytes:
    """scrypt: operator passwords are free text, so a slow, memory-hard KDF is right here."""
    return hashlib.scrypt(password.encode(), salt=salt, **SCRYPT)


def verify_password(password: str, salt: bytes, stored: bytes) -> bool:
    return hmac.compare_digest(hash_password(password, salt), stored)


def insert(conn: Conn, env: Env, now: dt.datetime, *, name: str, role: str,
           salt: bytes, pw_hash: bytes, actor: Actor = SYSTEM) -> dict[str, Any]:
    """A new operator and its audit row (``actor`` creates it)."""
    if web_operators.name_taken(conn, name=name):
        raise DuplicateOperator(name=name)
    new_id = web_operators.insert(conn, name=name, role=role, salt=salt, pw_hash=pw_hash,
                                  created=now)
    ledger_audit.record(conn, now, actor, "operator_create", name,
                        detail={"name": name, "role": role})
    return {"operator_id": new_id, "name": name, "role": role}


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
    return await ledger.transaction(partial(insert, **await prepare(name, password, role)))


async def by_name(ledger: Ledger, name: str) -> tuple[Operator, bytes, bytes] | None:
    """An operator with its salt and hash, for the login check."""
    found = await ledger.read(web_operators.by_name(name))
    return None if found is None else (Operator.of(found.account), found.salt, found.pw_hash)


async def by_id(ledger: Ledger, operator_id: int) -> Operator | None:
    found = await ledger.read(web_operators.by_id(operator_id))
    return None if found is None else Operator.of(found)


def audit(conn: Conn, now: dt.datetime, who: Operator, action: str, target: str,
          detail: ledger_audit.Detail, outcome: str, agent_id: int | None = None) -> None:
    """Append one line to the audit log (a login, a refusal). ``detail`` never holds a
    password."""
    ledger_audit.record(conn, now, who.actor, action, target, agent_id=agent_id,
                        amount_fen=_amount(detail), detail=detail, outcome=outcome)


def _amount(detail: ledger_audit.Detail) -> int | None:
    amount = detail.get("amount_fen")
    return amount if isinstance(amount, int) and not isinstance(amount, bool) else None


def _line(conn: Conn, env: Env, now: dt.datetime, **kw: Any) -> None:
    audit(conn, now, **kw)


async def audited(ledger: Ledger, who: Operator, action: str, target: str,
                  detail: ledger_audit.Detail, run: Callable[..., Any],
                  audit_agent: int | None = None, **kw: Any) -> Any:
    """Run ``run(conn, env, now, **kw)`` as ONE transaction; ``run`` writes its effect's audit
    row in it (``ledger.audit``: a replay writes none). A refusal has no effect: it is audited
    (``action`` on ``target`` with ``detail``, its error code as outcome) in a transaction of
    its own, naming the agent ``audit_agent`` when there is one."""
    try:
        return await ledger.transaction(partial(run, **kw))
    except SmsmenuError as exc:
        await refused(ledger, who, action, target, detail, exc, audit_agent)
        raise


async def refused(ledger: Ledger, who: Operator, action: str, target: str,
                  detail: ledger_audit.Detail, exc: SmsmenuError,
                  agent_id: int | None = None) -> None:
    """The audit row of a refused action (its outcome the error's code)."""
    await ledger.transaction(partial(_line, who=who, action=action, target=target,
                                     detail=detail, outcome=exc.code, agent_id=agent_id))


async def bootstrap(ledger: Ledger, environ: Mapping[str, str]) -> dict[str, Any] | None:
    """The first operator from ``SMSMENU_WEB_OPERATOR`` (``name`` or ``name:role``, supervisor by
    default) and ``SMSMENU_WEB_OPERATOR_PASSWORD``, only while there is no operator at all."""
    spec, password = environ.get("SMSMENU_WEB_OPERATOR"), environ.get(
        "SMSMENU_WEB_OPERATOR_PASSWORD")
    if not spec or not password:
        return None
    if await ledger.read(web_operators.count()):
        return None
    name, _, role = spec.partition(":")
    return await create_operator(ledger, name, password, role or "supervisor")
