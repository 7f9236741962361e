"""Menu steps per second through the engine alone (no HTTP), ledger on disk, p50/p99 per step."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from ledger import Ledger
from simulator.billing import BillingSimulator
from smsmenu.core.clock import SystemClock
from smsmenu.core.settings import load_settings
from smsmenu.core.types import Channel, Inbound
from smsmenu.states.engine import Engine
from smsmenu.states.notices import SmsNotices

DIALOG = ["1", "2", "{target}", "100", "1", "{tx}"]
"""A full mobile recharge dialog: six menu steps, the last one moves money."""
TX = "135790"


async def _agents(ledger: Ledger, n: int) -> list[str]:
    numbers = [f"189{i:08d}" for i in range(1, n + 1)]
    for number in numbers:
        await ledger.open_agent(msisdn=number, name=f"bench{number}", tx_password=TX,
                                mgmt_password="246800")
        await ledger.deposit(key=f"bench-dep-{number}", msisdn=number, amount_fen=10_000_000,
                             channel="counter")
    return numbers


async def run_level(agents: int, seconds: float, synchronous: str = "FULL") -> dict[str, Any]:
    """``agents`` concurrent agents each walking recharge dialogs for ``seconds``."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(env={}).replace(
            "ledger", db=str(Path(tmp) / "bench.db"), secret_file=str(Path(tmp) / "secret"),
            synchronous=synchronous)
        clock = SystemClock()
        async with await Ledger.open(settings, BillingSimulator(clock=clock), clock,
                                     notifier=SmsNotices()) as ledger:
            numbers = await _agents(ledger, agents)
            engine = Engine(ledger)
            keys = itertools.count()
            latencies: list[float] = []
            deadline = time.perf_counter() + seconds

            async def walk(number: str) -> int:
                dialogs = 0
                while time.perf_counter() < deadline:
                    for step in DIALOG:
                        text = step.format(target="18900001111", tx=TX)
                        start = time.perf_counter()
                        await engine.handle(Inbound(number, text, Channel.SMS, clock.now(),
                                                    f"b{next(keys)}"))
                        latencies.append(time.perf_counter() - start)
                    dialogs += 1
                return dialogs

            began = time.perf_counter()
            dialogs = sum(await asyncio.gather(*(walk(n) for n in numbers)))
            elapsed = time.perf_counter() - began
            breaches = {k: v for k, v in (await ledger.verify()).items() if v}
    latencies.sort()
    return {
        "agents": agents, "seconds": round(elapsed, 2), "steps": len(latencies),
        "steps_per_s": round(len(latencies) / elapsed, 1),
        "dialogs_per_s": round(dialogs / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "verify_clean": not breaches,
    }


def run(seconds: float = 5.0, levels: tuple[int, ...] = (1, 10, 100)) -> dict[str, Any]:
    return {"benchmark": "engine", "synchronous": "FULL",
            "levels": [asyncio.run(run_level(n, seconds)) for n in levels]}


def table(result: dict[str, Any]) -> str:
    rows = ["agents  steps/s  dialogs/s  p50 ms  p99 ms  verify"]
    for r in result["levels"]:
        rows.append(f"{r['agents']:>6}  {r['steps_per_s']:>7}  {r['dialogs_per_s']:>9}  "
                    f"{r['p50_ms']:>6}  {r['p99_ms']:>6}  {'ok' if r['verify_clean'] else 'BREACH'}")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = run(args.seconds)
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
