"""Durable recharges per second through ``Ledger.recharge`` at 1, 10 and 100 concurrent callers,
against the ceiling of bare ``sqlite3`` doing the same writes with the same pragmas and batching.

Ledger: one agent per caller (deposit far larger than the run can spend), the billing simulator at
zero latency, ``synchronous=FULL`` on a fresh file per level. Each caller is an asyncio task
looping ``await ledger.recharge(...)`` with unique idempotency keys; a recharge is counted once it
returned ``succeeded`` (both of its transactions committed). Three short runs per level; ops/s is
their median, p50/p99 is per recharge over all three.

Ceiling: stdlib ``sqlite3``, one thread, same schema (``ledger.store.schema``: indexes, triggers,
STRICT tables), same pragmas (WAL, synchronous=FULL, foreign_keys ON), and the same INSERT and
UPDATE statements per recharge as ``ledger.recharge.begin`` + ``finish`` (transfer, three
postings, the two conditional reserve updates, the transfer's reference, the recharge row, the
idempotency row; then the conditional transfer resolution, three account updates, the recharge
update, the receipt and the customer notice), no SELECTs. Two variants:

* ``ceiling`` (the one the ratio uses): the ledger's structure: a recharge is two phases, the
  reservation is durable before billing is asked. One transaction holds the begin phases of N
  recharges (N = callers), each in a SAVEPOINT; the next holds their finish phases. With N callers
  at most N operations are ever queued, so this is the best batching the ledger could reach.
* ``ceiling_1txn``: the literal reading "N whole recharges per transaction": begin and finish of
  a recharge in one SAVEPOINT, N per transaction: one commit per N recharges. An upper bound the
  two-phase design cannot reach (it halves the fsyncs).

Per level the ledger's runs and the two ceilings' runs are interleaved (ledger, ceiling, 1txn,
three times), so a burst of load from other processes hits all of them alike. Besides ops/s the
JSON has CPU microseconds per recharge (writer thread and event-loop thread for the ledger, the
one thread for the ceiling) and ``cpu_ratio`` = ceiling CPU / (writer + loop CPU; the two
threads share the GIL): these move far less than wall-clock rates when the machine is shared.
Load averages before and after are recorded.

A self-check traces the SQL of one ledger recharge and one ceiling recharge and compares their
INSERT/UPDATE statements (literals stripped); the result is in the JSON (``sql_check``), so a
ledger change that adds or drops writes shows up instead of silently skewing the ratio.

``python bench/ledger_bench.py --seconds 5 --json out.json``; ``--profile`` instead profiles the
ledger at 100 callers (cProfile in the event-loop thread and in the writer thread).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import hashlib
import io
import itertools
import json
import logging
import os
import platform
import pstats
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import structlog

from ledger import Ledger
from ledger.api import RechargeRequest
from ledger.store import schema
from ledger.store import writer as ledger_writer
from simulator.billing import BillingSimulator
from smsmenu.core.clock import SystemClock, iso
from smsmenu.core.settings import Settings
from smsmenu.core.types import TargetKind
from smsmenu.states.notices import SmsNotices

LEVELS = (1, 10, 100)
REPEATS = 3
TX = "135790"
MGMT = "246800"
AMOUNT = 5_000  # 50 yuan; commission at the default 2% is 100 fen
COMMISSION = 100
DEPOSIT = 1_000_000_000  # 10 million yuan per agent: no run comes close to spending it
TARGET = "18900001111"  # a mobile target: success queues the receipt AND the customer notice
CLOCK = SystemClock()


# -- environment --------------------------------------------------------------------------------
@contextlib.contextmanager
def _quiet_logs() -> Iterator[None]:
    """Drop structlog below WARNING for the run (``recharge.billed`` is an info line per
    recharge; unconfigured structlog prints it to stdout), then restore the caller's config."""
    old = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    try:
        yield
    finally:
        structlog.configure(**old)


def _fs_type(path: Path) -> str:
    best, kind = "", "?"
    with contextlib.suppress(OSError), open("/proc/mounts", encoding="utf-8") as mounts:
        for line in mounts:
            parts = line.split()
            mount = parts[1]
            inside = str(path) == mount or str(path).startswith(mount.rstrip("/") + "/")
            if inside and len(mount) > len(best):
                best, kind = mount, f"{parts[2]} ({parts[0]} on {mount})"
    return kind


