"""`smsmenu billing-sim`: the billing (BOSS) simulator on its own, over HTTP, its books on disk."""

from __future__ import annotations

import argparse
import asyncio
import signal

from aiohttp import web

from smsmenu.cli.common import ConfigError, Subparsers
from smsmenu.core import logs
from smsmenu.server import simulators


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def register(subparsers: Subparsers) -> None:
    """Add `billing-sim`."""
    p = subparsers.add_parser(
        "billing-sim", help="run the billing (BOSS) simulator standalone",
        description="The simulated BOSS over HTTP (credit, reverse, status, balance, cancel, "
                    "credits; tester endpoints /accounts and /faults). Prints its URL once "
                    "listening; SIGINT/SIGTERM stop it. With --state its books survive a "
                    "crash: every change is on disk before it is answered.")  # fmt: skip
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8090, help="HTTP port (default: 8090; 0: any)")
    p.add_argument("--latency", type=_seconds, default=0.0, metavar="S",
                   help="seconds every call waits before BOSS answers (default: 0)")
    p.add_argument("--failure-rate", type=_rate, default=0.0, metavar="F",
                   help="probability a new credit or reversal fails for good (default: 0)")
    p.add_argument("--timeout-rate", type=_rate, default=0.0, metavar="F",
                   help="probability a credit or reversal answers 504 (default: 0)")
    p.add_argument("--timeout-applies", type=_rate, default=0.5, metavar="F",
                   help="probability a timed-out call was applied all the same (default: 0.5)")
    p.add_argument("--seed", type=int, metavar="N", help="seed of the fault draws (default: random)")
    p.add_argument("--state", metavar="FILE",
                   help="keep the books in this JSON file (loaded at start, rewritten atomically "
                        "after every change); default: in memory only")  # fmt: skip
    p.set_defaults(func=_billing_sim_command)


async def _billing_sim_command(args: argparse.Namespace) -> int:
    logs.configure(level="info")
    sim = simulators.billing_simulator(latency=args.latency, failure_rate=args.failure_rate,
                           timeout_rate=args.timeout_rate, timeout_applies=args.timeout_applies,
                           seed=args.seed)  # fmt: skip
    if args.state:
        store = simulators.books_file(args.state)
        try:
            sim.books = store.load()
            store.save(sim.books)  # fail now, not at the first credit, if it cannot be written
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot use the books file {args.state}: {exc}") from None
        sim.on_change = store.save
    runner = web.AppRunner(simulators.billing_app(sim), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, args.host, args.port).start()
    except OSError as exc:
        await runner.cleanup()
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        host = f"[{args.host}]" if ":" in args.host else args.host
        books = f"books in {args.state}" if args.state else "books in memory"
        print(f"billing simulator listening on http://{host}:{runner.addresses[0][1]} "
              f"({books}, {len(sim.books.entries)} references; latency {args.latency:g} s, "
              f"failure rate {args.failure_rate:g}, timeout rate {args.timeout_rate:g})",
              flush=True)  # fmt: skip
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await runner.cleanup()
        print(f"billing simulator stopped ({len(sim.books.entries)} references)", flush=True)
    return 0
