"""Agents: lookup, the usable-for-money checks (R-5, R-6) and passwords with lockout (R-2)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from ledger import passwords
from ledger.context import Env
from smsmenu.clock import from_iso, iso
from smsmenu.errors import (
    AgentClosed,
    AgentLocked,
    AgentSuspended,
    UnknownAgent,
    WrongPassword,
)

COLUMNS = ("id, msisdn, name, account_id, status, phone_suspended, rate_ppm, lang, salt, "
           "tx_hash, mgmt_hash, failed_attempts, locked_until, opened_at, closed_at")


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

    def __repr__(self) -> str:
        return f"Agent(id={self.id}, msisdn={self.msisdn!r}, status={self.status!r})"

    @property
    def account_no(self) -> str:
        """The agent account number, the web login (R-4)."""
        return f"A{self.id:08d}"

    def rate(self, env: Env) -> int:
        return env.rules.default_rate_ppm if self.rate_ppm is None else self.rate_ppm

    def locked(self, now: dt.datetime) -> bool:
        return self.locked_until is not None and from_iso(self.locked_until) > now


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
    if agent.locked(now):
        raise AgentLocked(until=_until(env, agent))
    if agent.phone_suspended:
        raise AgentSuspended()


def _until(env: Env, agent: Agent) -> str:
    assert agent.locked_until is not None
    return env.local(from_iso(agent.locked_until)).strftime("%H:%M")


def check_password(conn: sqlite3.Connection, env: Env, now: dt.datetime, agent: Agent,
                   purpose: str, password: str) -> None:
    """R-2: verify a 6-digit password; N wrong in a row lock the agent for the lockout time.

    A wrong password raises an error whose ``commit_effects`` keeps the failure count.
    """
    if agent.locked(now):
        raise AgentLocked(until=_until(env, agent))
    passwords.check_format(password)
    stored = agent.tx_hash if purpose == "tx" else agent.mgmt_hash
    if passwords.matches(env.secret, agent.salt, purpose, password, stored):
        if agent.failed_attempts or agent.locked_until:
            conn.execute("UPDATE agents SET failed_attempts = 0, locked_until = NULL WHERE id = ?",
                         (agent.id,))
        return
    failures = agent.failed_attempts + 1
    if failures >= env.rules.lockout_attempts:
        until = iso(now + env.rules.lockout)
        conn.execute("UPDATE agents SET failed_attempts = 0, locked_until = ? WHERE id = ?",
                     (until, agent.id))
        raise AgentLocked(until=env.local(now + env.rules.lockout).strftime("%H:%M"))
    conn.execute("UPDATE agents SET failed_attempts = ? WHERE id = ?", (failures, agent.id))
    raise WrongPassword(left=env.rules.lockout_attempts - failures)


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
