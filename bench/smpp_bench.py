"""Benchmark: recharge dialogs over SMPP on 127.0.0.1 through the engine and ledger vs the echo ceiling.

    python bench/smpp_bench.py [--seconds 5] [--handsets 100] [--rounds 2] [--json out.json]

Both sides run the same rig (``smpp_echo``): the SMSC simulator and its handsets in a child
process, our ESME in this one, each handset walking ``1 2 TARGET 100 1 PASSWORD`` in a closed
loop (send, wait for the reply, send the next). The engine side is the server's own wiring: the
menu engine on a fresh ledger file (``synchronous=FULL``), one funded agent per handset, replies
through the durable outbox and its drain, delivery receipts stored on their rows. The echo side
answers each MO with its own text from memory: no engine, no ledger. Rounds alternate (echo,
engine, echo, engine...) so load from elsewhere hits both; the best round of each is compared.
CPU per MO of each process is recorded too (``cpu_ratio``): steadier on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import multiprocessing as mp
import os
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from smpp_echo import Closer, HandlerFactory, echo_factory, smsc_process
from smpp_echo import run as run_esme

from ledger import Ledger
from ledger.store.queries import scalar
from simulator.billing import BillingSimulator
from smsmenu.core import logs
from smsmenu.core.clock import SystemClock
from smsmenu.core.settings import load_settings
from smsmenu.core.types import InboundHandler
from smsmenu.gateway.base import Gateway
from smsmenu.gateway.smgp import SmgpGateway
from smsmenu.gateway.smpp import SmppGateway
from smsmenu.server.dispatch import Dispatcher
from smsmenu.server.wiring import ReceiptBook
from smsmenu.states.engine import Engine
from smsmenu.states.notices import SmsNotices

TX = "135790"
DIALOG = ("1", "2", "{target}", "100", "1", TX)
GOAL = 0.5
"""The engine should reach half the echo ceiling (issue 4)."""


async def engine_factory(gateway: Gateway, agents: int = 200,
                         report: dict[str, Any] | None = None) -> tuple[InboundHandler, Closer]:  # fmt: skip
    """The server's wiring on a temp ledger with ``agents`` funded agents ``189{n:08d}``."""
    tmp = tempfile.TemporaryDirectory(prefix="smpp-bench-")
    settings = load_settings(env={}).replace(
        "ledger", db=str(Path(tmp.name) / "bench.db"), secret_file=str(Path(tmp.name) / "secret"),
        synchronous="FULL")  # fmt: skip
    clock = SystemClock()
    ledger = await Ledger.open(settings, BillingSimulator(clock=clock, seed=None), clock,
                               notifier=SmsNotices())  # fmt: skip

    async def agent(n: int) -> None:
        number = f"189{n:08d}"
        await ledger.open_agent(msisdn=number, name=f"bench{n}", tx_password=TX,
                                mgmt_password="246800")  # fmt: skip
        await ledger.deposit(key=f"bench-{n}", msisdn=number, amount_fen=10**10, channel="counter")

    await asyncio.gather(*(agent(n) for n in range(agents)))
    await ledger.writer.run(lambda conn: conn.execute("UPDATE outbox SET status = 'sent'"))
    dispatcher = Dispatcher(ledger, [gateway])
    engine = Engine(ledger, on_queued=dispatcher.send_now)
    receipts = ReceiptBook(ledger)
    if isinstance(gateway, SmppGateway | SmgpGateway):
        gateway.attach(engine, receipts)
    drain = asyncio.create_task(dispatcher.run())

    async def close() -> None:
        drain.cancel()
        await asyncio.gather(drain, return_exceptions=True)
        await dispatcher.aclose()
        await receipts.aclose()
        if report is not None:
            breaches = {k: v for k, v in (await ledger.verify()).items() if v}
            report.update(
                verify_clean=not breaches,
                recharges=await ledger.read(scalar("SELECT COUNT(*) FROM recharges")),
                receipts_stored=receipts.stored, sms_sent=dispatcher.sent,
            )  # fmt: skip
        await ledger.aclose()
        tmp.cleanup()

    return engine, close