def machine(db_dir: Path) -> dict[str, Any]:
    cpu = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(), "usable_cpus": len(os.sched_getaffinity(0)), "cpu": cpu,
        "python": platform.python_version(), "implementation": platform.python_implementation(),
        "sqlite": sqlite3.sqlite_version, "platform": platform.platform(),
        "db_dir": str(db_dir), "filesystem": _fs_type(db_dir.resolve()),
    }


def _pct(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, max(0, int(len(sorted_values) * q) - 1))]


# -- the ledger ---------------------------------------------------------------------------------
async def _open(db: Path, callers: int) -> tuple[Ledger, list[str]]:
    settings = Settings().replace(
        "ledger", db=str(db), secret_file=str(db.parent / "secret"), synchronous="FULL")
    clock = SystemClock()
    ledger = await Ledger.open(settings, BillingSimulator(clock=clock, latency=0.0), clock,
                               notifier=SmsNotices(),
                               secret=b"b" * 32)
    numbers = [f"189{i:08d}" for i in range(1, callers + 1)]
    for number in numbers:
        await ledger.open_agent(msisdn=number, name=f"bench{number}", tx_password=TX,
                                mgmt_password=MGMT)
        await ledger.deposit(key=f"dep-{number}", msisdn=number, amount_fen=DEPOSIT,
                             channel="counter")
    return ledger, numbers


async def _drive(ledger: Ledger, numbers: list[str], seconds: float, keys: Iterator[int],
                 latencies: list[float] | None) -> tuple[int, float, int]:
    """All callers loop until the deadline; (succeeded, elapsed, other outcomes)."""
    deadline = time.perf_counter() + seconds
    bad = 0

    async def caller(number: str) -> int:
        nonlocal bad
        done = 0
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            r = await ledger.recharge(RechargeRequest(
                key=f"k{next(keys)}", msisdn=number, kind=TargetKind.MOBILE, target=TARGET,
                amount_fen=AMOUNT, tx_password=TX))
            if latencies is not None:
                latencies.append(time.perf_counter() - start)
            if r.status == "succeeded":
                done += 1
            else:
                bad += 1
        return done

    began = time.perf_counter()
    done = sum(await asyncio.gather(*(caller(n) for n in numbers)))
    return done, time.perf_counter() - began, bad


def _writer_cpu(ledger: Ledger) -> Callable[[], float]:
    """CPU seconds of the writer thread so far (0.0 if it cannot be read on this platform)."""
    thread = getattr(ledger.writer, "_thread", None)
    try:
        clock = time.pthread_getcpuclockid(thread.ident)  # type: ignore[union-attr]
    except (AttributeError, OSError, TypeError):
        return lambda: 0.0
    return lambda: time.clock_gettime(clock)


class LedgerLevel:
    """One open ledger with ``callers`` agents; ``measure`` runs one timed pass."""

    def __init__(self, ledger: Ledger, numbers: list[str]) -> None:
        self.ledger, self.numbers = ledger, numbers
        self.keys = itertools.count()
        self.latencies: list[float] = []
        self.runs: list[float] = []
        self.bad = 0
        self.recharges = 0
        self.writer_cpu = _writer_cpu(ledger)
        self.cpu = {"writer": 0.0, "loop": 0.0}
        self.batches = self.ops = 0

    async def warm(self, seconds: float) -> None:
        await _drive(self.ledger, self.numbers, seconds, self.keys, None)

    async def measure(self, seconds: float) -> None:
        w0, l0 = self.writer_cpu(), time.thread_time()
        b0, o0 = self.ledger.writer.batches, self.ledger.writer.operations
        done, elapsed, failed = await _drive(self.ledger, self.numbers, seconds, self.keys,
                                             self.latencies)
        self.cpu["writer"] += self.writer_cpu() - w0
        self.cpu["loop"] += time.thread_time() - l0
        self.batches += self.ledger.writer.batches - b0
        self.ops += self.ledger.writer.operations - o0
        self.runs.append(done / elapsed)
        self.recharges += done
        self.bad += failed

    async def result(self, callers: int) -> dict[str, Any]:
        breaches = {k: v for k, v in (await self.ledger.verify()).items() if v}
        lat = sorted(self.latencies)
        per = 1e6 / max(1, self.recharges)
        return {
            "callers": callers, "ops_per_s": round(statistics.median(self.runs), 1),
            "runs_ops_per_s": [round(r, 1) for r in self.runs], "recharges": self.recharges,
            "not_succeeded": self.bad,
            "p50_ms": round(_pct(lat, 0.50) * 1000, 3),
            "p99_ms": round(_pct(lat, 0.99) * 1000, 3),
            "commits": self.batches,
            "ops_per_commit": round(self.ops / self.batches, 2) if self.batches else None,
            "writer_cpu_us_per_recharge": round(self.cpu["writer"] * per, 1),
            "loop_cpu_us_per_recharge": round(self.cpu["loop"] * per, 1),
            "verify_clean": not breaches,
        }


