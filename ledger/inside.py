"""The ledger operations a caller runs inside its own transaction (the menu's step, on the
connection ``Ledger.op`` gives it): the one surface the menu uses besides ``ledger.api``.

Each is the ledger's own function, named here so the caller imports no internal module; the
money rules and their SQL stay in the modules they come from.
"""

from __future__ import annotations

import sqlite3

from ledger import admin, agents, credentials, outbox, passwords, postings, recharge
from ledger.agents import Agent
from ledger.api import AgentInfo, Recharge
from ledger.context import Env
from ledger.store import queries
from ledger.store.writer import savepoint

__all__ = ["Agent", "Env", "agent_by_id", "agent_info", "available", "begin_recharge",
           "begin_retry", "change_password", "check_password", "check_password_format",
           "failed_recharges", "find_agent", "get_recharge", "lease_sms", "mark_sent",
           "password_digest", "password_matches",
           "queue_sms", "recent_recharges", "replace_password", "require_can_recharge",
           "savepoint"]

find_agent = agents.find
"""The open agent on a number, else the most recently closed one, else None."""
agent_by_id = agents.by_id
require_can_recharge = agents.require_can_recharge
"""R-5 and the money lock: raise why this agent may not recharge now."""
check_password = agents.check_password
"""R-2: verify a password against its lock (a failure is counted and kept)."""
replace_password = credentials.replace_password
change_password = credentials.change_password
"""R-21: check the old password (counted toward its lock, R-2), then store the new one."""
begin_recharge = recharge.begin
"""Check every rule and hold the money (pending); billing is asked by ``Ledger.bill``."""
begin_retry = recharge.begin_retry
get_recharge = recharge.get
queue_sms = outbox.enqueue
"""Queue one SMS in the caller's transaction (sent once it commits)."""
mark_sent = outbox.mark_sent
lease_sms = outbox.lease
"""Lease rows just queued to the instance that sends them at once (no other drain claims them)."""
check_password_format = passwords.check_format
password_matches = passwords.matches
password_digest = passwords.digest


def agent_info(conn: sqlite3.Connection, env: Env, agent: Agent) -> AgentInfo:
    """What the agent may see of its account (balance, available, locks)."""
    return admin.info(conn, env, agent)


def available(conn: sqlite3.Connection, agent: Agent) -> int:
    """The agent's deposit less what recharges in progress hold, in fen."""
    return postings.available(conn, agent.account_id)


def failed_recharges(conn: sqlite3.Connection, agent_id: int, limit: int,
                     offset: int = 0) -> list[Recharge]:
    """R-18: the agent's failed recharges, newest first."""
    return queries.failed(agent_id, limit, offset).run(conn)


def recent_recharges(conn: sqlite3.Connection, agent_id: int, limit: int,
                     offset: int = 0) -> list[Recharge]:
    """R-21: the agent's recharges, newest first."""
    return queries.records(agent_id, limit=limit, offset=offset).run(conn)

