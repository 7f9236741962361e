"""Agents: lookup, the usable-for-money checks (R-5, R-6) and passwords with their locks (R-2)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from ledger import lockout, passwords
from ledger.context import Env
from ledger.lockout import Lock
from smsmenu.core.clock import iso
from smsmenu.core.errors import (
    AgentClosed,
    AgentSuspended,
    UnknownAgent,
    WrongPassword,
)

COLUMNS = ("id, msisdn, name, account_id, status, phone_suspended, rate_ppm, lang, salt, "
           "tx_hash, mgmt_hash, failed_attempts, locked_until, opened_at, closed_at, "
           "tx_lock_step, tx_failed_at, web_failures, web_locked_until, web_lock_step, "
           "web_failed_at")


@dataclass(frozen=True, slots=True)
class Agent:
    """One agent row. ``repr`` leaves the hashes out."""

    id: int
    msisdn: str
    name: str
    account_id: int
    status: str
    phone_suspended: bool
    rate_ppm: int | None
    lang: str
    salt: bytes
    tx_hash: bytes
    mgmt_hash: bytes
    failed_attempts: int
    locked_until: str | None
    opened_at: str
    closed_at: str | None
    tx_lock_step: int
    tx_failed_at: str | None
    web_failures: int
    web_locked_until: str | None
    web_lock_step: int
    web_failed_at: str | None

    def __repr__(self) -> str:
        return f"Agent(id={self.id}, msisdn={self.msisdn!r}, status={self.status!r})"

    @property
    def account_no(self) -> str:
        """The agent account number, the web login (R-4)."""
        return f"A{self.id:08d}"

    def rate(self, env: Env) -> int:
        return env.rules.default_rate_ppm if self.rate_ppm is None else self.rate_ppm

    def lock(self, kind: lockout.Kind) -> Lock:
        """The money lock (``tx``) or the web login's (``web``)."""
        if kind == "tx":
            return Lock("tx", self.failed_attempts, self.locked_until, self.tx_lock_step,
                        self.tx_failed_at)
        return Lock("web", self.web_failures, self.web_locked_until, self.web_lock_step,
                    self.web_failed_at)

    def locked(self, now: dt.datetime) -> bool:
        """Recharges and balance queries are locked (wrong transaction passwords)."""
        return self.lock("tx").active(now)


def _agent(row: tuple[object, ...] | None) -> Agent | None:
    if row is None:
        return None
    values = list(row)
    values[5] = bool(values[5])
    return Agent(*values)  # type: ignore[arg-type]


_OPEN = f"SELECT {COLUMNS} FROM agents WHERE msisdn = ? AND status != 'closed'"
_LATEST = f"SELECT {COLUMNS} FROM agents WHERE msisdn = ? ORDER BY id DESC LIMIT 1"
_BY_ID = f"SELECT {COLUMNS} FROM agents WHERE id = ?"


def find(conn: sqlite3.Connection, msisdn: str) -> Agent | None:
    """The open agent on ``msisdn``, else the most recently closed one, else None."""
    # At most one agent per number is open (unique index agents_open_msisdn, which this
    # lookup uses: no sort); without one, every agent on the number is closed.
    row = conn.execute(_OPEN, (msisdn,)).fetchone()
    if row is None:
        row = conn.execute(_LATEST, (msisdn,)).fetchone()
    return _agent(row)


def by_id(conn: sqlite3.Connection, agent_id: int) -> Agent:
    agent = _agent(conn.execute(_BY_ID, (agent_id,)).fetchone())
    if agent is None:
        raise UnknownAgent(msisdn=f"#{agent_id}")
    return agent


def get(conn: sqlite3.Connection, msisdn: str) -> Agent:
    agent = find(conn, msisdn)
    if agent is None:
        raise UnknownAgent(msisdn=msisdn)
    return agent


def get_open(conn: sqlite3.Connection, msisdn: str) -> Agent:
    """An agent that is not closed (R-6), or the error that says why not."""
    agent = get(conn, msisdn)
    if agent.status == "closed":
        raise AgentClosed()
    return agent


def require_can_recharge(agent: Agent, env: Env, now: dt.datetime) -> None:
    """R-5: no recharge while the agent's own phone is suspended; nor when locked or closed."""
    if agent.status == "closed":
        raise AgentClosed()
    lockout.refuse(env, now, agent.lock("tx"))
    if agent.phone_suspended:
        raise AgentSuspended()


def check_password(conn: sqlite3.Connection, env: Env, now: dt.datetime, agent: Agent,
                   purpose: str, password: str) -> None:
    """R-2: verify a 6-digit password against its own lock (see ``ledger.lockout``).

    The transaction password counts toward the money lock, the management password toward the
    web login's. A locked password is refused even when right (after the same hashing work).
    A wrong one raises an error whose ``commit_effects`` keeps the count (and the lock's SMS).
    """
    lock = agent.lock(lockout.kind_of(purpose))
    stored = agent.tx_hash if purpose == "tx" else agent.mgmt_hash
    right = passwords.well_formed(password) and passwords.matches(
        env.secret, agent.salt, purpose, password, stored)
    lockout.refuse(env, now, lock)
    passwords.check_format(password)
    if right:
        lockout.succeeded(conn, agent.id, lock)
        return
    after = lockout.failed(conn, env, now, agent_id=agent.id, msisdn=agent.msisdn,
                           lang=agent.lang, lock=lock)
    lockout.refuse(env, now, after)
    raise WrongPassword(left=env.rules.lockout_attempts - after.failures)


def set_password(conn: sqlite3.Connection, env: Env, agent: Agent, purpose: str,
                 password: str, now: dt.datetime) -> None:
    """Store a new password; a new management password (the web login) also marks the
    agent's credentials as changed, which ends its older web sessions."""
    passwords.check_format(password)
    digest = passwords.digest(env.secret, agent.salt, purpose, password)
    if purpose == "tx":
        conn.execute("UPDATE agents SET tx_hash = ? WHERE id = ?", (digest, agent.id))
    else:
        conn.execute("UPDATE agents SET mgmt_hash = ?, credentials_at = ? WHERE id = ?",
                     (digest, iso(now), agent.id))
