"""`smsmenu ledger verify`: the ledger's invariants as queries that list every breach."""

from __future__ import annotations

from collections.abc import Callable

from ledger.store import web_audit
from ledger.store.queries import Query, Rows

Breaches = list[str]


def _lines(fmt: str) -> Callable[[Rows], Breaches]:
    return lambda rows: [fmt.format(*row) for row in rows]


def invariants(pending_cutoff: str) -> list[tuple[str, Query[Breaches]]]:
    """(name, query) pairs; each query returns one line per breach, none when the rule holds."""
    checks = {
        "transfers sum to zero": (
            "SELECT transfer_id, SUM(amount) FROM postings GROUP BY transfer_id "
            "HAVING SUM(amount) != 0", (), "transfer {0} sums to {1} fen"),
        "ledger sums to zero": (
            "SELECT SUM(balance) FROM accounts HAVING SUM(balance) != 0", (),
            "all balances sum to {0} fen"),
        "balances equal postings": (
            "SELECT a.code, a.balance, COALESCE(SUM(p.amount), 0) FROM accounts a "
            "LEFT JOIN postings p ON p.account_id = a.id "
            "AND p.transfer_id IN (SELECT id FROM transfers WHERE state = 'posted') "
            "GROUP BY a.id HAVING a.balance != COALESCE(SUM(p.amount), 0)", (),
            "account {0}: cached balance {1} != postings {2}"),
        "reservations equal pending debits": (
            "SELECT a.code, a.reserved, COALESCE(-SUM(p.amount), 0) FROM accounts a "
            "LEFT JOIN postings p ON p.account_id = a.id AND p.amount < 0 "
            "AND p.transfer_id IN (SELECT id FROM transfers WHERE state = 'pending') "
            "GROUP BY a.id HAVING a.reserved != COALESCE(-SUM(p.amount), 0)", (),
            "account {0}: reserved {1} != pending debits {2}"),
        "no overdraft": (
            "SELECT code, balance - reserved FROM accounts "
            "WHERE no_overdraft = 1 AND balance - reserved < 0", (),
            "account {0} is overdrawn: {1} fen available"),
        "no stale reservation": (  # one awaiting BOSS is followed up: stale if nobody asks
            "SELECT t.id, t.op, t.created_at FROM transfers t LEFT JOIN boss_calls b "
            "ON b.reference = t.reference WHERE t.state = 'pending' AND t.created_at < ? "
            "AND (b.asked_at IS NULL OR b.asked_at < ?)",
            (pending_cutoff, pending_cutoff), "transfer {0} ({1}) pending since {2}"),
        "recharges match their transfers": (
            "SELECT r.id, r.status, t.state FROM recharges r JOIN transfers t "
            "ON t.id = r.transfer_id WHERE NOT ("
            "(r.status IN ('succeeded', 'reversed') AND t.state = 'posted') OR "
            "(r.status = 'failed' AND t.state = 'voided') OR "
            "(r.status = 'pending' AND t.state = 'pending'))", (),
            "recharge {0} is {1} but its transfer is {2}"),
        "reversals match their transfers": (
            "SELECT v.id, v.status, t.state FROM reversals v JOIN transfers t "
            "ON t.id = v.transfer_id WHERE NOT ("
            "(v.status = 'succeeded' AND t.state = 'posted') OR "
            "(v.status = 'failed' AND t.state = 'voided') OR "
            "(v.status = 'pending' AND t.state = 'pending'))", (),
            "reversal {0} is {1} but its transfer is {2}"),
    }
    found = [(name, Query(sql, params, _lines(fmt))) for name, (sql, params, fmt) in checks.items()]
    return [*found, ("audit log chained", web_audit.breaks())]