async def ledger_level(callers: int, seconds: float, db_dir: Path) -> dict[str, Any]:
    """The ledger alone at ``callers``: warm-up, then three timed runs of ``seconds``."""
    with tempfile.TemporaryDirectory(dir=db_dir, prefix="ledger-bench-") as tmp:
        ledger, numbers = await _open(Path(tmp) / "ledger.db", callers)
        try:
            run = LedgerLevel(ledger, numbers)
            await run.warm(min(0.3, seconds / 4))
            for _ in range(REPEATS):
                await run.measure(seconds)
            return await run.result(callers)
        finally:
            await ledger.aclose()


# -- the ceiling --------------------------------------------------------------------------------
# The statements below are those of ledger/postings.py and ledger/recharge.py, verbatim.
SQL_TRANSFER = ("INSERT INTO transfers (op, state, reference, created_at, resolved_at) "
                "VALUES (?, ?, ?, ?, ?)")
SQL_POSTING = "INSERT INTO postings (transfer_id, account_id, amount) VALUES (?, ?, ?)"
SQL_HOLD = ("UPDATE accounts SET reserved = reserved - ?1 WHERE id = ?2 "
            "AND (no_overdraft = 0 OR balance - reserved + ?1 >= 0)")
SQL_TRANSFER_REF = "UPDATE transfers SET reference = ? WHERE id = ?"
SQL_RECHARGE = (
    "INSERT INTO recharges (agent_id, kind, target, notice_to, amount, commission, status, "
    "reference, transfer_id, channel, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, "
    "?, ?)")
SQL_IDEMPOTENCY = ("INSERT INTO idempotency (key, op, fingerprint, result, created_at) "
                   "VALUES (?, ?, ?, ?, ?)")
SQL_RESOLVE = ("UPDATE transfers SET state = ?, resolved_at = ? WHERE id = ? "
               "AND state = 'pending'")
SQL_COMMIT_LEG = "UPDATE accounts SET balance = balance + ?, reserved = reserved + ? WHERE id = ?"
SQL_RECHARGE_DONE = (
    "UPDATE recharges SET status = 'succeeded', account_type = ?, bill_month = ?, "
    "completed_at = ?, reference = ?, past_references = ? WHERE id = ?")
SQL_OUTBOX = ("INSERT INTO outbox (to_msisdn, text, kind, created_at, next_at) "
              "VALUES (?, ?, ?, ?, ?)")


