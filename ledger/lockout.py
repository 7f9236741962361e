"""The agent's two locks (R-2): money (transaction password) and web login, each on a fixed ladder.

Wrong transaction passwords (SMS, USSD, API, CLI and web confirmations) lock recharges and
balance queries; failed web logins (management password, SMS login codes) and wrong management
passwords lock the web login only. Each lock counts its own failures: ``lockout_attempts`` in a
row lock it. The n-th lock holds ``lockout_ladder[n-1]``; past the ladder's end a lock holds
until an operator unlocks. A right password resets the failure count, not the ladder step;
``lockout_reset`` (24 h) without a failure resets both. Attempts while locked are refused
without counting. Each lock is told to the agent by SMS (the outbox, in its language).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from typing import Literal

from ledger import events
from ledger.context import Env
from smsmenu.core.clock import from_iso, iso
from smsmenu.core.errors import AgentLocked, WebLocked

Kind = Literal["tx", "web"]
UNTIL_UNLOCKED = "9999-12-31T00:00:00.000000Z"
"""``locked_until`` of a lock past the ladder's end: it holds until an operator unlocks."""

COLUMNS: dict[Kind, tuple[str, str, str, str]] = {
    # failures in a row, locked until, ladder step (locks so far), last failure
    "tx": ("failed_attempts", "locked_until", "tx_lock_step", "tx_failed_at"),
    "web": ("web_failures", "web_locked_until", "web_lock_step", "web_failed_at"),
}
_UNLOCK = ", ".join(f"{n} = 0, {u} = NULL, {s} = 0, {a} = NULL"
                    for n, u, s, a in COLUMNS.values())


def kind_of(purpose: str) -> Kind:
    """The lock a password belongs to: the transaction password's, or the web login's (mgmt)."""
    return "tx" if purpose == "tx" else "web"


@dataclass(frozen=True, slots=True)
class Lock:
    """One lock of one agent as stored."""

    kind: Kind
    failures: int
    until: str | None
    step: int
    failed_at: str | None

    def active(self, now: dt.datetime) -> bool:
        return self.until is not None and from_iso(self.until) > now

    @property
    def for_operator(self) -> bool:
        """Held until an operator unlocks (the ladder is used up)."""
        return self.until == UNTIL_UNLOCKED

    def forgotten(self, env: Env, now: dt.datetime) -> bool:
        """A quiet day: the failure count and the ladder step start over."""
        return (self.failed_at is not None
                and now - from_iso(self.failed_at) >= env.rules.lockout_reset)


def error(env: Env, lock: Lock) -> AgentLocked:
    """The refusal an active lock gives: which lock, and until when (or an operator)."""
    cls = AgentLocked if lock.kind == "tx" else WebLocked
    if lock.until is None or lock.for_operator:
        return cls(until="")
    return cls(until=env.local(from_iso(lock.until)).strftime("%H:%M"))


def refuse(env: Env, now: dt.datetime, lock: Lock) -> None:
    """Raise the lock's refusal while it holds."""
    if lock.active(now):
        raise error(env, lock)


def succeeded(conn: sqlite3.Connection, agent_id: int, lock: Lock) -> None:
    """A right password: the failure count starts over; the ladder step stays (R-2)."""
    if lock.failures or lock.until:
        failures, until, _, _ = COLUMNS[lock.kind]
        conn.execute(f"UPDATE agents SET {failures} = 0, {until} = NULL WHERE id = ?",
                     (agent_id,))


def failed(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, agent_id: int,
           msisdn: str, lang: str, lock: Lock) -> Lock:
    """Count one failure against a lock that does not hold; the lock as it is now.

    The ``lockout_attempts``-th failure in a row locks for the ladder's next step and queues
    the SMS that tells the agent. The caller raises ``error(...)`` when the result is active.
    """
    failures, step = (0, 0) if lock.forgotten(env, now) else (lock.failures, lock.step)
    failures += 1
    until = None
    if failures >= env.rules.lockout_attempts:
        ladder = env.rules.lockout_ladder
        failures, step = 0, step + 1
        until = iso(now + ladder[step - 1]) if step <= len(ladder) else UNTIL_UNLOCKED
    after = Lock(lock.kind, failures, until, step, iso(now))
    names = COLUMNS[lock.kind]
    conn.execute(f"UPDATE agents SET {names[0]} = ?, {names[1]} = ?, {names[2]} = ?, "
                 f"{names[3]} = ? WHERE id = ?",
                 (after.failures, after.until, after.step, after.failed_at, agent_id))
    if until is not None:
        _tell(conn, env, now, msisdn, lang, after)
    return after


def _tell(conn: sqlite3.Connection, env: Env, now: dt.datetime, msisdn: str, lang: str,
          lock: Lock) -> None:
    """The SMS to the agent: which lock, until when (or an operator), call if it was not you."""
    assert lock.until is not None
    env.notify(conn, events.LockSet(msisdn, lang, lock.kind, env.rules.lockout_attempts,
                                    env.local(from_iso(lock.until)), lock.for_operator), now)


def unlock(conn: sqlite3.Connection, agent_id: int) -> None:
    """An operator's unlock: both locks, their failure counts and their ladders start over."""
    conn.execute(f"UPDATE agents SET {_UNLOCK} WHERE id = ?", (agent_id,))
