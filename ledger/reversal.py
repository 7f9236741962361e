"""Reversal (返销) of an agent's mistaken recharge, with every R-23..R-25 check."""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import sqlite3

from ledger import agents, audit, boss_calls, events, idempotency, postings
from ledger.api import ReversalResult
from ledger.audit import SYSTEM, Actor
from ledger.context import Env
from ledger.recharge import Recharge, get
from ledger.store.engine import lock_row
from smsmenu.core.clock import from_iso, iso
from smsmenu.core.errors import AgentClosed, ReversalRefused, StaleState

COLUMNS = ("id, recharge_id, agent_id, month, status, reference, transfer_id, operator, failure, "
           "created_at, completed_at")


def checks(conn: sqlite3.Connection, env: Env, now: dt.datetime, r: Recharge,
           customer_balance: int | None) -> list[tuple[str, bool | None]]:
    """Each check by name with True (passes), False (refuses) or None (not known yet)."""
    local = env.local(now)
    month = local.strftime("%Y-%m")
    used = conn.execute(
        "SELECT 1 FROM reversals WHERE agent_id = ? AND month = ? AND status != 'failed'",
        (r.agent_id, month)).fetchone()
    done_at = from_iso(r.completed_at) if r.completed_at else None
    last_day = calendar.monthrange(local.year, local.month)[1]
    found = [
        ("not_done", r.status in ("succeeded", "reversed")),
        ("reversed", r.status != "reversed"),
        ("prepaid", r.account_type == "postpaid"),
        ("monthly", used is None),
        ("late", done_at is not None and now - done_at <= env.rules.reversal_window),
        ("invoice", not r.invoice_taken),
        ("month_end", local.day != last_day),
        ("other_month", r.bill_month == month),
        ("balance", None if customer_balance is None else customer_balance >= r.amount),
    ]
    # a prepaid top-up pays no bill: the bill's month does not apply (it is refused as prepaid)
    return [c for c in found if c[0] != "other_month" or r.account_type == "postpaid"]


def view(conn: sqlite3.Connection, reversal_id: int) -> ReversalResult:
    row = conn.execute(f"SELECT {COLUMNS} FROM reversals WHERE id = ?", (reversal_id,)).fetchone()
    return ReversalResult(*row)


def begin(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, key: str, recharge_id: int,
          operator: str, customer_balance: int, actor: Actor = SYSTEM) -> ReversalResult:
    """Refuse with the first failing check's rule; else hold the settlement (pending)."""
    fields = {"recharge_id": recharge_id}
    if (done := idempotency.recall(conn, key, "reversal", fields)) is not None:
        return view(conn, done["reversal_id"])
    r = get(conn, recharge_id)
    for check, passed in checks(conn, env, now, r, customer_balance):
        if passed is False:
            raise ReversalRefused(check)
    agent = agents.by_id(conn, r.agent_id)
    if agent.status == "closed":
        raise AgentClosed()
    stamp = iso(now)
    legs = [(postings.account_id(conn, f"settlement:{r.kind}"), -r.amount),
            (agent.account_id, r.charge),
            (postings.account_id(conn, "expense:commission"), r.commission)]
    transfer = postings.reserve(conn, "reversal", legs, stamp)
    reference = f"RV{transfer:010d}"
    conn.execute("UPDATE transfers SET reference = ? WHERE id = ?", (reference, transfer))
    reversal_id = int(conn.execute(
        "INSERT INTO reversals (recharge_id, agent_id, month, status, reference, transfer_id, "
        "operator, created_at) VALUES (?, ?, ?, 'pending', ?, ?, ?, ?) RETURNING id",
        (r.id, r.agent_id, env.local(now).strftime("%Y-%m"), reference, transfer, operator,
         stamp)).fetchone()[0])
    audit.record(conn, now, actor, "reversal", agent.account_no, agent_id=agent.id,
                 amount_fen=r.amount, detail=_detail(r, reference))
    idempotency.remember(conn, key, "reversal", fields, {"reversal_id": reversal_id}, stamp)
    return view(conn, reversal_id)


def finish(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, reversal_id: int,
           ok: bool, reason: str = "", actor: Actor = SYSTEM) -> ReversalResult:
    """Post the reversal when billing took the money back, else void it. Idempotent."""
    lock_row(conn, "reversals", reversal_id)  # another instance may be finishing it too
    rv = view(conn, reversal_id)
    if rv.status != "pending":
        return rv
    stamp = iso(now)
    boss_calls.settled(conn, rv.reference)
    r = get(conn, rv.recharge_id)
    if not ok:
        postings.void(conn, rv.transfer_id, stamp)
        conn.execute("UPDATE reversals SET status = 'failed', failure = ?, completed_at = ? "
                     "WHERE id = ?", (reason, stamp, reversal_id))
        audit.record(conn, now, actor, "reversal_failed", audit.agent_target(r.agent_id),
                     agent_id=r.agent_id, amount_fen=r.amount,
                     detail={**_detail(r, rv.reference), "reason": reason}, outcome="failed")
        return view(conn, reversal_id)
    postings.commit(conn, rv.transfer_id, stamp)
    conn.execute("UPDATE reversals SET status = 'succeeded', completed_at = ? WHERE id = ?",
                 (stamp, reversal_id))
    cur = conn.execute("UPDATE recharges SET status = 'reversed' WHERE id = ? AND "
                       "status = 'succeeded'", (rv.recharge_id,))
    if cur.rowcount != 1:
        raise StaleState(why=f"recharge {rv.recharge_id} is no longer succeeded")
    agent = agents.by_id(conn, r.agent_id)
    audit.record(conn, now, actor, "reversal_done", agent.account_no, agent_id=agent.id,
                 amount_fen=r.amount, detail={**_detail(r, rv.reference),
                                              "charge_fen": r.charge})
    notices = env.notify(conn, events.ReversalDone(
        agent.msisdn, agent.lang, r.reference, r.amount, r.charge,
        postings.available(conn, agent.account_id), r.id), now)
    return dataclasses.replace(view(conn, reversal_id), notices=notices)


def mark_invoice(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, recharge_id: int,
                 actor: Actor = SYSTEM) -> Recharge:
    """The customer took an invoice for this recharge: it can no longer be reversed (R-25)."""
    r = get(conn, recharge_id)
    conn.execute("UPDATE recharges SET invoice_taken = 1 WHERE id = ?", (r.id,))
    audit.record(conn, now, actor, "invoice", audit.agent_target(r.agent_id),
                 agent_id=r.agent_id, amount_fen=r.amount,
                 detail={"recharge": r.reference, "target": r.target})
    return get(conn, r.id)


def _detail(r: Recharge, reference: str) -> dict[str, str | int | bool | None]:
    """What a reversal's rows say of it: the recharge (its reference and target), its own."""
    return {"recharge": r.reference, "target": r.target, "reversal": reference}