class Ceiling:
    """The ledger's writes for a recharge, issued straight to one sqlite3 connection."""

    def __init__(self, path: str, agents: int) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("busy_timeout = 10000", "journal_mode = WAL", "synchronous = FULL",
                       "foreign_keys = ON"):
            self.conn.execute(f"PRAGMA {pragma}")
        schema.create(self.conn)
        ids = dict(self.conn.execute("SELECT code, id FROM accounts"))
        self.commission_acc, self.settlement_acc = ids["expense:commission"], ids[
            "settlement:mobile"]
        stamp = iso(CLOCK.now())
        self.agents: list[tuple[int, int, str]] = []  # (agent id, account id, msisdn)
        self.conn.execute("BEGIN IMMEDIATE")
        for i in range(1, agents + 1):
            msisdn = f"189{i:08d}"
            account = self.conn.execute(
                "INSERT INTO accounts (code, kind, no_overdraft, balance) VALUES (?, 'agent', 1, ?)",
                (f"agent:{i}", DEPOSIT)).lastrowid
            agent = self.conn.execute(
                "INSERT INTO agents (msisdn, name, account_id, status, lang, salt, tx_hash, "
                "mgmt_hash, opened_at) VALUES (?, ?, ?, 'active', 'zh', ?, ?, ?, ?)",
                (msisdn, f"bench{msisdn}", account, b"s" * 16, b"t" * 32, b"m" * 32,
                 stamp)).lastrowid
            self.agents.append((int(agent or 0), int(account or 0), msisdn))
        self.conn.execute("COMMIT")
        self.keys = itertools.count()

    def close(self) -> None:
        self.conn.close()

    def begin(self, agent: tuple[int, int, str]) -> tuple[int, int, str, str]:
        conn = self.conn
        agent_id, account, _ = agent
        key = f"k{next(self.keys)}"
        stamp = iso(CLOCK.now())
        charge = AMOUNT - COMMISSION
        transfer = conn.execute(SQL_TRANSFER, ("recharge", "pending", None, stamp, None)).lastrowid
        conn.executemany(SQL_POSTING, [(transfer, account, -charge),
                                       (transfer, self.commission_acc, -COMMISSION),
                                       (transfer, self.settlement_acc, AMOUNT)])
        for acc, amount in ((account, -charge), (self.commission_acc, -COMMISSION)):
            if conn.execute(SQL_HOLD, (amount, acc)).rowcount != 1:
                raise RuntimeError("insufficient funds")
        reference = f"RC{transfer:010d}"
        conn.execute(SQL_TRANSFER_REF, (reference, transfer))
        recharge_id = conn.execute(SQL_RECHARGE, (agent_id, "mobile", TARGET, None, AMOUNT,
                                                  COMMISSION, reference, transfer, "cli",
                                                  stamp)).lastrowid
        conn.execute(SQL_IDEMPOTENCY, (key, "recharge", hashlib.sha256(key.encode()).hexdigest(),
                                       f'{{"recharge_id": {recharge_id}}}', stamp))
        return int(recharge_id or 0), int(transfer or 0), reference, stamp

    def finish(self, agent: tuple[int, int, str], recharge_id: int, transfer: int,
               reference: str) -> None:
        conn = self.conn
        _, account, msisdn = agent
        stamp = iso(CLOCK.now())
        if conn.execute(SQL_RESOLVE, ("posted", stamp, transfer)).rowcount != 1:
            raise RuntimeError("transfer not pending")
        charge = AMOUNT - COMMISSION
        for acc, amount in ((self.commission_acc, -COMMISSION), (self.settlement_acc, AMOUNT),
                            (account, -charge)):  # the ledger's order: postings by primary key
            conn.execute(SQL_COMMIT_LEG, (amount, amount if amount < 0 else 0, acc))
        conn.execute(SQL_RECHARGE_DONE, ("prepaid", None, stamp, reference, "", recharge_id))
        receipt = (f"充值成功 手机{TARGET} 50.00元 佣金1.00元 扣款49.00元 余额9999951.00元 "
                   f"流水{reference}")
        conn.execute(SQL_OUTBOX, (msisdn, receipt, "receipt", stamp, stamp))
        notice = f"【中国电信】您的手机{TARGET}于11-25 18:03成功充值50.00元。"
        conn.execute(SQL_OUTBOX, (TARGET, notice, "customer", stamp, stamp))

    def _batch(self, jobs: list[Callable[[], Any]]) -> list[Any]:
        """One transaction, each job in its own SAVEPOINT: the ledger writer's shape."""
        conn, out = self.conn, []
        conn.execute("BEGIN IMMEDIATE")
        for job in jobs:
            conn.execute("SAVEPOINT op")
            out.append(job())
            conn.execute("RELEASE op")
        conn.execute("COMMIT")
        return out

    def two_phase_round(self, n: int) -> int:
        """N begins in one transaction, their N finishes in the next."""
        agents = self.agents[:n]
        begun = self._batch([partial(self.begin, a) for a in agents])
        self._batch([partial(self.finish, a, b[0], b[1], b[2])
                     for a, b in zip(agents, begun, strict=True)])
        return n

    def one_txn_round(self, n: int) -> int:
        """N whole recharges (begin + finish in one SAVEPOINT) in one transaction."""
        def whole(a: tuple[int, int, str]) -> None:
            recharge_id, transfer, reference, _ = self.begin(a)
            self.finish(a, recharge_id, transfer, reference)
        self._batch([partial(whole, a) for a in self.agents[:n]])
        return n


