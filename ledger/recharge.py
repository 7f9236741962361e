"""Recharging a customer: reserve, then post or void on billing's answer; retry (R-13..R-18).

Billing's answer is final (applied or refused), certain non-application (``unavailable`` on the
first send) or unknown. An unknown outcome keeps the reservation pending: ``finish`` records
what BOSS last said (``boss_calls``) and tells the agent the result follows by SMS; the credit
is re-sent under the same reference until BOSS answers (``ledger.service``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3

from ledger import agents, boss_calls, events, idempotency, money, postings
from ledger.api import Held as Held
from ledger.api import Recharge as Recharge
from ledger.api import RechargeRequest, RechargeResult
from ledger.context import Env
from ledger.postings import Posting
from ledger.store.engine import lock_row
from smsmenu.core.clock import iso
from smsmenu.core.errors import (
    InvalidCommand,
    InvalidNumber,
    StaleState,
    UnknownAgent,
    UnknownRecharge,
)
from smsmenu.core.types import CreditResult, Reply, TargetKind

COLUMNS = ("id, agent_id, kind, target, notice_to, amount, commission, status, attempts, "
           "reference, past_references, transfer_id, account_type, bill_month, invoice_taken, "
           "failure, channel, created_at, completed_at")


UNKNOWN = ("timeout", "unknown")
"""Reason codes of an unconfirmed outcome: the reservation stays pending."""


FIELDS = [f.name for f in dataclasses.fields(Recharge)]

_SELECT = f"SELECT {COLUMNS} FROM recharges WHERE id = ?"
_SELECT_FOR_FINISH = (  # the recharge, its agent's number, language and account, available
    f"SELECT {', '.join('r.' + name for name in FIELDS)}, a.msisdn, a.lang, a.account_id, "
    "c.balance - c.reserved FROM recharges r LEFT JOIN agents a ON a.id = r.agent_id "
    "LEFT JOIN accounts c ON c.id = a.account_id WHERE r.id = ?")
_WIDTH = len(FIELDS)


def get(conn: sqlite3.Connection, recharge_id: int) -> Recharge:
    row = conn.execute(_SELECT, (recharge_id,)).fetchone()
    if row is None:
        raise UnknownRecharge(recharge=recharge_id)
    return Recharge(*row)


def _legs(conn: sqlite3.Connection, account: int, kind: str, amount: int,
          commission: int) -> list[Posting]:
    """A recharge's transfer: the agent pays the charge, the operator the commission."""
    return [(account, -(amount - commission)),
            (postings.account_id(conn, "expense:commission"), -commission),
            (postings.account_id(conn, f"settlement:{kind}"), amount)]


def _reserve(conn: sqlite3.Connection, agent: agents.Agent, kind: str, amount: int,
             commission: int, stamp: str) -> tuple[int, str]:
    legs = _legs(conn, agent.account_id, kind, amount, commission)
    transfer = postings.reserve(conn, "recharge", legs, stamp)
    reference = f"RC{transfer:010d}"
    conn.execute("UPDATE transfers SET reference = ? WHERE id = ?", (reference, transfer))
    return transfer, reference


def begin(conn: sqlite3.Connection, env: Env, now: dt.datetime, request: RechargeRequest) -> Held:
    """Check every rule, then hold ``amount - commission`` of the agent's deposit (pending).

    The password is checked on every call, a repeat of the key included (it then returns the
    first reservation, whatever became of it)."""
    key, msisdn, kind, target = request.key, request.msisdn, request.kind, request.target
    amount_fen, notice_to = request.amount_fen, request.notice_to
    channel = str(request.channel)
    fields = {"msisdn": msisdn, "kind": str(kind), "target": target, "amount_fen": amount_fen,
              "notice_to": notice_to}
    agent = agents.get(conn, msisdn)
    agents.require_can_recharge(agent, env, now)
    try:
        kind = TargetKind(kind)
    except ValueError:
        raise InvalidCommand(why=f"kind must be one of {', '.join(TargetKind)}") from None
    number = env.plan.validate(kind, target)
    money.check_recharge_amount(amount_fen)
    if notice_to and kind in (TargetKind.MOBILE, TargetKind.PHS):
        raise InvalidNumber(rule="R-17", number=notice_to, kind=str(kind), why="notice_target")
    notice = env.plan.validate_notice(notice_to) if notice_to else None
    agents.check_password(conn, env, now, agent, "tx", request.tx_password)
    if (done := idempotency.recall(conn, key, "recharge", fields)) is not None:
        return Held(get(conn, done["recharge_id"]), fresh=False)
    commission = money.commission(amount_fen, agent.rate(env))
    stamp = iso(now)
    transfer, reference = _reserve(conn, agent, str(kind), amount_fen, commission, stamp)
    recharge_id = int(conn.execute(
        "INSERT INTO recharges (agent_id, kind, target, notice_to, amount, commission, status, "
        "reference, transfer_id, channel, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, "
        "?, ?) RETURNING id", (agent.id, str(kind), number, notice, amount_fen, commission,
                                reference, transfer, channel, stamp)).fetchone()[0])
    idempotency.remember(conn, key, "recharge", fields, {"recharge_id": recharge_id}, stamp)
    return Held(Recharge(recharge_id, agent.id, str(kind), number, notice, amount_fen, commission,
                         "pending", 1, reference, "", transfer, None, None, 0, None, channel,
                         stamp, None), fresh=True)


