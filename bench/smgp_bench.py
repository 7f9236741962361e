"""Benchmark: SMGP beside SMPP: MO round trips against the echo ceiling, and the server's CPU per MO.

    python bench/smgp_bench.py [--seconds 5] [--handsets 100] [--rounds 2] [--json out.json]

Two measures, each in the style of its SMPP twin, so the two transports read side by side:

* round trips (``smpp_bench``'s rig over SMGP): the ISMG simulator and its handsets in a child
  process, our SMGP client in this one; each handset walks ``1 2 TARGET 100 1 PASSWORD`` in a
  closed loop. The engine side is the server's wiring (menu engine, ledger ``synchronous=FULL``,
  durable outbox and its drain, status reports stored on their rows); the echo side answers
  each MO with its own text from memory (the ceiling). Rounds alternate; the best of each and
  their ratio, with CPU per MO of each process.
* server CPU per MO (``cpu_per_mo``'s server round with ``transport="smgp"``): ``smsmenu serve``
  in a child process (production, its own SQLite FULL, BOSS over HTTP in a third process) with
  one SMGP link to the ISMG simulator here, saturated by ``smsmenu load``'s dialog mix; the same
  round over SMPP beside it, and the minimal echo ESME's CPU per MO as the ceiling of both.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import multiprocessing as mp
import queue
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import cpu_per_mo
from smpp_bench import DIALOG, GOAL, engine_factory
from smpp_echo import HandlerFactory, drive, echo_factory

from simulator.ismg import IsmgSimulator
from smsmenu.core import logs
from smsmenu.core.types import Inbound, Reply
from smsmenu.gateway.base import FunctionHandler
from smsmenu.gateway.smgp import SmgpGateway
from smsmenu.gateway.smgp_config import SmgpLinkConfig


def ismg_process(out: Any, opts: dict[str, Any]) -> None:
    """Child process: the ISMG simulator and its handsets; puts the port, then the results."""
    logs.configure(level="warning", json=True)

    async def main() -> None:
        async with IsmgSimulator({"bench": "bench"}, redeliver_after=30.0,
                                 window=opts["window"]) as ismg:  # fmt: skip
            out.put(ismg.port)
            await ismg.wait_bound()
            out.put(await drive(ismg, opts["handsets"], opts["seconds"], opts["warmup"],  # type: ignore[arg-type]
                                opts.get("script", ())))  # fmt: skip
            for _ in range(100):  # let our client Exit before the simulator goes away
                if not ismg.links:
                    break
                await asyncio.sleep(0.05)

    asyncio.run(main())


async def run_client(opts: dict[str, Any], factory: HandlerFactory, port: int,
                     results: Any) -> dict[str, Any]:  # fmt: skip
    """Our SMGP client in this process, its handler from ``factory``; the child's figures plus
    this process's CPU per MO answered."""
    config = SmgpLinkConfig("bench", "bench", "127.0.0.1", port, sp="10658",
                            window=opts["window"], need_report=1)  # fmt: skip
    gateway = SmgpGateway(config)
    handler, close = await factory(gateway)
    handled = 0

    async def counted(inbound: Inbound) -> list[Reply]:
        nonlocal handled
        handled += 1
        return (await handler(inbound)).replies

    gateway.attach(FunctionHandler(counted))  # (the engine's receipt sink, if any, stays)
    gateway.start()
    began = time.process_time()
    try:
        while True:
            try:
                result: dict[str, Any] = results.get_nowait()
            except queue.Empty:
                await asyncio.sleep(0.1)
                continue
            cpu_s = time.process_time() - began
            result["esme_cpu_us_per_mo"] = round(cpu_s / handled * 1e6) if handled else None
            return result
    finally:
        await close()
        await gateway.aclose()


def measure(factory: HandlerFactory, opts: dict[str, Any]) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    results: Any = ctx.Queue()
    child = ctx.Process(target=ismg_process, args=(results, opts), daemon=True)
    child.start()
    try:
        port = results.get(timeout=30)
        return asyncio.run(run_client(opts, factory, port, results))
    finally:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()


def round_trips(seconds: float, handsets: int, rounds: int, window: int = 50,
                warmup: float = 1.0) -> dict[str, Any]:  # fmt: skip
    """Echo and engine rounds over SMGP alternated; the best of each and their ratio."""
    opts = {"seconds": seconds, "warmup": warmup, "handsets": handsets, "window": window,
            "script": list(DIALOG)}  # fmt: skip
    echo_runs, engine_runs = [], []
    for _ in range(rounds):
        echo_runs.append(measure(echo_factory, opts))
        report: dict[str, Any] = {}
        factory = functools.partial(engine_factory, agents=handsets, report=report)
        engine_runs.append({**measure(factory, opts), **report})
    echo = max(echo_runs, key=lambda r: r["per_second"])
    engine = max(engine_runs, key=lambda r: r["per_second"])
    ratio = engine["per_second"] / echo["per_second"] if echo["per_second"] else 0.0
    return {"echo": echo, "engine": engine, "ratio": round(ratio, 3), "goal": GOAL,
            "meets_goal": ratio >= GOAL, "echo_rounds": echo_runs, "engine_rounds": engine_runs}