class CeilingRun:
    """One ceiling variant (a ``Ceiling`` method doing one round of N recharges), timed."""

    def __init__(self, ceiling: Ceiling, method: str, callers: int) -> None:
        self.step = getattr(ceiling, method)
        self.callers = callers
        self.runs: list[float] = []
        self.cpu = 0.0
        self.recharges = 0

    def warm(self, seconds: float) -> None:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            self.step(self.callers)

    def measure(self, seconds: float) -> None:
        done, began, cpu = 0, time.perf_counter(), time.thread_time()
        deadline = began + seconds
        while time.perf_counter() < deadline:
            done += self.step(self.callers)
        self.runs.append(done / (time.perf_counter() - began))
        self.cpu += time.thread_time() - cpu
        self.recharges += done

    def result(self) -> dict[str, Any]:
        return {"ops_per_s": round(statistics.median(self.runs), 1),
                "runs_ops_per_s": [round(r, 1) for r in self.runs],
                "cpu_us_per_recharge": round(self.cpu * 1e6 / max(1, self.recharges), 1)}


def ceiling_level(callers: int, seconds: float, db_dir: Path) -> dict[str, Any]:
    """Both ceiling variants alone at ``callers`` (warm-up, three runs each)."""
    out: dict[str, Any] = {}
    for method in ("two_phase_round", "one_txn_round"):
        with tempfile.TemporaryDirectory(dir=db_dir, prefix="ceiling-bench-") as tmp:
            ceiling = Ceiling(str(Path(tmp) / "ceiling.db"), callers)
            try:
                run = CeilingRun(ceiling, method, callers)
                run.warm(min(0.3, seconds / 4))
                for _ in range(REPEATS):
                    run.measure(seconds)
                out[method] = run.result()
            finally:
                ceiling.close()
    return out


async def level(callers: int, seconds: float, db_dir: Path) -> dict[str, Any]:
    """Ledger and both ceilings at ``callers``, their runs interleaved (ledger, ceiling, 1txn,
    ledger, ...) so that a burst of load from elsewhere on the machine hits all three alike."""
    with tempfile.TemporaryDirectory(dir=db_dir, prefix="ledger-bench-") as tmp:
        ledger, numbers = await _open(Path(tmp) / "ledger.db", callers)
        two = Ceiling(str(Path(tmp) / "ceiling.db"), callers)
        one = Ceiling(str(Path(tmp) / "ceiling1.db"), callers)
        try:
            led = LedgerLevel(ledger, numbers)
            runs = [CeilingRun(two, "two_phase_round", callers),
                    CeilingRun(one, "one_txn_round", callers)]
            warm = min(0.3, seconds / 4)
            await led.warm(warm)
            for run in runs:
                run.warm(warm)
            for _ in range(REPEATS):
                await led.measure(seconds)
                for run in runs:
                    run.measure(seconds)
            result = await led.result(callers)
        finally:
            two.close()
            one.close()
            await ledger.aclose()
    ceiling, ceiling_1txn = (r.result() for r in runs)
    return {
        **result,
        "ceiling_ops_per_s": ceiling["ops_per_s"], "ceiling_runs": ceiling["runs_ops_per_s"],
        "ceiling_cpu_us_per_recharge": ceiling["cpu_us_per_recharge"],
        "ratio": round(result["ops_per_s"] / ceiling["ops_per_s"], 3),
        "ceiling_1txn_ops_per_s": ceiling_1txn["ops_per_s"],
        "ceiling_1txn_runs": ceiling_1txn["runs_ops_per_s"],
        "ratio_1txn": round(result["ops_per_s"] / ceiling_1txn["ops_per_s"], 3),
        "cpu_ratio": round(ceiling["cpu_us_per_recharge"] / max(
            1e-9, result["writer_cpu_us_per_recharge"] + result["loop_cpu_us_per_recharge"]), 3),
    }