def begin_retry(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, key: str, msisdn: str,
                recharge_id: int, tx_password: str) -> Held:
    """R-18: hold the money again for a failed recharge; one already done is returned as is.
    The password is checked first, on every call."""
    fields = {"msisdn": msisdn, "recharge_id": recharge_id}
    agent = agents.get(conn, msisdn)
    agents.require_can_recharge(agent, env, now)
    try:
        old: Recharge | None = get(conn, recharge_id)
    except UnknownRecharge:
        old = None
    if old is None or old.agent_id != agent.id:  # another's or none: the same answer
        raise UnknownRecharge(recharge=recharge_id, rule="R-18")
    agents.check_password(conn, env, now, agent, "tx", tx_password)
    if (done := idempotency.recall(conn, key, "retry", fields)) is not None:
        return Held(get(conn, done["recharge_id"]), fresh=False)
    if old.status in ("succeeded", "pending"):  # done, or its outcome is still being settled
        return Held(old, fresh=False)
    if old.status != "failed":
        raise StaleState(why=f"recharge {recharge_id} is {old.status}")
    stamp = iso(now)
    transfer, reference = _reserve(conn, agent, old.kind, old.amount, old.commission, stamp)
    past = f"{old.past_references} {old.reference}".strip()
    conn.execute(
        "UPDATE recharges SET status = 'pending', attempts = attempts + 1, reference = ?, "
        "past_references = ?, transfer_id = ?, failure = NULL WHERE id = ?",
        (reference, past, transfer, old.id))
    idempotency.remember(conn, key, "retry", fields, {"recharge_id": old.id}, stamp)
    return Held(get(conn, old.id), fresh=True)


def finish(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, recharge_id: int,
           reference: str, result: CreditResult | None, reason: str = "") -> RechargeResult:
    """Post on billing's success, void otherwise; queue the receipts (R-17). Idempotent.

    ``reason`` is a code of ``[reason]`` in the texts (timeout, unavailable, declined, lost),
    optionally followed by ``": detail"``; by default it comes from billing's answer.
    """
    lock_row(conn, "recharges", recharge_id)  # another instance may be finishing it too
    row = conn.execute(_SELECT_FOR_FINISH, (recharge_id,)).fetchone()
    if row is None:
        raise UnknownRecharge(recharge=recharge_id)
    r = Recharge(*row[:_WIDTH])
    if r.status != "pending" or r.reference != reference:
        return r.result()
    msisdn, lang, account, available = row[_WIDTH:]
    if msisdn is None:
        raise UnknownAgent(msisdn=f"#{r.agent_id}")
    stamp = iso(now)
    # The legs the transfer was reserved with (``_reserve``): same agent, kind and amounts.
    legs = _legs(conn, account, r.kind, r.amount, r.commission)
    if result is not None and result.ok:
        postings.commit(conn, r.transfer_id, stamp, legs)
        reference, past = r.reference, r.past_references
        if result.reference in past.split():  # an earlier attempt was the one BOSS applied
            reference, past = result.reference, " ".join(
                r.reference if ref == result.reference else ref for ref in past.split())
        boss_calls.settled(conn, r.reference)
        conn.execute(
            "UPDATE recharges SET status = 'succeeded', account_type = ?, bill_month = ?, "
            "completed_at = ?, reference = ?, past_references = ? WHERE id = ?",
            (result.account_type, result.bill_month, stamp, reference, past, r.id))
        done = dataclasses.replace(r, status="succeeded", account_type=result.account_type,
                                   bill_month=result.bill_month, completed_at=stamp,
                                   reference=reference, past_references=past)
        # The agent's available balance after the commit, without reading it again: a held
        # debit leaves balance and reserved alike (no change), a credit adds to the balance.
        balance = available + sum(amount for acc, amount in legs if acc == account and amount > 0)
        sent = env.notify(conn, events.RechargeSucceeded(
            msisdn, lang, r.kind, r.target, r.amount, r.commission, r.charge, balance,
            reference, r.id), now)
        customer = r.notice_to or (r.target if r.kind in ("mobile", "phs") else None)
        if customer:  # the customer's language is unknown: the platform's default
            sent += env.notify(conn, events.CustomerCredited(
                customer, env.lang, r.kind, r.target, r.amount, env.local(now)), now)
    elif result is None and reason in UNKNOWN:  # BOSS may still apply it: keep the money held
        return r.result(_unknown(conn, env, now, r, msisdn, lang, reason))
    else:
        postings.void(conn, r.transfer_id, stamp, legs)
        why = reason or (_refusal(result.reason) if result is not None else "lost")
        boss_calls.settled(conn, r.reference)
        conn.execute("UPDATE recharges SET status = 'failed', failure = ?, completed_at = ? "
                     "WHERE id = ?", (why, stamp, r.id))
        done = dataclasses.replace(r, status="failed", failure=why, completed_at=stamp)
        code, _, detail = why.partition(": ")
        sent = env.notify(conn, events.RechargeFailed(msisdn, lang, r.id, r.kind, r.target,
                                                      r.amount, code, detail), now)
    return done.result(sent)


def _refusal(said: str) -> str:
    """The failure code of a refusal: ``cancelled`` for a reference closed at BOSS."""
    return "cancelled" if said == boss_calls.CANCELLED else f"declined: {said}"


def _unknown(conn: sqlite3.Connection, env: Env, now: dt.datetime, r: Recharge, msisdn: str,
             lang: str, reason: str) -> tuple[Reply, ...]:
    """Record an unconfirmed answer; the first one tells the agent the result follows by SMS."""
    if not boss_calls.record(conn, r.reference, reason, iso(now)):
        return ()
    return env.notify(conn, events.RechargePending(msisdn, lang, r.id, r.kind, r.target,
                                                   r.amount, r.charge), now)
