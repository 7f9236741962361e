"""Benchmark: 1, 2, 3 `smsmenu serve` instances on one database, MO/s and server CPU per MO.

    python bench/instances_bench.py [--instances 1,2,3] [--agents 60] [--seconds 8]
                                    [--postgres] [--json F]

For each N the chaos harness's system starts (``simulator.chaos.system``: billing-sim, the SMSC
simulator and N servers as processes, each server with its own SMPP bind to the SMSC, which
spreads MO over the binds, and its own ``[server] instance``); ``smsmenu load --server ...
--via smpp`` then walks ``--agents`` agents' recharge dialogs through the SMSC's handsets for
``--seconds``. Figures: MO/s answered (the load's own count), and the CPU seconds of all N server
processes (utime + stime of every thread, ``/proc/PID/stat``) over the load, divided by the MO
answered. On this 2-core machine the load generator, the SMSC and BOSS share the cores with the
servers, so the curve is CPU-bound: more instances add parallel interpreters (no shared GIL), not
cores; the CPU per MO shows what each message costs across them. The load checks the money and
``ledger verify`` itself (its exit status). ``--postgres``: the servers share a database in a
private PostgreSQL cluster (``simulator.pg_cluster``, fsync and synchronous_commit on) instead of
one SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from simulator.chaos.procs import PY  # noqa: E402
from simulator.chaos.scenarios import reconcile, settle  # noqa: E402
from simulator.chaos.system import Options, System  # noqa: E402
from simulator.chaos.truth import business_days, pending_now  # noqa: E402
from simulator.pg_cluster import Cluster, binaries  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def cpu_since(before: dict[int, float]) -> float:
    """CPU seconds the processes of ``before`` spent since (one killed meanwhile: what the
    living ones spent; a kill's row is then not a CPU figure)."""
    return sum(cpu_seconds(pid) - was for pid, was in before.items()
               if Path(f"/proc/{pid}/stat").exists())


def server_pids(system: System) -> list[int]:
    return [s.process.pid for s in system.servers if s.process is not None]


async def messages_in(system: System) -> list[int]:
    """Each server's ``smsmenu_messages_in_total`` over every channel (its /metrics)."""
    assert system.http is not None
    counts = []
    for url in system.http_urls:
        async with system.http.get(f"{url}/metrics") as resp:
            text = await resp.text()
        counts.append(int(sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                              if line.startswith("smsmenu_messages_in_total{"))))
    return counts


