"""Durable recharges per second on PostgreSQL through ``Ledger.recharge`` at 1, 10 and 100 callers,
against bare psycopg doing the same statements with the same batching, in the same run.

The server: a private cluster (``tests/pg.py``) started for the run with ``fsync = on`` and
``synchronous_commit = on`` (the durability promise), on this machine's disk, over TCP on
127.0.0.1. Each level gets a fresh database copied from a migrated template.

Ledger: as ``bench/ledger_bench.py`` (one agent per caller, billing simulator at zero latency,
asyncio callers looping ``await ledger.recharge``), with ``[ledger] db`` the database's URL: the
PostgreSQL writer (one connection, group commit in one transaction with a savepoint per
operation, the dialog adapter translating ``?``).

Ceiling: one psycopg connection (autocommit, explicit BEGIN/COMMIT), the ledger's INSERT and
UPDATE statements for a recharge (``ledger_bench``'s list, placeholders written as ``%s``;
inserts ``RETURNING id`` as the ledger's), the ledger's two-phase shape: the begin phases of N
recharges (N = callers) in one transaction, each in a SAVEPOINT, their finish phases in the
next. No SELECTs, no adapter, no thread hop: what the writer could reach at best.

Per level the ledger's and the ceiling's runs are interleaved (three each); the ratio is
ledger / ceiling at each level (goal: >= 50% at 100 callers).

``python bench/pg_bench.py --seconds 5 --json out.json``
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import statistics
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if __package__ in (None, ""):
    sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import psycopg  # noqa: E402
from ledger_bench import (  # noqa: E402
    AMOUNT,
    COMMISSION,
    DEPOSIT,
    LEVELS,
    MGMT,
    REPEATS,
    TARGET,
    TX,
    LedgerLevel,
    _quiet_logs,
)

from ledger import Ledger  # noqa: E402
from ledger.store.migrations.postgres_runner import PostgresMigrator  # noqa: E402
from ledger.store.pg import translate  # noqa: E402
from simulator.billing import BillingSimulator  # noqa: E402
from simulator.pg_cluster import TEMPLATE, Cluster, binaries  # noqa: E402
from smsmenu.core.clock import SystemClock, iso  # noqa: E402
from smsmenu.core.settings import Settings  # noqa: E402
from smsmenu.states.notices import SmsNotices  # noqa: E402

CLOCK = SystemClock()


def _sql(text: str) -> str:
    return translate(text)[0]


TRANSFER = _sql("INSERT INTO transfers (op, state, reference, created_at, resolved_at) "
                "VALUES (?, ?, ?, ?, ?) RETURNING id")
POSTING = _sql("INSERT INTO postings (transfer_id, account_id, amount) VALUES (?, ?, ?)")
HOLD = ("UPDATE accounts SET reserved = reserved - %(a)s WHERE id = %(id)s "
        "AND (no_overdraft = 0 OR balance - reserved + %(a)s >= 0)")
TRANSFER_REF = _sql("UPDATE transfers SET reference = ? WHERE id = ?")
RECHARGE = _sql(
    "INSERT INTO recharges (agent_id, kind, target, notice_to, amount, commission, status, "
    "reference, transfer_id, channel, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, "
    "?, ?) RETURNING id")
IDEMPOTENCY = _sql("INSERT INTO idempotency (key, op, fingerprint, result, created_at) "
                   "VALUES (?, ?, ?, ?, ?)")
RESOLVE = _sql("UPDATE transfers SET state = ?, resolved_at = ? WHERE id = ? AND state = 'pending'")
COMMIT_LEG = _sql("UPDATE accounts SET balance = balance + ?, reserved = reserved + ? WHERE id = ?")
RECHARGE_DONE = _sql(
    "UPDATE recharges SET status = 'succeeded', account_type = ?, bill_month = ?, "
    "completed_at = ?, reference = ?, past_references = ? WHERE id = ?")
OUTBOX = _sql("INSERT INTO outbox (to_msisdn, text, kind, created_at, next_at) "
              "VALUES (?, ?, ?, ?, ?) RETURNING id")


class Ceiling:
    """The ledger's writes for a recharge, straight to one psycopg connection."""

    def __init__(self, url: str, agents: int) -> None:
        self.conn = psycopg.connect(url, autocommit=True)
        self.agents: list[tuple[int, int, str]] = []
        stamp = iso(CLOCK.now())
        with self.conn.transaction():
            for i in range(1, agents + 1):
                msisdn = f"189{i:08d}"
                account = self._id("INSERT INTO accounts (code, kind, no_overdraft, balance) "
                                   "VALUES (%s, 'agent', 1, %s) RETURNING id", (f"agent:{i}", DEPOSIT))
                agent = self._id(
                    "INSERT INTO agents (msisdn, name, account_id, status, lang, salt, tx_hash, "
                    "mgmt_hash, opened_at) VALUES (%s, %s, %s, 'active', 'zh', %s, %s, %s, %s) "
                    "RETURNING id", (msisdn, f"bench{msisdn}", account, b"s" * 16, b"t" * 32,
                                     b"m" * 32, stamp))
                self.agents.append((agent, account, msisdn))
        self.commission_acc, self.settlement_acc = 4, 6
        self.keys = itertools.count()

    def _id(self, sql: str, params: tuple[Any, ...]) -> int:
        row = self.conn.execute(sql, params).fetchone()
        assert row is not None
        return int(row[0])

    def close(self) -> None:
        self.conn.close()

    def begin(self, agent: tuple[int, int, str]) -> tuple[int, int, str]:
        conn = self.conn
        agent_id, account, _ = agent
        key = f"k{next(self.keys)}"
        stamp = iso(CLOCK.now())
        charge = AMOUNT - COMMISSION
        transfer = self._id(TRANSFER, ("recharge", "pending", None, stamp, None))
        with conn.cursor() as cur:
            cur.executemany(POSTING, [(transfer, account, -charge),
                                      (transfer, self.commission_acc, -COMMISSION),
                                      (transfer, self.settlement_acc, AMOUNT)])
        for acc, amount in ((account, -charge), (self.commission_acc, -COMMISSION)):
            if conn.execute(HOLD, {"a": amount, "id": acc}).rowcount != 1:
                raise RuntimeError("insufficient funds")
        reference = f"RC{transfer:010d}"
        conn.execute(TRANSFER_REF, (reference, transfer))
        recharge_id = self._id(RECHARGE, (agent_id, "mobile", TARGET, None, AMOUNT, COMMISSION,
                                          reference, transfer, "cli", stamp))
        conn.execute(IDEMPOTENCY, (key, "recharge", hashlib.sha256(key.encode()).hexdigest(),
                                   f'{{"recharge_id": {recharge_id}}}', stamp))
        return recharge_id, transfer, reference

    def finish(self, agent: tuple[int, int, str], recharge_id: int, transfer: int,
               reference: str) -> None:
        conn = self.conn
        _, account, msisdn = agent
        stamp = iso(CLOCK.now())
        if conn.execute(RESOLVE, ("posted", stamp, transfer)).rowcount != 1:
            raise RuntimeError("transfer not pending")
        charge = AMOUNT - COMMISSION
        for acc, amount in ((self.commission_acc, -COMMISSION), (self.settlement_acc, AMOUNT),
                            (account, -charge)):
            conn.execute(COMMIT_LEG, (amount, amount if amount < 0 else 0, acc))
        conn.execute(RECHARGE_DONE, ("prepaid", None, stamp, reference, "", recharge_id))
        self._id(OUTBOX, (msisdn, f"充值成功 手机{TARGET} 50.00元 流水{reference}", "receipt",
                          stamp, stamp))
        self._id(OUTBOX, (TARGET, f"您的手机{TARGET}成功充值50.00元。", "customer", stamp, stamp))

    def _batch(self, jobs: list[Any]) -> list[Any]:
        conn, out = self.conn, []
        conn.execute("BEGIN")
        for job in jobs:
            conn.execute("SAVEPOINT op")
            out.append(job())
            conn.execute("RELEASE op")
        conn.execute("COMMIT")
        return out

    def round(self, n: int) -> int:
        agents = self.agents[:n]
        begun = self._batch([partial(self.begin, a) for a in agents])
        self._batch([partial(self.finish, a, *b) for a, b in zip(agents, begun, strict=True)])
        return n


