"""Agent life cycle: open (R-1..R-3), deposit (R-8..R-12), suspend (R-5), close (R-6), changes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import uuid
from typing import Any

from ledger import agents, audit, events, idempotency, lockout, money, passwords, postings
from ledger.agents import Agent
from ledger.api import (
    AgentInfo,
    AgentOpened,
    Closed,
    Deposit,
    DepositChannel,
    as_dict,
    notices_from,
)
from ledger.audit import SYSTEM, Actor
from ledger.context import Env
from smsmenu.core.clock import iso
from smsmenu.core.errors import (
    CloseRefused,
    DuplicateAgent,
    InvalidAmount,
    InvalidCommand,
    InvalidRate,
    StaleState,
)
from smsmenu.core.types import TargetKind


def info(conn: sqlite3.Connection, env: Env, agent: Agent) -> AgentInfo:
    """What an operator or the agent may see of an account (no hashes, no salt)."""
    balance, reserved = conn.execute(
        "SELECT balance, reserved FROM accounts WHERE id = ?", (agent.account_id,)).fetchone()
    return AgentInfo(agent.id, agent.account_no, agent.msisdn, agent.name, agent.status,
                     agent.phone_suspended, agent.locked_until, agent.web_locked_until,
                     agent.rate(env), agent.lang, balance, reserved, balance - reserved,
                     agent.opened_at, agent.closed_at)


def view(conn: sqlite3.Connection, env: Env, agent: Agent) -> dict[str, Any]:
    """``info`` as a dict (the web pages' agent)."""
    return as_dict(info(conn, env, agent))


def _check_rate(env: Env, rate_ppm: int | None) -> None:
    """R-16: a per-agent rate obeys the same bounds as the default, 0 <= rate < max_rate."""
    if rate_ppm is not None and not 0 <= rate_ppm < env.rules.max_rate_ppm:
        raise InvalidRate(max=money._format_ppm(env.rules.max_rate_ppm))


def open_agent(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, msisdn: str, name: str,
               tx_password: str, mgmt_password: str, rate_ppm: int | None = None,
               lang: str | None = None, actor: Actor = SYSTEM) -> AgentOpened:
    """R-1: one agent per CDMA number; R-2: two 6-digit passwords; R-3: a notice, no passwords."""
    number = env.plan.validate(TargetKind.MOBILE, msisdn)
    passwords.check_format(tx_password)
    passwords.check_format(mgmt_password)
    _check_rate(env, rate_ppm)
    if not name.strip():
        raise InvalidCommand(why="the agent's name must not be empty")
    existing = agents.find(conn, number)
    if existing is not None and existing.status != "closed":
        raise DuplicateAgent(msisdn=number)
    stamp = iso(now)
    account = int(conn.execute(
        "INSERT INTO accounts (code, kind, no_overdraft) VALUES (?, 'agent', 1) RETURNING id",
        (f"agent:new:{uuid.uuid4().hex}",)).fetchone()[0])
    salt = passwords.new_salt()
    agent_id = int(conn.execute(
        "INSERT INTO agents (msisdn, name, account_id, status, rate_ppm, lang, salt, tx_hash, "
        "mgmt_hash, opened_at) VALUES (?, ?, ?, 'active', ?, ?, ?, ?, ?, ?) RETURNING id",
        (number, name.strip(), account, rate_ppm, lang or env.lang, salt,
         passwords.digest(env.secret, salt, "tx", tx_password),
         passwords.digest(env.secret, salt, "mgmt", mgmt_password), stamp)).fetchone()[0])
    conn.execute("UPDATE accounts SET code = ? WHERE id = ?", (f"agent:{agent_id}", account))
    agent = agents.by_id(conn, agent_id)
    notices = env.notify(conn, events.AccountOpened(number, agent.lang, agent.name,
                                                    agent.account_no), now)
    found = info(conn, env, agent)
    audit.record(conn, now, actor, "open", agent.account_no, agent_id=agent.id, detail={
        "msisdn": number, "name": agent.name, "rate_ppm": rate_ppm})
    return AgentOpened(**{f.name: getattr(found, f.name) for f in dataclasses.fields(found)},
                       notices=notices)


def deposit(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, key: str, msisdn: str,
            amount_fen: int, channel: DepositChannel | str, actor: Actor = SYSTEM) -> Deposit:
    """R-8 counter deposit (>= 500, x10, invoice quota R-12) or R-9 online (x10, no minimum)."""
    channel = str(channel)
    fields = {"msisdn": msisdn, "amount_fen": amount_fen, "channel": channel}
    if (done := idempotency.recall(conn, key, "deposit", fields)) is not None:
        return Deposit(**{**done, "notices": notices_from(done["notices"]), "replayed": True})
    if channel == "counter":
        money.check_counter_deposit(amount_fen)
    elif channel == "online":
        money.check_online_deposit(amount_fen)
    else:
        raise InvalidAmount(rule="R-8", low=500, high=money.NO_LIMIT, step=10)
    agent = agents.get_open(conn, msisdn)
    stamp = iso(now)
    source = postings.account_id(conn, "operator:cash" if channel == "counter" else "operator:bank")
    transfer = postings.post(conn, "deposit", [(source, -amount_fen),
                                               (agent.account_id, amount_fen)], stamp, key)
    quota = money.invoice_quota(amount_fen) if channel == "counter" else 0
    conn.execute(
        "INSERT INTO deposits (agent_id, channel, amount, invoice_quota, transfer_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)", (agent.id, channel, amount_fen, quota, transfer, stamp))
    balance = postings.available(conn, agent.account_id)
    notices = env.notify(conn, events.DepositReceived(agent.msisdn, agent.lang, amount_fen,
                                                      balance, env.local(now)), now)
    result = Deposit(transfer, agent.msisdn, channel, amount_fen, quota, balance, notices)
    audit.record(conn, now, actor, "deposit", agent.account_no, agent_id=agent.id,
                 amount_fen=amount_fen, detail={"channel": channel, "balance_fen": balance,
                                                "quota_fen": quota})
    idempotency.remember(conn, key, "deposit", fields, as_dict(result), stamp)
    return result


def set_flag(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, msisdn: str,
             suspended: bool | None = None, unlock: bool = False,
             rate_ppm: int | None = None, actor: Actor = SYSTEM) -> AgentInfo:
    """Operator switches: phone suspended (R-5), unlock (both locks and their ladders, R-2),
    commission rate; one audit row each."""
    agent = agents.get_open(conn, msisdn)
    _check_rate(env, rate_ppm)

    def done(action: str, **detail: str | int | bool | None) -> None:
        audit.record(conn, now, actor, action, agent.account_no, agent_id=agent.id,
                     detail=detail)
    if suspended is not None:
        conn.execute("UPDATE agents SET phone_suspended = ? WHERE id = ?", (int(suspended),
                                                                            agent.id))
        done("suspend" if suspended else "resume")
    if unlock:
        lockout.unlock(conn, agent.id)
        done("unlock")
    if rate_ppm is not None:
        conn.execute("UPDATE agents SET rate_ppm = ? WHERE id = ?", (rate_ppm, agent.id))
        done("rate", rate_ppm=rate_ppm, was_ppm=agent.rate(env))
    return info(conn, env, agents.by_id(conn, agent.id))


def close(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, key: str,
          msisdn: str, actor: Actor = SYSTEM) -> Closed:
    """R-6: close; a balance under 10 yuan is refunded in cash; 10 yuan or more is refused."""
    fields = {"msisdn": msisdn}
    if (done := idempotency.recall(conn, key, "close", fields)) is not None:
        return Closed(**{**done, "notices": notices_from(done["notices"])})
    agent = agents.get_open(conn, msisdn)
    balance, reserved = conn.execute("SELECT balance, reserved FROM accounts WHERE id = ?",
                                     (agent.account_id,)).fetchone()
    if reserved:
        raise StaleState(why="a recharge is still in progress; close when it has finished")
    if balance >= env.rules.close_refund_limit_fen:
        raise CloseRefused(balance=money.format_yuan(balance))
    stamp = iso(now)
    transfer = None
    if balance:
        refunds = postings.account_id(conn, "operator:refunds")
        transfer = postings.post(conn, "refund", [(agent.account_id, -balance),
                                                  (refunds, balance)], stamp, key)
    conn.execute("UPDATE agents SET status = 'closed', closed_at = ? WHERE id = ?",
                 (stamp, agent.id))
    notices = env.notify(conn, events.AccountClosed(agent.msisdn, agent.lang, balance), now)
    result = Closed(agent.msisdn, balance, transfer, notices)
    audit.record(conn, now, actor, "close", agent.account_no, agent_id=agent.id,
                 amount_fen=balance, detail={"refund_fen": balance})
    idempotency.remember(conn, key, "close", fields, as_dict(result), stamp)
    return result
