"""Benchmark: MO -> handler -> reply round trips over SMPP on 127.0.0.1 (echo handler = ceiling).

    python bench/smpp_echo.py --seconds 5 --json out.json [--handler pkg.mod:factory] [--inline]

Handsets in the SMSC simulator (a child process unless ``--inline``) each send an MO and wait
for the reply before the next; the ESME (this process) hands MO to the handler and sends replies
through ``gateway.send``, as the server's outbox drainer would.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import multiprocessing as mp
import queue
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator.smsc import SmscSimulator
from smsmenu.core.types import Inbound, InboundHandler, Reply
from smsmenu.gateway.base import FunctionHandler, Gateway
from smsmenu.gateway.smpp import SmppGateway
from smsmenu.gateway.smpp_config import SmppBind

Closer = Callable[[], Awaitable[None]]
HandlerFactory = Callable[[Gateway], Awaitable[tuple[InboundHandler, Closer]]]
"""Given the gateway replies go out on, build the handler (and a closer); e.g. engine + outbox."""


async def echo_factory(gateway: Gateway, senders: int = 20) -> tuple[InboundHandler, Closer]:
    """Answer each MO with its own text; an in-memory outbox drained by ``senders`` tasks."""
    outbox: asyncio.Queue[Reply] = asyncio.Queue()

    async def handler(inbound: Inbound) -> list[Reply]:
        replies = [Reply(inbound.msisdn, inbound.text)]
        for reply in replies:
            outbox.put_nowait(reply)
        return replies

    async def drain() -> None:
        while True:
            reply = await outbox.get()
            try:
                await gateway.send(reply)
            except Exception as exc:  # the real outbox keeps the row and retries
                print(f"send failed: {exc!r}", file=sys.stderr)

    tasks = [asyncio.create_task(drain()) for _ in range(senders)]

    async def close() -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    return FunctionHandler(handler), close


async def drive(smsc: SmscSimulator, handsets: int, seconds: float, warmup: float,
                script: Sequence[str] = ()) -> dict[str, Any]:  # fmt: skip
    """Closed loop: each handset sends, waits for its reply, repeats; latencies after warm-up.

    Handset n is ``189{n:08d}``; it sends ``script`` in a loop (``{target}`` is ``180{n:08d}``),
    or else a counter.
    """
    loop = asyncio.get_running_loop()
    start = loop.time()
    measure_from, end = start + warmup, start + warmup + seconds
    latencies: list[float] = []
    errors = 0

    async def phone(n: int) -> None:
        nonlocal errors
        handset, i = smsc.handset(f"189{n:08d}"), 0
        target = f"180{n:08d}"
        while (sent := loop.time()) < end:
            text = script[i % len(script)].format(target=target) if script else f"{i + 1}"
            i += 1
            await handset.send(text)
            try:
                await handset.receive(timeout=10)
            except TimeoutError:
                errors += 1
                continue
            if sent >= measure_from:
                latencies.append(loop.time() - sent)

    async def cpu() -> float:
        """This process's CPU seconds over the measured span."""
        await asyncio.sleep(warmup)
        began = time.process_time()
        await asyncio.sleep(seconds)
        return time.process_time() - began

    meter = asyncio.create_task(cpu())
    await asyncio.gather(*(phone(n) for n in range(handsets)))
    elapsed = loop.time() - measure_from
    cpu_s = await meter
    latencies.sort()

    def pct(q: float) -> float:
        return round(latencies[int(q * (len(latencies) - 1))] * 1000, 2) if latencies else 0.0

    return {"round_trips": len(latencies), "measured_s": round(elapsed, 2),
            "per_second": round(len(latencies) / elapsed, 1), "p50_ms": pct(0.50),
            "p99_ms": pct(0.99), "max_ms": pct(1.0), "timeouts": errors,
            "redeliveries": smsc.stats.redeliveries,
            "smsc_cpu_us_per_mo": round(cpu_s / len(latencies) * 1e6) if latencies else None}  # fmt: skip


def smsc_process(out: Any, opts: dict[str, Any]) -> None:
    """Child process: the simulator and its handsets; puts the port, then the results."""

    async def main() -> None:
        async with SmscSimulator({"bench": "bench"}, redeliver_after=30.0,
                                 window=opts.get("smsc_window", 10)) as smsc:  # fmt: skip
            out.put(smsc.port)
            await smsc.wait_bound()
            out.put(await drive(smsc, opts["handsets"], opts["seconds"], opts["warmup"],
                                opts.get("script", ())))  # fmt: skip
            for _ in range(100):  # let the ESME unbind before the simulator goes away
                if not smsc.binds:
                    break
                await asyncio.sleep(0.05)

    asyncio.run(main())


def load_factory(spec: str | None) -> HandlerFactory:
    if not spec:
        return echo_factory
    module, _, name = spec.partition(":")
    factory: HandlerFactory = getattr(importlib.import_module(module), name)
    return factory


async def run(opts: dict[str, Any], factory: HandlerFactory, port: int | None,
              results: Any = None) -> dict[str, Any]:  # fmt: skip
    smsc = None if port is not None else SmscSimulator({"bench": "bench"}, redeliver_after=30.0)
    if smsc is not None:
        await smsc.start()
        port = smsc.port
    assert port is not None
    bind = SmppBind("bench", "bench", "127.0.0.1", port, window=opts["window"],
                    source_addr="10658", registered_delivery=int(opts["receipts"]))  # fmt: skip
    gateway = SmppGateway(bind)
    handler, close = await factory(gateway)
    handled = 0

    async def counted(inbound: Inbound) -> list[Reply]:
        nonlocal handled
        handled += 1
        return (await handler(inbound)).replies

    gateway.attach(FunctionHandler(counted))
    gateway.start()
    began = time.process_time()
    try:
        if smsc is not None:
            return await drive(smsc, opts["handsets"], opts["seconds"], opts["warmup"],
                               opts.get("script", ()))  # fmt: skip
        while True:  # the child process measures; poll its queue without blocking the loop
            try:
                result: dict[str, Any] = results.get_nowait()
            except queue.Empty:
                await asyncio.sleep(0.1)
                continue
            cpu_s = time.process_time() - began  # every thread of this process, warm-up too
            result["esme_cpu_us_per_mo"] = round(cpu_s / handled * 1e6) if handled else None
            return result
    finally:
        await close()
        await gateway.aclose()
        if smsc is not None:
            await smsc.aclose()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--handsets", type=int, default=200, help="concurrent handsets")
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--receipts", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--inline", action="store_true", help="SMSC in this process too")
    parser.add_argument("--handler", help="module:factory building the handler (default: echo)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    opts = {k: getattr(args, k) for k in ("seconds", "warmup", "handsets", "window", "receipts")}
    factory = load_factory(args.handler)
    if args.inline:
        result = asyncio.run(run(opts, factory, None))
    else:
        ctx = mp.get_context("spawn")
        results: Any = ctx.Queue()
        child = ctx.Process(target=smsc_process, args=(results, opts), daemon=True)
        child.start()
        port = results.get(timeout=30)
        result = asyncio.run(run(opts, factory, port, results))
        child.join(timeout=10)
    result = {"handler": args.handler or "echo", "processes": 1 if args.inline else 2,
              **opts, **result}  # fmt: skip
    width = max(len(k) for k in result)
    print("\n".join(f"{k:<{width}}  {v}" for k, v in result.items()))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
