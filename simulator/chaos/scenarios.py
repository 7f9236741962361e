"""The chaos scenarios: each starts a system, runs traffic and its faults, settles, accounts.

``run_scenario(spec, root)`` returns the scenario's row (see ``simulator.chaos.truth.tally``)
with what was injected (kills, bursts, drops, storage windows) and the ledger's own checks
(``ledger verify``, ``ledger reconcile``, ``ledger pending``) after a final recovery.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import random
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.chaos import storage
from simulator.chaos.clients import INTENT_BUDGET_S, Traffic
from simulator.chaos.system import Options, System
from simulator.chaos.truth import (
    business_days,
    pending_now,
    queued_notices,
    read_boss,
    read_ledger,
    summarize_by,
    tally,
)
from simulator.pg_cluster import Cluster, binaries

Chaos = Callable[[System, float, random.Random], Awaitable[dict[str, Any]]]
SETTLE_S = 30.0
RECOVER_ROUNDS = 5
STORAGE_ERRORS = ("database or disk is full", "disk I/O error", "readonly", "Operation not permitted",
                  "StorageError", "storage")


@dataclass
class Spec:
    """One scenario: its faults (``chaos``), how long traffic runs, the system's shape."""

    name: str
    title: str
    seconds: float
    chaos: Chaos
    options: Options = field(default_factory=Options)
    number: int = 1
    retry_failed: bool = True
    storage: str = ""
    """``tmpfs`` (the database on a small tmpfs) or ``immutable`` (chattr +i): needs root;
    ``postgres``: the servers share a database in a private PostgreSQL cluster (fsync and
    synchronous_commit on), started for the scenario and stopped after it."""
    params: dict[str, Any] = field(default_factory=dict)


def _loop_until(seconds: float) -> Callable[[], bool]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    return lambda: loop.time() < deadline


# -- the faults ------------------------------------------------------------------------------

def kills(every: tuple[float, float] = (3.0, 7.0), at_least: int = 10, at_most: int = 40) -> Chaos:
    """``kill -9`` of the server at random moments, restarted at once; at least ``at_least``."""

    async def chaos(system: System, seconds: float, rng: random.Random) -> dict[str, Any]:
        running, n = _loop_until(seconds), 0
        while (running() or n < at_least) and n < at_most:
            await asyncio.sleep(rng.uniform(*every))
            await system.kill9()
            n += 1
            await asyncio.sleep(rng.uniform(0.0, 0.5))
            await system.start_server()
        return {"kills": n, "restart_s_max": round(max(system.restart_s), 2)}

    return chaos


def instance_kills(every: tuple[float, float] = (3.0, 6.0), at_least: int = 3,
                   at_most: int = 30) -> Chaos:
    """Several servers on one database: ``kill -9`` of one of them (at random) at random
    moments, restarted after a moment; the others go on serving meanwhile."""

    async def chaos(system: System, seconds: float, rng: random.Random) -> dict[str, Any]:
        running, n = _loop_until(seconds), 0
        killed: list[int] = []
        while (running() or n < at_least) and n < at_most:
            await asyncio.sleep(rng.uniform(*every))
            index = rng.randrange(len(system.servers))
            await system.kill9(index)
            killed.append(index + 1)
            n += 1
            await asyncio.sleep(rng.uniform(0.2, 1.0))
            await system.start_server(index)
        return {"instances": len(system.servers), "kills": n, "killed": killed,
                "restart_s_max": round(max(system.restart_s), 2)}

    return chaos


def slow_billing(failure_rate: float = 0.10, timeout_rate: float = 0.05,
                 every: tuple[float, float] = (6.0, 10.0), burst: tuple[float, float] = (2.0, 4.0),
                 bursts_at_least: int = 1) -> Chaos:  # fmt: skip
    """Billing failing and timing out at these rates; now and then slower than the server's
    timeout for a few seconds."""

    async def chaos(system: System, seconds: float, rng: random.Random) -> dict[str, Any]:
        base = system.options.billing_latency
        slow = system.options.billing_timeout_s * 2.0
        await system.billing_faults(failure_rate=failure_rate, timeout_rate=timeout_rate)
        running, n, slow_s = _loop_until(seconds), 0, 0.0
        try:
            while (running() or n < bursts_at_least) and n < 100:
                await asyncio.sleep(rng.uniform(*every))
                await system.billing_faults(latency=slow)
                hold = rng.uniform(*burst)
                await asyncio.sleep(hold)
                await system.billing_faults(latency=base)
                n, slow_s = n + 1, slow_s + hold
        finally:
            await system.billing_faults(latency=base, failure_rate=0.0, timeout_rate=0.0)
        return {"slow_bursts": n, "slow_s": round(slow_s, 1), "failure_rate": failure_rate,
                "timeout_rate": timeout_rate, "slow_latency_s": slow}

    return chaos


