"""`make chaos`: the reliability suite; one table on stdout, bench/chaos-results.json.

Each scenario starts billing-sim, the SMSC simulator and the server as processes of their own,
runs 20 agents' recharges under its faults, settles (faults off, ``ledger recover``) and counts
per intended recharge: attempted, confirmed, posted, credited at BOSS, doubled, lost, pending
after recovery, ``ledger verify`` and ``ledger reconcile``. Goal: 0 doubled, 0 lost, 0 pending,
verify and reconcile clean in every scenario. Exit 1 when a scenario misses it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import structlog

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from simulator.chaos.scenarios import Spec, run_scenario, suite  # noqa: E402

COLUMNS = [("scenario", 10), ("attempted", 9), ("confirmed", 9), ("posted", 7), ("credited", 8),
           ("doubled", 7), ("lost", 5), ("pending", 7), ("verify", 7), ("reconcile", 9)]


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "platform": platform.platform(),
            "load_before": os.getloadavg()}


def clean(row: dict[str, Any]) -> bool:
    """The goal: nothing doubled, lost or pending; verify and reconcile clean; money agrees."""
    if row.get("skipped") or row.get("error"):
        return False
    return (row["doubled"] == 0 and row["lost"] == 0 and row["pending"] == 0
            and row["verify"] == "ok" and row["reconcile"] in ("ok", "n/a")
            and row["money"]["ok"] and row.get("traffic_flowed", False))


def table(rows: list[dict[str, Any]]) -> str:
    head = "  ".join(f"{name:>{width}}" if i else f"{name:<{width}}"
                     for i, (name, width) in enumerate(COLUMNS))
    lines = [head, "-" * len(head)]
    for row in rows:
        if "attempted" not in row:
            why = row.get("skipped") or row.get("error") or "no result"
            lines.append(f"{row['scenario']:<10}  {'skipped' if row.get('skipped') else 'ERROR'}:"
                         f" {why}")
            continue
        cells = [str(row[name]) for name, _ in COLUMNS]
        lines.append("  ".join(f"{c:>{w}}" if i else f"{c:<{w}}"
                               for i, (c, (_, w)) in enumerate(zip(cells, COLUMNS, strict=True))))
    lines.append("")
    for row in rows:
        if "attempted" in row:
            money = row["money"]
            lines.append(f"{row['scenario']}: faults {json.dumps(row.get('faults', {}))}; "
                         f"money {'ok' if money['ok'] else 'MISMATCH'} (BOSS "
                         f"{money['boss_credited_fen']} fen, ledger {money['ledger_posted_fen']} "
                         f"fen); outcomes {json.dumps(row['outcomes'])}; told pending "
                         f"{row.get('told_pending', 0)}, pending when traffic stopped "
                         f"{row['settle'].get('pending_at_stop')}; by channel "
                         f"{json.dumps(row['by_via'])}; {row['wall_s']} s"
                         f"{'' if clean(row) else '  <- NOT CLEAN'}")
    return "\n".join(lines)


async def run(specs: list[Spec], seed: int, logs: Path | None) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="smsmenu-chaos-") as tmp:
        for n, spec in enumerate(specs):
            print(f"== {spec.name}: {spec.title} ({spec.seconds:g} s of traffic)", flush=True)
            try:
                row = await run_scenario(spec, Path(tmp), seed=seed + n, logs_to=logs)
            except Exception as exc:  # one broken scenario must not hide the others' figures
                row = {"scenario": spec.name, "title": spec.title, "error": repr(exc)}
            rows.append(row)
            brief = {k: row.get(k) for k in ("attempted", "confirmed", "posted", "credited",
                                               "doubled", "lost", "pending", "verify", "reconcile",
                                               "skipped", "error") if k in row}
            print(f"   {json.dumps(brief, ensure_ascii=False)}", flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only this scenario (repeatable): " + ", ".join(
                            s.name for s in suite()))
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply every scenario's traffic time (default 1: ~10 minutes)")
    parser.add_argument("--seed", type=int, default=int(time.time()) % 10_000)
    parser.add_argument("--out", type=Path, default=HERE / "chaos-results.json")
    parser.add_argument("--logs", type=Path, default=HERE.parent / "var" / "chaos-logs",
                        help="where each scenario's process logs are kept")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    specs = [s for s in suite(args.scale) if not args.only or s.name in args.only]
    started = time.time()
    rows = asyncio.run(run(specs, args.seed, args.logs))
    results = {"benchmark": "chaos", "machine": machine(), "seed": args.seed, "scale": args.scale,
               "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
               "seconds": round(time.time() - started, 1), "clean": all(map(clean, rows)),
               "scenarios": rows}
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print()
    print(table(rows))
    print(f"\n{'all clean' if results['clean'] else 'NOT CLEAN'}; {results['seconds']} s; "
          f"JSON: {args.out}; logs: {args.logs}")
    return 0 if results["clean"] else 1


if __name__ == "__main__":
    sys.exit(main())