# -- the SQL self-check -------------------------------------------------------------------------
_LITERAL = re.compile(r"'(?:[^']|'')*'|(?<![\w?])-?\d+(?:\.\d+)?")


def _writes(trace: list[str]) -> list[str]:
    shapes = []
    for sql in trace:
        head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        if head in ("INSERT", "UPDATE", "DELETE"):
            shapes.append(" ".join(_LITERAL.sub("?", sql).split()))
    return shapes


async def _ledger_trace(db_dir: Path) -> list[str]:
    trace: list[str] = []
    recording = False
    original = ledger_writer.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = original(*args, **kwargs)
        conn.set_trace_callback(lambda sql: trace.append(sql) if recording else None)
        return conn

    with tempfile.TemporaryDirectory(dir=db_dir, prefix="ledger-check-") as tmp:
        ledger_writer.connect = connect
        try:
            ledger, numbers = await _open(Path(tmp) / "ledger.db", 1)
        finally:
            ledger_writer.connect = original
        try:
            await _drive(ledger, numbers, 0.05, itertools.count(10**6), None)  # warm statements
            recording = True
            await ledger.recharge(RechargeRequest(key="check", msisdn=numbers[0],
                                                  kind=TargetKind.MOBILE, target=TARGET,
                                                  amount_fen=AMOUNT, tx_password=TX))
            recording = False
        finally:
            await ledger.aclose()
    return trace


def sql_check(db_dir: Path) -> dict[str, Any]:
    ledger_trace = asyncio.run(_ledger_trace(db_dir))
    with tempfile.TemporaryDirectory(dir=db_dir, prefix="ceiling-check-") as tmp:
        ceiling = Ceiling(str(Path(tmp) / "ceiling.db"), 1)
        ceiling_trace: list[str] = []
        ceiling.conn.set_trace_callback(ceiling_trace.append)
        ceiling.two_phase_round(1)
        ceiling.close()
    ledger_w, ceiling_w = _writes(ledger_trace), _writes(ceiling_trace)
    statements = sum(1 for s in ledger_trace if not s.startswith("--"))
    return {
        "matches": ledger_w == ceiling_w, "ledger_writes": len(ledger_w),
        "ceiling_writes": len(ceiling_w),
        "ledger_statements_per_recharge": statements,
        "ledger_selects_per_recharge": sum(
            1 for s in ledger_trace if s.lstrip().upper().startswith("SELECT")),
        "only_in_ledger": [s for s in ledger_w if s not in ceiling_w],
        "only_in_ceiling": [s for s in ceiling_w if s not in ledger_w],
    }


# -- driver -------------------------------------------------------------------------------------
def _loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def run(seconds: float = 5.0, levels: tuple[int, ...] = LEVELS,
        db_dir: str | Path | None = None) -> dict[str, Any]:
    """``seconds`` of ledger measurement per level (three runs of ``seconds / 3``); each ceiling
    variant gets the same. Total wall time is about ``3 * len(levels) * seconds`` plus setup."""
    where = Path(db_dir or tempfile.gettempdir())
    where.mkdir(parents=True, exist_ok=True)
    per_run = seconds / REPEATS
    facts = machine(where)
    facts["loadavg_before"] = _loadavg()
    began = time.perf_counter()
    with _quiet_logs():
        check = sql_check(where)
        rows = [asyncio.run(level(n, per_run, where)) for n in levels]
    facts["loadavg_after"] = _loadavg()
    top = next((r for r in rows if r["callers"] == 100), rows[-1])
    return {
        "benchmark": "ledger", "synchronous": "FULL", "billing_latency_s": 0.0,
        "run_seconds": round(per_run, 3), "repeats": REPEATS,
        "wall_seconds": round(time.perf_counter() - began, 1), "machine": facts,
        "sql_check": check, "levels": rows,
        "goal": {"ratio_at_100_callers": ">= 0.5", "callers": top["callers"],
                 "measured": top["ratio"], "met": top["ratio"] >= 0.5},
    }