async def level(instances: int, agents: int, seconds: float, root: Path,
                postgres_url: str = "", kill: bool = False) -> dict[str, Any]:
    """One system of ``instances`` servers under the load (on ``postgres_url``, an empty
    database, else a SQLite file); its row. ``kill``: the last server is ``kill -9``ed at 40 %
    of the load and restarted; after the load the system settles (``ledger recover`` until
    nothing is pending, the notices sent) and the row adds pending, verify and reconcile."""
    system = System(root / f"n{instances}", Options(agents_http=0, agents_smpp=0,
                                                    billing_latency=0.0, instances=instances,
                                                    postgres_url=postgres_url))
    try:
        await system.start()
        pids = server_pids(system)
        before = {pid: cpu_seconds(pid) for pid in pids}
        began = time.monotonic()
        out = root / f"load-{instances}.json"
        proc = await asyncio.create_subprocess_exec(
            PY, "-m", "smsmenu", "load", "--server", system.http_url, "--via", "smpp",
            "--smsc-control", f"{system.control_url}/smsc", "--agents", str(agents),
            "--duration", str(seconds), "--db", system.database, "--config", str(system.config),
            "--json", str(out), "--quiet", env=system.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        if kill:
            await asyncio.sleep(seconds * 0.4)
            await system.kill9(instances - 1)
            await asyncio.sleep(0.5)
            await system.start_server(instances - 1)
        stdout, stderr = await proc.communicate()
        wall = time.monotonic() - began
        cpu = cpu_since(before)
        if not out.exists():
            raise RuntimeError(f"smsmenu load wrote no result (exit {proc.returncode}): "
                               f"{(stderr or stdout).decode()[-800:]}")
        load = json.loads(out.read_text())
        mo = int(load["mo"])
        per_instance = await messages_in(system)
        after = await _settled(system) if kill else {}
        return {**after, "instances": instances, "agents": agents, "mo": mo,
                "mo_per_s": load["mo_per_s"], "p99_ms": load["latency_ms"]["p99"],
                "server_cpu_s": round(cpu, 2),
                "cpu_us_per_mo": None if kill else round(cpu / max(mo, 1) * 1e6, 1),
                "servers_busy": round(cpu / wall, 2), "load_exit": proc.returncode,
                "money_ok": bool(load["ok"]),
                "errors": load.get("errors", {}), "messages_per_instance": per_instance}
    finally:
        await system.aclose()


async def _settled(system: System) -> dict[str, Any]:
    """After a kill: settle as the chaos suite does; what is pending, verify and reconcile."""
    days = business_days(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
                         dt.datetime.now(dt.UTC))
    notes = await settle(system)
    verdict, details = await reconcile(system, days)
    return {"kills": 1, "unacked_mo": notes["unacked_mo_at_stop"],
            "pending_after_recovery": pending_now(system.database),
            "verify": notes["verify"], "reconcile": verdict,
            **({"reconcile_detail": details} if details else {})}


def run(levels: list[int], agents: int, seconds: float, postgres: bool = False,
        kill: bool = False) -> dict[str, Any]:
    cluster: Cluster | None = None
    if postgres:
        bindir = binaries()
        if bindir is None:
            raise SystemExit("PostgreSQL is not installed (make peers installs it)")
        cluster = Cluster(bindir, durable=True)
        cluster.start()
    try:
        with tempfile.TemporaryDirectory(prefix="instances-bench-") as tmp:
            rows = []
            for n in levels:
                url = ""
                if cluster is not None:
                    cluster.create(f"bench{n}")
                    url = cluster.url(f"bench{n}")
                rows.append(asyncio.run(level(n, agents, seconds, Path(tmp), url, kill)))
    finally:
        if cluster is not None:
            cluster.stop()
    return {"benchmark": "instances", "database": "postgresql" if postgres else "sqlite",
            "cpus": os.cpu_count(), "levels": rows}


def table(result: dict[str, Any]) -> str:
    lines = [f"database: {result.get('database', 'sqlite')}",
             "instances  agents     MO/s  p99 ms  server CPU µs/MO  servers busy  money  load"]
    for r in result["levels"]:
        cpu = r["cpu_us_per_mo"] if r["cpu_us_per_mo"] is not None else "-"
        lines.append(f"{r['instances']:>9}  {r['agents']:>6}  {r['mo_per_s']:>7}  "
                     f"{r['p99_ms'] or '-':>6}  {cpu:>16}  {r['servers_busy']:>12}"
                     f"  {'ok' if r['money_ok'] else 'WRONG':>5}  exit {r['load_exit']}")
        if "kills" in r:
            lines.append(f"{'':>9}  kill -9 of one server: MO never acknowledged "
                         f"{r['unacked_mo']}, pending after recovery "
                         f"{r['pending_after_recovery']}, verify {r['verify']}, "
                         f"reconcile {r['reconcile']}, load errors {r['errors'] or 'none'}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", default="1,2,3", help="comma-separated counts")
    parser.add_argument("--agents", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--postgres", action="store_true",
                        help="one PostgreSQL database (a private cluster) instead of SQLite")
    parser.add_argument("--kill", action="store_true",
                        help="kill -9 the last server at 40%% of each load, restart it, settle, "
                             "and report pending, verify and reconcile")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = run([int(n) for n in args.instances.split(",")], args.agents, args.seconds,
                 args.postgres, args.kill)
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    sys.exit(0 if all(r["money_ok"] and r["load_exit"] == 0 and r.get("verify", "ok") == "ok"
                      and r.get("reconcile", "ok") == "ok" and not r.get("pending_after_recovery")
                      for r in result["levels"]) else 1)


if __name__ == "__main__":
    main()