def measure(factory: HandlerFactory, opts: dict[str, Any]) -> dict[str, Any]:
    """One run: a child process with the simulator and handsets, our ESME here."""
    ctx = mp.get_context("spawn")
    results: Any = ctx.Queue()
    child = ctx.Process(target=smsc_process, args=(results, opts), daemon=True)
    child.start()
    try:
        port = results.get(timeout=30)
        return asyncio.run(run_esme(opts, factory, port, results))
    finally:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()


def run(seconds: float = 5.0, handsets: int = 100, rounds: int = 2, window: int = 50,
        warmup: float = 1.0) -> dict[str, Any]:  # fmt: skip
    """Echo and engine rounds alternated; the best of each, their ratio, and every round."""
    opts = {"seconds": seconds, "warmup": warmup, "handsets": handsets, "window": window,
            "smsc_window": window, "receipts": True, "script": list(DIALOG)}  # fmt: skip
    echo_runs, engine_runs = [], []
    for _ in range(rounds):
        echo_runs.append(measure(echo_factory, opts))
        report: dict[str, Any] = {}
        factory = functools.partial(engine_factory, agents=handsets, report=report)
        engine_runs.append({**measure(factory, opts), **report})
    echo = max(echo_runs, key=lambda r: r["per_second"])
    engine = max(engine_runs, key=lambda r: r["per_second"])
    ratio = engine["per_second"] / echo["per_second"] if echo["per_second"] else 0.0
    return {
        "benchmark": "smpp", "handsets": handsets, "window": window, "seconds": seconds,
        "rounds": rounds, "dialog": " ".join(DIALOG), "synchronous": "FULL",
        "echo": echo, "engine": engine, "ratio": round(ratio, 3), "goal": GOAL,
        "meets_goal": ratio >= GOAL, "cpu_ratio": _cpu_ratio(echo, engine),
        "echo_rounds": echo_runs, "engine_rounds": engine_runs,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
    }  # fmt: skip


def _cpu_ratio(echo: dict[str, Any], engine: dict[str, Any]) -> float | None:
    """Echo CPU per MO over engine CPU per MO, both processes: steadier than MO/s on a shared
    machine (what the engine and ledger cost, whoever else is using the cores)."""
    try:
        mine = engine["esme_cpu_us_per_mo"] + engine["smsc_cpu_us_per_mo"]
        return round((echo["esme_cpu_us_per_mo"] + echo["smsc_cpu_us_per_mo"]) / mine, 3)
    except (KeyError, TypeError, ZeroDivisionError):
        return None


def table(result: dict[str, Any]) -> str:
    rows = ["side       MO/s  p50 ms  p99 ms  round trips  CPU µs/MO: ESME  SMSC"]
    for side in ("echo", "engine"):
        r = result[side]
        rows.append(f"{side:<7} {r['per_second']:>7}  {r['p50_ms']:>6}  {r['p99_ms']:>6}  "
                    f"{r['round_trips']:>11}  {r.get('esme_cpu_us_per_mo')!s:>15}  "
                    f"{r.get('smsc_cpu_us_per_mo')!s:>4}")  # fmt: skip
    e = result["engine"]
    rows.append(f"engine/echo = {result['ratio']:.0%} of the echo ceiling (goal "
                f"{result['goal']:.0%}); CPU ratio {result['cpu_ratio']}; "
                f"{e.get('recharges', '?')} recharges, ledger verify "
                f"{'clean' if e.get('verify_clean') else 'BREACH'}")  # fmt: skip
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per round")
    parser.add_argument("--handsets", type=int, default=100, help="agents walking dialogs")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--window", type=int, default=50, help="outstanding submit_sm per bind")
    parser.add_argument("--log-level", default="warning",
                        help="our structlog level (info logs every menu step)")
    parser.add_argument("--json", type=Path, default=Path(__file__).with_suffix(".json"),
                        help="write the results here (default: bench/smpp_bench.json)")
    args = parser.parse_args(argv)
    logs.configure(level=args.log_level, json=True)
    result = run(args.seconds, args.handsets, args.rounds, args.window)
    print(table(result))
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"results in {args.json}")
    return result


if __name__ == "__main__":
    main()