def smpp_faults(every: tuple[float, float] = (2.0, 5.0), lose: tuple[int, int] = (1, 4)) -> Chaos:
    """SMPP links cut every few seconds; MO acknowledgements lost (the SMSC redelivers)."""

    async def chaos(system: System, seconds: float, rng: random.Random) -> dict[str, Any]:
        running, drops, lost = _loop_until(seconds), 0, 0
        try:
            while running() and drops < 200:
                await asyncio.sleep(rng.uniform(*every))
                if drops % 2:
                    n = rng.randint(*lose)
                    await system.lose_acks(n)
                    lost += n
                await system.drop_links()
                drops += 1
        finally:
            await system.lose_acks(0)
        stats = await system.smsc_stats()
        return {"link_drops": drops, "acks_lost": lost, "redeliveries": stats["redeliveries"]}

    return chaos


def storage_windows(kind: str, every: tuple[float, float] = (7.0, 11.0),
                    hold: tuple[float, float] = (2.0, 4.0), at_least: int = 1) -> Chaos:
    """The database's disk full (``tmpfs``) or its files immutable (``immutable``) for a few
    seconds at a time."""

    async def chaos(system: System, seconds: float, rng: random.Random) -> dict[str, Any]:
        files = [system.db, system.db.with_name(system.db.name + "-wal")]
        running, n, held = _loop_until(seconds), 0, 0.0
        errors_before = system.server_log_count(*STORAGE_ERRORS)
        try:
            while (running() or n < at_least) and n < 100:
                await asyncio.sleep(rng.uniform(*every))
                if kind == "tmpfs":
                    await asyncio.to_thread(storage.fill, system.db_dir)
                elif not storage.immutable(files, True):
                    raise RuntimeError("chattr +i failed")
                took = rng.uniform(*hold)
                await asyncio.sleep(took)
                n, held = n + 1, held + took
                if kind == "tmpfs":
                    storage.unfill(system.db_dir)
                else:
                    storage.immutable(files, False)
        finally:
            storage.unfill(system.db_dir)
            storage.immutable(files, False)
        seen = system.server_log_count(*STORAGE_ERRORS) - errors_before
        return {"windows": n, "held_s": round(held, 1), "server_log_storage_lines": seen}

    return chaos


# -- one scenario -----------------------------------------------------------------------------

async def settle(system: System) -> dict[str, Any]:
    """Faults off, MO delivered, the servers stopped cleanly, ``ledger recover`` until nothing
    is pending (bounded), the first server once more to send the notices recovery queued; then
    the ledger's own ``verify``."""
    notes: dict[str, Any] = {}
    for index, server in enumerate(system.servers):
        if not server.running:
            await system.start_server(index)
    await system.billing_faults(latency=0.0, failure_rate=0.0, timeout_rate=0.0)
    await system.lose_acks(0)
    await _until(lambda: _quiet(system), SETTLE_S)
    notes["unacked_mo_at_stop"] = (await system.smsc_stats())["unacked"]
    notes["pending_at_stop"] = pending_now(system.database)
    exits = await system.stop_servers()
    notes["server_exit"] = exits[0] if len(exits) == 1 else exits
    rounds = []
    for _ in range(RECOVER_ROUNDS):
        if pending_now(system.database) == 0:
            break
        code, out, err = await system.cli("ledger", "recover", "--json")
        rounds.append({"exit": code, "out": out.strip()[-300:], "err": err.strip()[-300:]})
        await asyncio.sleep(1.0)
    notes["recover_rounds"] = rounds
    await system.start_server()  # sends what recovery queued (the agents' result notices)

    async def drained() -> bool:
        return queued_notices(system.database) == 0

    await _until(drained, SETTLE_S / 2)
    notes["notices_unsent"] = queued_notices(system.database)
    await system.stop_server()
    code, out, err = await system.cli("ledger", "verify", "--json")
    notes["verify"] = "ok" if code == 0 else "BREACH"
    if code:
        notes["verify_detail"] = (out or err).strip()[-1500:]
    return notes