def table(result: dict[str, Any]) -> str:
    head = (f"{'callers':>7} {'ledger/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'ops/commit':>10} "
            f"{'ceiling/s':>9} {'ratio':>6} {'1txn/s':>8} {'ratio':>6} "
            f"{'writer us':>9} {'loop us':>7} {'ceil us':>7} {'cpu ratio':>9}  verify")
    rows = [head]
    for r in result["levels"]:
        rows.append(
            f"{r['callers']:>7} {r['ops_per_s']:>9.1f} {r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f} "
            f"{r['ops_per_commit'] or 0:>10.1f} {r['ceiling_ops_per_s']:>9.1f} "
            f"{r['ratio']:>6.2f} {r['ceiling_1txn_ops_per_s']:>8.1f} {r['ratio_1txn']:>6.2f} "
            f"{r['writer_cpu_us_per_recharge']:>9.1f} {r['loop_cpu_us_per_recharge']:>7.1f} "
            f"{r['ceiling_cpu_us_per_recharge']:>7.1f} "
            f"{r['cpu_ratio']:>9.2f}  "
            f"{'ok' if r['verify_clean'] and not r['not_succeeded'] else 'BAD'}")
    m, c = result["machine"], result["sql_check"]
    rows.append("ratio = ledger/ceiling (two-phase, the ledger's structure); 1txn = whole "
                "recharge per savepoint; writer/loop/ceil us = CPU microseconds per recharge "
                "(ledger writer thread, ledger event-loop thread, ceiling thread); cpu ratio = "
                "ceil us / (writer us + loop us), steadier than ops/s on a busy machine")
    rows.append(f"machine: {m['nproc']} cpu ({m['cpu']}), Python {m['python']}, "
                f"SQLite {m['sqlite']}, {m['filesystem']}, load {m['loadavg_before']} -> "
                f"{m['loadavg_after']}")
    rows.append(f"sql check: ceiling writes {'match' if c['matches'] else 'DIFFER FROM'} the "
                f"ledger's ({c['ledger_writes']} writes, {c['ledger_selects_per_recharge']} "
                f"SELECTs, {c['ledger_statements_per_recharge']} statements per ledger recharge)")
    goal = result["goal"]
    rows.append(f"goal ratio >= 0.5 at {goal['callers']} callers: {goal['measured']:.2f} "
                f"({'met' if goal['met'] else 'NOT met'}); {result['wall_seconds']} s")
    return "\n".join(rows)


# -- profile ------------------------------------------------------------------------------------
def profile(seconds: float, callers: int = 100, db_dir: str | Path | None = None,
            top: int = 35) -> str:
    """cProfile of the event-loop thread and of the writer thread during one ledger level."""
    where = Path(db_dir or tempfile.gettempdir())
    writer_prof = cProfile.Profile()
    serve = ledger_writer.Writer._serve

    def profiled_serve(self: ledger_writer.Writer, conn: sqlite3.Connection) -> None:
        writer_prof.enable()
        try:
            serve(self, conn)
        finally:
            writer_prof.disable()

    loop_prof = cProfile.Profile()
    ledger_writer.Writer._serve = profiled_serve  # type: ignore[method-assign]
    try:
        with _quiet_logs():
            async def level() -> dict[str, Any]:
                loop_prof.enable()
                try:
                    return await ledger_level(callers, seconds, where)
                finally:
                    loop_prof.disable()
            result = asyncio.run(level())
    finally:
        ledger_writer.Writer._serve = serve  # type: ignore[method-assign]
    out = io.StringIO()
    out.write(f"profiled level (slower than unprofiled): {json.dumps(result)}\n")
    for name, prof in (("EVENT LOOP THREAD", loop_prof), ("WRITER THREAD", writer_prof)):
        for key in ("tottime", "cumulative"):
            out.write(f"\n===== {name} by {key} =====\n")
            stats = pstats.Stats(prof, stream=out)
            stats.sort_stats(key).print_stats(top)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0,
                        help="ledger seconds per level, split into 3 runs (default 5)")
    parser.add_argument("--json", type=Path, help="write the result here")
    parser.add_argument("--dir", help="directory for the database files (default: temp dir)")
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)),
                        help="comma-separated caller counts (default 1,10,100)")
    parser.add_argument("--profile", action="store_true",
                        help="profile the ledger at 100 callers instead of benchmarking")
    args = parser.parse_args()
    if args.profile:
        print(profile(args.seconds, db_dir=args.dir))
        return
    result = run(args.seconds, tuple(int(x) for x in args.levels.split(",")), args.dir)
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
