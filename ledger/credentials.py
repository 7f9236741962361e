"""Changing what identifies an agent: its two passwords (R-21) and its bound number (R-7)."""

from __future__ import annotations

import datetime as dt
import sqlite3

from ledger import agents, events, passwords
from ledger.api import MsisdnChange, PasswordChange
from ledger.context import Env
from smsmenu.core.clock import iso
from smsmenu.core.errors import DuplicateAgent, SamePassword
from smsmenu.core.types import TargetKind

PURPOSES = ("tx", "mgmt")


def change_password(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, msisdn: str,
                    purpose: str, old: str, new: str) -> PasswordChange:
    """Check the old password (counts toward lockout), then store the new one (6 digits)."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}")
    agent = agents.get_open(conn, msisdn)
    passwords.check_format(new)
    agents.check_password(conn, env, now, agent, purpose, old)
    if old == new:
        raise SamePassword()  # says why (it is an InvalidPassword, R-2)
    return replace_password(conn, env, now, agent=agent, purpose=purpose, new=new)


def replace_password(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, agent: agents.Agent,
                     purpose: str, new: str) -> PasswordChange:
    """Store a new password for an agent whose old one was already checked; notify it."""
    agents.set_password(conn, env, agent, purpose, new, now)
    notices = env.notify(conn, events.PasswordChanged(agent.msisdn, agent.lang, purpose), now)
    return PasswordChange(agent.msisdn, purpose, notices)


def change_msisdn(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, msisdn: str,
                  new_msisdn: str, mgmt_password: str) -> MsisdnChange:
    """R-7: bind the agent to another CDMA number, confirmed by the management password."""
    agent = agents.get_open(conn, msisdn)
    number = env.plan.validate(TargetKind.MOBILE, new_msisdn)
    agents.check_password(conn, env, now, agent, "mgmt", mgmt_password)
    other = agents.find(conn, number)
    if other is not None and other.status != "closed":
        raise DuplicateAgent(msisdn=number)
    conn.execute("UPDATE agents SET msisdn = ?, credentials_at = ? WHERE id = ?",
                 (number, iso(now), agent.id))
    notices = env.notify(conn, events.MsisdnChanged(number, agent.lang), now)
    return MsisdnChange(agent.msisdn, number, notices)