async def _quiet(system: System) -> bool:
    return (await system.smsc_stats())["unacked"] == 0 and pending_now(system.database) == 0


async def _until(done: Callable[[], Awaitable[bool]], seconds: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if await done():
            return True
        await asyncio.sleep(0.5)
    return await done()


def flowed(by_via: dict[str, dict[str, int]]) -> bool:
    """Each channel's agents got most of their recharges answered: a fault that silences a
    whole channel (or a misconfigured one) must not pass for "nothing lost"."""
    for outcomes in by_via.values():
        total = sum(outcomes.values())
        if not total or outcomes.get("ok", 0) + outcomes.get("failed", 0) < 0.8 * total:
            return False
    return True


async def reconcile(system: System, days: list[dt.date]) -> tuple[str, list[str]]:
    """``ledger reconcile --date D`` for each day of the run: ok, MISMATCH or n/a (no command)."""
    verdicts, details = [], []
    for day in days:
        code, out, err = await system.cli("ledger", "reconcile", "--date", day.isoformat(),
                                          "--json")
        if code == 2 and "invalid choice" in err:
            return "n/a", ["smsmenu ledger reconcile is not available yet"]
        verdicts.append("ok" if code == 0 else "MISMATCH")
        if code:
            details.append((out or err).strip()[-1500:])
    return ("ok" if all(v == "ok" for v in verdicts) else "MISMATCH"), details


async def pending_cli(system: System) -> str:
    code, out, err = await system.cli("ledger", "pending", "--json")
    if code == 2 and "invalid choice" in err:
        return "n/a"
    return out.strip()[-500:] if code == 0 else f"exit {code}: {(err or out).strip()[-300:]}"


async def run_scenario(spec: Spec, root: Path, *, seed: int = 1,
                       logs_to: Path | None = None) -> dict[str, Any]:  # fmt: skip
    """Run one scenario in ``root`` (created, removed afterwards); its row."""
    rng = random.Random(seed)
    began, wall = dt.datetime.now(dt.UTC), time.monotonic()
    row: dict[str, Any] = {"scenario": spec.name, "title": spec.title, "seconds": spec.seconds}
    work = root / spec.name
    options = spec.options
    mounted = False
    if spec.storage == "tmpfs":
        db_dir = work / "db"
        if not storage.mount_tmpfs(db_dir, int(spec.params.get("tmpfs_mb", 128))):
            return {**row, "skipped": "mounting a tmpfs is not permitted here"}
        mounted = True
        options = _replace(options, db_dir=db_dir)
    elif spec.storage == "immutable" and (why := storage.probe_immutable(work)):
        return {**row, "skipped": why}
    cluster: Cluster | None = None
    if spec.storage == "postgres":
        if (bindir := binaries()) is None:
            return {**row, "skipped": "PostgreSQL is not installed (make peers installs it)"}
        cluster = Cluster(bindir, durable=True)
        await asyncio.to_thread(cluster.start)
        await asyncio.to_thread(cluster.create, "chaos")
        options = _replace(options, postgres_url=cluster.url("chaos"))
        row["database"] = "postgresql"
    system = System(work, options, scenario_no=spec.number)
    traffic_task: asyncio.Task[None] | None = None
    try:
        await system.start()
        assert system.http is not None
        traffic = Traffic(system.http, system.http_urls, system.control_url, spec.number,
                          seed=seed, retry_failed=spec.retry_failed)
        traffic_task = asyncio.create_task(
            traffic.run(system.http_agents, system.smpp_agents, spec.seconds))
        row["faults"] = await spec.chaos(system, spec.seconds, rng)
        try:
            await asyncio.wait_for(asyncio.shield(traffic_task), INTENT_BUDGET_S + 60.0)
        except TimeoutError:
            row["traffic_cut"] = True
        row["settle"] = await settle(system)
        late = await traffic.late_receipts(system.agents)
        days = business_days(began, dt.datetime.now(dt.UTC))
        row["reconcile"], reconcile_details = await reconcile(system, days)
        if reconcile_details:
            row["reconcile_detail"] = reconcile_details
        row["pending_cli"] = await pending_cli(system)
        ledger = read_ledger(system.database)
        boss = await read_boss(system.http, system.billing_url, traffic.intents, days)
        row.update(tally(traffic.intents, late, ledger, boss))
        row["verify"] = row["settle"].pop("verify")
        row["by_via"] = summarize_by(traffic.intents, "via")
        row["by_form"] = summarize_by(traffic.intents, "form")
        row["traffic_flowed"] = flowed(row["by_via"])
        row["client_errors"] = dict(traffic.errors)
        row["told_pending"] = sum(1 for i in traffic.intents if i.told_pending)
        row["last_replies"] = {
            outcome: sorted({i.replies[-1][:90] if i.replies else "(none)" for i in traffic.intents
                             if i.outcome == outcome})[:4]
            for outcome in row["outcomes"] if outcome != "ok"}
        starts = [server.starts for server in system.servers]
        row["server_starts"] = starts[0] if len(starts) == 1 else starts
        row["billing"] = "smsmenu billing-sim" if system.billing_sim else "stand-in"
        row["odd_examples"] = [i.as_json() for i in traffic.intents
                               if i.outcome not in ("ok", "failed")][:5]
        row["intents"] = [i.as_json() for i in traffic.intents
                          if i.target in {e["target"] for e in row["doubled_examples"]
                                          + row["lost_examples"]}]
    except Exception as exc:
        row["error"] = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        if traffic_task is not None and not traffic_task.done():
            traffic_task.cancel()
            await asyncio.gather(traffic_task, return_exceptions=True)
        await system.aclose()
        storage.immutable([system.db, system.db.with_name(system.db.name + "-wal")], False)
        if logs_to is not None:
            system.keep_logs(logs_to / spec.name)
        if mounted:
            storage.unmount(system.db_dir)
        if cluster is not None:
            await asyncio.to_thread(cluster.stop)
        row["wall_s"] = round(time.monotonic() - wall, 1)
        shutil.rmtree(work, ignore_errors=True)
    return row


def _replace(options: Options, **changes: Any) -> Options:
    return dataclasses.replace(options, **changes)


# -- the suite --------------------------------------------------------------------------------

def suite(scale: float = 1.0) -> list[Spec]:
    """The full run's scenarios; ``scale`` shortens every traffic phase (tests use < 1)."""
    s = max(scale, 0.05)
    return [
        Spec("kill", "kill -9 of the server, 20 agents over SMPP and HTTP", 75 * s, kills(),
             Options(billing_latency=0.1), number=1),
        Spec("billing", "billing fails 10%, times out 5%, slower than the timeout in bursts",
             70 * s, slow_billing(), Options(billing_latency=0.05, billing_timeout_s=1.0),
             number=2),
        Spec("smpp", "SMPP links dropped, MO acks lost (SMSC redelivery)", 60 * s, smpp_faults(),
             Options(agents_http=0, agents_smpp=20, redeliver_after=2.0), number=3),
        Spec("disk-full", "the database's disk full for seconds at a time (tmpfs)", 55 * s,
             storage_windows("tmpfs"), Options(), number=4, storage="tmpfs",
             params={"tmpfs_mb": 96}),
        Spec("read-only", "the database files immutable for seconds at a time (chattr +i)",
             55 * s, storage_windows("immutable"), Options(), number=5, storage="immutable"),
        Spec("instances", "3 servers on one SQLite file, kill -9 of one at a time, SMPP and HTTP",
             60 * s, instance_kills(), Options(instances=3, billing_latency=0.1), number=8),
        Spec("instances-pg", "3 servers on one PostgreSQL database, kill -9 of one at a time",
             60 * s, instance_kills(), Options(instances=3, billing_latency=0.1), number=9,
             storage="postgres"),
    ]


def to_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=2)
