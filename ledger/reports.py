"""Read queries for the web portal's reports: day totals, the 30-day series, daily settlement."""

from __future__ import annotations

from typing import Any

from ledger.store.queries import Query, Rows, scalar


def totals(agent_id: int, start: str, end: str) -> Query[dict[str, int]]:
    """Completed recharges created in [start, end): how many, the amount and the commission."""
    return Query("SELECT COUNT(*), COALESCE(SUM(amount), 0), COALESCE(SUM(commission), 0) "
                 "FROM recharges WHERE agent_id = ? AND status = 'succeeded' "
                 "AND created_at >= ? AND created_at < ?", (agent_id, start, end),
                 lambda rows: {"count": int(rows[0][0]), "amount_fen": int(rows[0][1]),
                               "commission_fen": int(rows[0][2])})


def series(agent_id: int, start: str, end: str) -> Query[list[tuple[str, int, int]]]:
    """(created_at, amount, commission) of each completed recharge in [start, end), oldest first:
    the caller bins them by business day (time zones stay out of SQL)."""
    return Query("SELECT created_at, amount, commission FROM recharges WHERE agent_id = ? "
                 "AND status = 'succeeded' AND created_at >= ? AND created_at < ? ORDER BY id",
                 (agent_id, start, end),
                 lambda rows: [(str(r[0]), int(r[1]), int(r[2])) for r in rows])


def count_records(agent_id: int, start: str, end: str) -> Query[int]:
    """How many rows ``queries.records`` pages through (R-21)."""
    return scalar("SELECT COUNT(*) FROM recharges WHERE agent_id = ? AND created_at >= ? "
                  "AND created_at < ?", agent_id, start, end)


def deposits(agent_id: int, limit: int = 20) -> Query[list[dict[str, Any]]]:
    """The agent's latest deposits with their invoice quota (R-12)."""
    cols = ("id", "channel", "amount_fen", "invoice_quota_fen", "created_at")
    return Query("SELECT id, channel, amount, invoice_quota, created_at FROM deposits "
                 "WHERE agent_id = ? ORDER BY id DESC LIMIT ?", (agent_id, limit),
                 lambda rows: [dict(zip(cols, r, strict=True)) for r in rows])


SETTLEMENT_COLUMNS = ("agent_id", "msisdn", "name", "counter_fen", "online_fen",
                      "invoice_quota_fen", "recharges", "recharged_fen", "commission_fen",
                      "reversals", "reversed_fen", "reversed_commission_fen")

_SETTLEMENT = """
WITH d AS (
    SELECT agent_id, SUM(CASE WHEN channel = 'counter' THEN amount ELSE 0 END) AS counter,
           SUM(CASE WHEN channel = 'online' THEN amount ELSE 0 END) AS online,
           SUM(invoice_quota) AS quota
    FROM deposits WHERE created_at >= ?1 AND created_at < ?2 GROUP BY agent_id),
r AS (
    SELECT agent_id, COUNT(*) AS n, SUM(amount) AS amount, SUM(commission) AS commission
    FROM recharges WHERE status IN ('succeeded', 'reversed')
    AND completed_at >= ?1 AND completed_at < ?2 GROUP BY agent_id),
v AS (
    SELECT v.agent_id, COUNT(*) AS n, SUM(r.amount) AS amount, SUM(r.commission) AS commission
    FROM reversals v JOIN recharges r ON r.id = v.recharge_id
    WHERE v.status = 'succeeded' AND v.completed_at >= ?1 AND v.completed_at < ?2
    GROUP BY v.agent_id),
ids AS (SELECT agent_id FROM d UNION SELECT agent_id FROM r UNION SELECT agent_id FROM v)
SELECT ids.agent_id, a.msisdn, a.name, COALESCE(d.counter, 0), COALESCE(d.online, 0),
       COALESCE(d.quota, 0), COALESCE(r.n, 0), COALESCE(r.amount, 0),
       COALESCE(r.commission, 0), COALESCE(v.n, 0), COALESCE(v.amount, 0),
       COALESCE(v.commission, 0)
FROM ids JOIN agents a ON a.id = ids.agent_id
LEFT JOIN d ON d.agent_id = ids.agent_id
LEFT JOIN r ON r.agent_id = ids.agent_id
LEFT JOIN v ON v.agent_id = ids.agent_id
ORDER BY ids.agent_id
"""


def _settlement_rows(rows: Rows) -> list[dict[str, Any]]:
    return [dict(zip(SETTLEMENT_COLUMNS, r, strict=True)) for r in rows]


def settlement(start: str, end: str) -> Query[list[dict[str, Any]]]:
    """Per agent for [start, end): deposits by channel and invoice quota (R-8, R-9, R-12),
    completed recharges and commission (R-16), reversals (R-23..R-25) and what they returned."""
    return Query(_SETTLEMENT, (start, end), _settlement_rows)


def recent_agents(limit: int = 10) -> Query[list[dict[str, Any]]]:
    """The latest opened agents with their balance, for the back office's start page."""
    cols = ("agent_id", "msisdn", "name", "status", "balance_fen", "opened_at")
    return Query("SELECT g.id, g.msisdn, g.name, g.status, a.balance - a.reserved, g.opened_at "
                 "FROM agents g JOIN accounts a ON a.id = g.account_id ORDER BY g.id DESC LIMIT ?",
                 (limit,), lambda rows: [dict(zip(cols, r, strict=True)) for r in rows])