def _database(cluster: Cluster, name: str) -> str:
    with psycopg.connect(cluster.url(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    return cluster.url(name)


async def _ledger(url: str, callers: int, tmp: Path) -> Ledger:
    settings = Settings().replace("ledger", db=url, secret_file=str(tmp / "secret"))
    ledger = await Ledger.open(settings, BillingSimulator(clock=CLOCK, latency=0.0), CLOCK,
                               notifier=SmsNotices(), secret=b"b" * 32)
    for i in range(1, callers + 1):
        number = f"189{i:08d}"
        await ledger.open_agent(msisdn=number, name=f"bench{number}", tx_password=TX,
                                mgmt_password=MGMT)
        await ledger.deposit(key=f"dep-{number}", msisdn=number, amount_fen=DEPOSIT,
                             channel="counter")
    return ledger


async def level(cluster: Cluster, callers: int, seconds: float) -> dict[str, Any]:
    ledger = await _ledger(_database(cluster, f"ledger_{callers}"), callers, cluster.root)
    ceiling = Ceiling(_database(cluster, f"ceiling_{callers}"), callers)
    try:
        numbers = [f"189{i:08d}" for i in range(1, callers + 1)]
        run = LedgerLevel(ledger, numbers)
        await run.warm(min(0.3, seconds / 4))
        ceiling_runs: list[float] = []
        for _ in range(REPEATS):
            await run.measure(seconds)
            done, began = 0, time.perf_counter()
            while time.perf_counter() < began + seconds:
                done += ceiling.round(callers)
            ceiling_runs.append(done / (time.perf_counter() - began))
        result = await run.result(callers)
        result["ceiling_ops_per_s"] = round(statistics.median(ceiling_runs), 1)
        result["ratio"] = round(result["ops_per_s"] / result["ceiling_ops_per_s"], 3)
        return result
    finally:
        await ledger.aclose()
        ceiling.close()


def run(seconds: float = 5.0, levels: tuple[int, ...] = LEVELS) -> dict[str, Any]:
    """Every level on one private durable cluster; the cluster is removed afterwards."""
    bindir = binaries()
    if bindir is None:
        return {"benchmark": "ledger_postgres", "skipped": "PostgreSQL is not installed"}
    cluster = Cluster(bindir, durable=True)
    cluster.start()
    try:
        with psycopg.connect(cluster.url(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {TEMPLATE}")
        with psycopg.connect(cluster.url(TEMPLATE), autocommit=True) as conn:
            PostgresMigrator(conn).migrate()
        with _quiet_logs():
            rows = [asyncio.run(level(cluster, n, seconds)) for n in levels]
    finally:
        cluster.stop()
    return {"benchmark": "ledger_postgres", "server": "PostgreSQL, fsync=on, "
            "synchronous_commit=on, 127.0.0.1 TCP", "seconds": seconds, "levels": rows}


def table(result: dict[str, Any]) -> str:
    if "levels" not in result:
        return result.get("skipped", "")
    lines = ["callers  ledger/s  ceiling/s  ratio  p50 ms  p99 ms  ops/commit  verify"]
    for r in result["levels"]:
        lines.append(f"{r['callers']:>7}  {r['ops_per_s']:>8}  {r['ceiling_ops_per_s']:>9}  "
                     f"{r['ratio']:>5}  {r['p50_ms']:>6}  {r['p99_ms']:>6}  "
                     f"{r['ops_per_commit']!s:>10}  {r['verify_clean']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = run(args.seconds)
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), "utf-8")


if __name__ == "__main__":
    main()
