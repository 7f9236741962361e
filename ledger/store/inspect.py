"""Read-only views of the books for testers' tools (load generator, chaos harness): typed rows."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from ledger.store import engine, pg
from ledger.store.queries import Query


@dataclass(frozen=True)
class RechargeRow:
    """One recharge as the books have it: whose, to whom, how much, how it stands."""

    agent: str
    target: str
    status: str
    amount_fen: int
    commission_fen: int
    reference: str
    id: int = 0
    """The recharge's id (its 单号 is ``smsmenu.core.refno.quote(id)``)."""


@dataclass(frozen=True)
class AgentMoney:
    """What an agent deposited in total and holds now."""

    agent: str
    deposited_fen: int
    balance_fen: int


@dataclass(frozen=True)
class Books:
    """The whole file's recharges and agents, and the totals a fault test checks."""

    recharges: list[RechargeRow]
    agents: list[AgentMoney]
    pending_transfers: int
    settlement_fen: int
    queued_notices: int


RECHARGES = ("SELECT a.msisdn, r.target, r.status, r.amount, r.commission, r.reference, r.id "
             "FROM recharges r JOIN agents a ON a.id = r.agent_id")


def _recharge(row: tuple[object, ...]) -> RechargeRow:
    agent, target, status, amount, commission, reference, id_ = row
    return RechargeRow(str(agent), str(target), str(status), int(str(amount)),
                       int(str(commission)), str(reference), int(str(id_)))


def open_agent_recharges(msisdn: str) -> Query[list[RechargeRow]]:
    """The recharges of the open agent ``msisdn``."""
    return Query(RECHARGES + " WHERE a.msisdn = ? AND a.status != 'closed'", (msisdn,),
                 lambda rows: [_recharge(tuple(r)) for r in rows])


def read_books(db: Path | str) -> Books:
    """The books of the database ``db`` (a SQLite file, opened read-only, or a PostgreSQL URL),
    whether the servers are running or dead."""
    database = engine.parse(str(db))
    if database.postgres:
        with pg.connect(database.target) as raw:
            return _books(cast(sqlite3.Connection, pg.PgConn(raw)))
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return _books(conn)
    finally:
        conn.close()


def _books(conn: sqlite3.Connection) -> Books:
    recharges = [_recharge(tuple(r)) for r in conn.execute(RECHARGES)]
    agents = [AgentMoney(str(m), int(d), int(b)) for m, d, b in conn.execute(
        "SELECT a.msisdn, COALESCE((SELECT SUM(amount) FROM deposits d "
        "WHERE d.agent_id = a.id), 0), c.balance FROM agents a "
        "JOIN accounts c ON c.id = a.account_id")]
    pending = int(conn.execute(
        "SELECT COUNT(*) FROM transfers WHERE state = 'pending'").fetchone()[0])
    settlement = abs(int(conn.execute(
        "SELECT COALESCE(SUM(balance), 0) FROM accounts WHERE kind = 'settlement'"
    ).fetchone()[0]))
    queued = int(conn.execute(
        "SELECT COUNT(*) FROM outbox WHERE status = 'queued'").fetchone()[0])
    return Books(recharges, agents, pending, settlement, queued)
