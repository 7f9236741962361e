"""`make bench`: every benchmark with its same-run ceiling; bench/results.json, a plot, a table."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import structlog

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cpu_per_mo  # noqa: E402
import engine_bench  # noqa: E402
import instances_bench  # noqa: E402
import ledger_bench  # noqa: E402
import pg_bench  # noqa: E402
import smgp_bench  # noqa: E402
import smpp_bench  # noqa: E402

from simulator.load import run_load  # noqa: E402

LOAD_LEVELS = (1, 5, 10, 20, 50, 100)


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "platform": platform.platform(),
            "load_before": os.getloadavg()}


def load_curve(seconds: float, levels: tuple[int, ...] = LOAD_LEVELS) -> dict[str, Any]:
    """End to end over SMPP (server in a child process, SMSC here): MO/s and p99 against N."""
    rows = []
    for agents in levels:
        result = asyncio.run(run_load(agents=agents, duration=seconds, via="smpp", spawn=True))
        lat = result["latency_ms"]
        rows.append({"agents": agents, "mo_per_s": result["mo_per_s"],
                     "dialogs_per_s": result["dialogs_per_s"], "p50_ms": lat["p50"],
                     "p95_ms": lat["p95"], "p99_ms": lat["p99"], "errors": result["errors"],
                     "verify_clean": result["ok"]})
    return {"benchmark": "load", "via": "smpp", "levels": rows}


def plot(curve: dict[str, Any], path: Path) -> str:
    """Throughput and p99 against N as a PNG; matplotlib is a bench-only extra."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib not installed: no plot (pip install '.[bench]')"
    rows = curve["levels"]
    n = [r["agents"] for r in rows]
    fig, left = plt.subplots(figsize=(7, 4), dpi=110)
    left.plot(n, [r["mo_per_s"] for r in rows], "o-", color="tab:blue", label="MO/s")
    left.set_xlabel("concurrent agents (N)")
    left.set_ylabel("MO messages / s", color="tab:blue")
    left.set_xscale("log")
    right = left.twinx()
    right.plot(n, [r["p99_ms"] for r in rows], "s--", color="tab:red", label="p99 ms")
    right.set_ylabel("p99 step latency (ms)", color="tab:red")
    left.set_title("smsmenu end to end over SMPP (2 cores, synchronous=FULL)")
    fig.tight_layout()
    fig.savefig(path)
    return str(path)


def table(results: dict[str, Any]) -> str:
    lines = ["== ledger (durable recharges/s vs bare sqlite3 ceiling)", ledger_bench.table(
        results["ledger"]), "",
        "== ledger on PostgreSQL (durable recharges/s vs bare psycopg, same statements, batching)",
        pg_bench.table(results["ledger_postgres"]), "", "== engine (menu steps, no transport)",
        engine_bench.table(results["engine"]), "", "== SMPP (MO->reply round trips vs echo)",
        smpp_bench.table(results["smpp"]), "",
        "== CPU per MO answered: the server vs a minimal echo ESME, each saturated over SMPP",
        cpu_per_mo.table(results["cpu_per_mo"]), "",
        "== SMGP beside SMPP (round trips vs the SMGP echo; server CPU per MO vs the echo ESME)",
        smgp_bench.table(results["smgp"], results["smpp"]), "",
        "== several servers on one database (MO/s, CPU of all servers per MO)",
        instances_bench.table(results["instances"]),
        instances_bench.table(results["instances_postgres"]), "", "== load over SMPP (N agents)",
        "agents   MO/s  dialogs/s  p50 ms  p95 ms  p99 ms  verify"]
    for r in results["load"]["levels"]:
        lines.append(f"{r['agents']:>6} {r['mo_per_s']:>6} {r['dialogs_per_s']:>10} "
                     f"{r['p50_ms']:>7} {r['p95_ms']:>7} {r['p99_ms']:>7}  "
                     f"{'ok' if r['verify_clean'] else 'BREACH'}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="per measured level")
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": machine()}
    results["ledger"] = ledger_bench.run(args.seconds)
    results["ledger_postgres"] = pg_bench.run(args.seconds)
    results["engine"] = engine_bench.run(args.seconds)
    results["smpp"] = smpp_bench.run(args.seconds)
    results["cpu_per_mo"] = cpu_per_mo.run(args.seconds)
    results["smgp"] = smgp_bench.run(args.seconds,
                                      echo_cpu_us=results["cpu_per_mo"]["echo"]["cpu_us_per_mo"])
    results["instances"] = instances_bench.run([1, 2, 3], 60, args.seconds)
    results["instances_postgres"] = instances_bench.run([1, 2, 3], 60, args.seconds,
                                                        postgres=True)
    results["load"] = load_curve(args.seconds)
    results["plot"] = plot(results["load"], args.out.with_name("load.png"))
    results["machine"]["load_after"] = os.getloadavg()
    results["seconds"] = round(time.perf_counter() - started, 1)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(table(results))
    print(f"\nwritten: {args.out}, plot: {results['plot']} ({results['seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
