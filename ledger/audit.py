"""Who did what: each operator effect writes its audit row in the effect's own transaction.

An operation that changes money or an account on someone's behalf (deposit, close, suspend,
unlock, rate, reversal, invoice, open; the operator accounts in ``smsmenu.web.staff``) takes an
``Actor`` and calls ``record`` after its effect, on the same connection: the row commits with the
effect or not at all, and an idempotent replay (which returns before any effect) writes none.
A refusal has no effect and no transaction of its own; its caller records it (``refused``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass

from ledger.store import Conn, web_audit

Detail = Mapping[str, str | int | bool | None]
"""An effect's particulars by name (amounts as ``*_fen``); never a password nor a key."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: an operator (its id, name, role), the shell (``cli:<user>``, role ``cli``) or
    the platform itself (``SYSTEM``)."""

    id: int
    name: str
    role: str


SYSTEM = Actor(0, "system", "system")
"""The platform acting on its own (demo seeding, the bank's top-up notices, the follow-up)."""


def _detail(detail: Detail) -> str:
    return json.dumps(dict(detail), ensure_ascii=False, sort_keys=True)


def record(conn: Conn, now: dt.datetime, actor: Actor, action: str, target: str, *,
           agent_id: int | None = None, amount_fen: int | None = None,
           detail: Detail | None = None, outcome: str = "ok") -> int:
    """Append the row of one effect (or of a refusal: ``outcome`` its error code); its id."""
    return web_audit.append(conn, at=now, line=web_audit.Line(
        actor.id, actor.name, actor.role, action, target, _detail(detail or {}), outcome,
        agent_id, amount_fen))


def agent_target(agent_id: int) -> str:
    """How a row names an agent: its account number."""
    return f"A{agent_id:08d}"