def server_cpu(seconds: float, rounds: int, windows: int = 3, agents: int = 100,
               echo_cpu_us: float | None = None) -> dict[str, Any]:  # fmt: skip
    """``smsmenu serve`` over SMGP and over SMPP (rounds alternated), against the echo ESME's
    CPU per MO (``echo_cpu_us``, e.g. from cpu_per_mo's own run; measured here if None)."""
    opts = cpu_per_mo.Options(window_s=seconds / windows, windows=windows, agents=agents)

    async def go() -> dict[str, Any]:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="smgp-bench-") as name:
            tmp = Path(name)
            (tmp / "logs").mkdir()
            sides: dict[str, list[dict[str, Any]]] = {"smgp": [], "smpp": []}
            echo = []
            for n in range(rounds):
                if echo_cpu_us is None:
                    echo.append(await cpu_per_mo.echo_round(opts, tmp / "logs"))
                for k, transport in enumerate(("smgp", "smpp")):
                    o = cpu_per_mo.Options(**{**opts.__dict__, "transport": transport})
                    sides[transport].append(
                        await cpu_per_mo.server_round(o, tmp, tmp / "logs", 2 * n + k))
        ceiling = echo_cpu_us if echo_cpu_us is not None else \
            cpu_per_mo._summary(echo)["cpu_us_per_mo"]  # fmt: skip
        out: dict[str, Any] = {"echo_cpu_us_per_mo": ceiling}
        for transport, runs in sides.items():
            summary = cpu_per_mo._summary(runs)
            out[transport] = {
                **summary, "ratio": round(summary["cpu_us_per_mo"] / ceiling, 2) if ceiling else 0,
                "answered_every_mo": all(r["mo_answered"] == r["mo_sent"] and not r["errors"]
                                         for r in runs),
                "verify_clean": all(r["verify_clean"] and r["money_ok"] for r in runs)}  # fmt: skip
        return out

    return asyncio.run(go())


def run(seconds: float = 5.0, handsets: int = 100, rounds: int = 2,
        echo_cpu_us: float | None = None) -> dict[str, Any]:  # fmt: skip
    return {"benchmark": "smgp", "seconds": seconds, "handsets": handsets, "rounds": rounds,
            "dialog": " ".join(DIALOG), "synchronous": "FULL",
            "round_trips": round_trips(seconds, handsets, rounds),
            "server_cpu": server_cpu(seconds * 1.2, rounds, echo_cpu_us=echo_cpu_us)}  # fmt: skip


def table(result: dict[str, Any], smpp: dict[str, Any] | None = None) -> str:
    """Both measures; ``smpp``: smpp_bench's result, for its engine/echo row beside ours."""
    rt = result["round_trips"]
    rows = ["transport side     MO/s  p50 ms  p99 ms  CPU µs/MO: client  simulator"]
    for side in ("echo", "engine"):
        r = rt[side]
        rows.append(f"SMGP      {side:<7} {r['per_second']:>6}  {r['p50_ms']:>6}  {r['p99_ms']:>6}  "
                    f"{r.get('esme_cpu_us_per_mo')!s:>17}  {r.get('smsc_cpu_us_per_mo')!s:>9}")
    line = f"SMGP engine/echo = {rt['ratio']:.0%} of its echo ceiling (goal {rt['goal']:.0%})"
    if smpp is not None:
        line += f"; SMPP engine/echo = {smpp['ratio']:.0%}"
    e = rt["engine"]
    rows.append(f"{line}; {e.get('recharges', '?')} recharges over SMGP, ledger verify "
                f"{'clean' if e.get('verify_clean') else 'BREACH'}")
    sc = result["server_cpu"]
    rows.append(f"server (smsmenu serve) CPU per MO under load (busy: its CPU s per wall s); "
                f"echo ESME ceiling {sc['echo_cpu_us_per_mo']} µs/MO:")
    rows.append("transport  CPU µs/MO     MO/s   busy  x ceiling  every MO answered  verify")
    for transport in ("smgp", "smpp"):
        r = sc[transport]
        rows.append(f"{transport.upper():<9} {r['cpu_us_per_mo']:>10.1f} {r['mo_per_s']:>8.1f} "
                    f"{r['busy']:>6.2f} {r['ratio']:>10}  {'yes' if r['answered_every_mo'] else 'NO':>17}"
                    f"  {'clean' if r['verify_clean'] else 'BREACH'}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per round")
    parser.add_argument("--handsets", type=int, default=100, help="agents walking dialogs")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", type=Path, default=Path(__file__).with_suffix(".json"),
                        help="write the results here (default: bench/smgp_bench.json)")
    args = parser.parse_args(argv)
    logs.configure(level="warning", json=True)
    result = run(args.seconds, args.handsets, args.rounds)
    print(table(result))
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"results in {args.json}")
    return result


if __name__ == "__main__":
    main()
