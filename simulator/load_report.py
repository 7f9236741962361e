"""The load generator's figures: percentiles, the result dict and the summary people read."""

from __future__ import annotations

import math
from typing import Any

from simulator.load_agents import Tally


def percentile(sorted_values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) in milliseconds; 0 when there is nothing."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q * len(sorted_values)))
    return round(sorted_values[rank - 1] * 1000, 2)


def figures(agents: int, via: str, elapsed: float, tally: Tally, money: dict[str, Any],
             breaches: dict[str, list[str]]) -> dict[str, Any]:
    latencies = sorted(tally.latencies)
    dialogs = sum(tally.dialogs.values())
    return {
        "agents": agents, "via": via, "elapsed_s": round(elapsed, 3),
        "dialogs": dialogs, "dialogs_by_kind": dict(tally.dialogs),
        "mo": tally.mo, "dialog_mo": tally.dialog_mo,
        "dialogs_per_s": round(dialogs / elapsed, 1), "mo_per_s": round(tally.mo / elapsed, 1),
        "latency_ms": {"p50": percentile(latencies, 0.50), "p95": percentile(latencies, 0.95),
                       "p99": percentile(latencies, 0.99), "max": percentile(latencies, 1.0)},
        "outcomes": dict(tally.outcomes), "errors": dict(tally.errors),
        "resyncs": tally.resyncs, "late_replies": tally.late, "money": money,
        "verify": {"ok": not breaches, "breaches": breaches},
        "ok": not breaches and money["ok"],
    }


def render(result: dict[str, Any]) -> str:
    """The summary a person reads at the end of ``smsmenu load``."""
    lat = result["latency_ms"]
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(result["dialogs_by_kind"].items()))
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(result["outcomes"].items())) or "none"
    errors = ", ".join(f"{k} {v}" for k, v in sorted(result["errors"].items())) or "none"
    money = result["money"]
    verify = "OK" if result["verify"]["ok"] else "BREACH " + ", ".join(result["verify"]["breaches"])
    unmatched = money.get("unmatched_receipts") or []
    return "\n".join([
        f"{result['agents']} agents over {result['via']} for {result['elapsed_s']} s",
        f"  dialogs   {result['dialogs']} ({kinds}): {result['dialogs_per_s']}/s",
        f"  MO        {result['mo']}: {result['mo_per_s']}/s",
        f"  step latency  p50 {lat['p50']} ms  p95 {lat['p95']} ms  p99 {lat['p99']} ms  "
        f"max {lat['max']} ms",
        f"  recharges {outcomes}",
        f"  money     debited {money['debited_fen'] / 100:.2f} yuan; the ledger's "
        f"{money['recharges_succeeded']} succeeded recharges × charge = "
        f"{money['ledger_fen'] / 100:.2f} yuan: {'OK' if money['ok'] else 'MISMATCH'}",
        f"  receipts  {money['receipts']} success receipts received; {money['unconfirmed']} "
        f"succeeded unconfirmed (reply lost or late), {money['pending']} pending"
        + (f"; NOT IN THE LEDGER: {', '.join(unmatched)}" if unmatched else ""),
        f"  errors    {errors}",
        f"  resyncs   {result['resyncs']} ({result['late_replies']} late replies discarded)",
        f"  ledger verify: {verify}",
    ])
