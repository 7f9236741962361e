"""`smsmenu load`: N agents walking recharge dialogs; throughput, latency, errors, ledger verify."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from smsmenu.cli.common import Subparsers, load
from smsmenu.core.health import WAIT_S, NotReady
from smsmenu.core.tokens import client_token
from smsmenu.server import simulators

if TYPE_CHECKING:
    from smsmenu.server.simulators import Progress

BAR = 30


def _progress_line(p: Progress) -> None:
    done = min(1.0, p.elapsed / p.duration) if p.duration else 1.0
    bar = "#" * int(done * BAR) + "." * (BAR - int(done * BAR))
    rate = p.mo / p.elapsed if p.elapsed else 0.0
    line = (f"\r[{bar}] {p.elapsed:5.1f}/{p.duration:g} s  dialogs {p.dialogs}  MO {p.mo} "
            f"({rate:.0f}/s)  errors {p.errors}  resyncs {p.resyncs} ")
    print(line, end="" if sys.stderr.isatty() else "\n", file=sys.stderr, flush=True)


async def load_command(args: argparse.Namespace) -> int:
    """Exit 0 when the ledger verifies and the money adds up, 1 otherwise."""
    most = simulators.max_load_agents()
    if not 1 <= args.agents <= most or args.duration <= 0:
        print(f"error: --agents must be 1 to {most} and --duration positive",
              file=sys.stderr)
        return 2
    settings = load(args) if args.server else None
    token = args.token or (client_token(settings, args.via) if settings is not None else "")
    try:
        result = await simulators.load(
            agents=args.agents, duration=args.duration, via=args.via,
            billing_failure_rate=args.billing_failure_rate, server=args.server, settings=settings,
            smsc_control=args.smsc_control, synchronous=args.synchronous,
            reply_timeout=args.reply_timeout, spawn=args.spawn, ready_wait=args.wait, token=token,
            progress=None if args.quiet else _progress_line)
    except NotReady as exc:
        print(f"error: {args.server}: {exc}", file=sys.stderr)
        return 2
    if not args.quiet and sys.stderr.isatty():
        print(file=sys.stderr)
    if args.json_file:
        text = json.dumps(result, ensure_ascii=False, indent=2) + "\n"
        await asyncio.to_thread(Path(args.json_file).write_text, text, "utf-8")
    print(simulators.load_table(result))
    return 0 if result["ok"] else 1


def register(subparsers: Subparsers) -> None:
    """Add `load`."""
    p = subparsers.add_parser(
        "load", help="load generator: N agents walking recharge dialogs as fast as answered",
        description="Open and fund N agents, walk full recharge dialogs (plus balance queries and "
                    "retries of failed recharges) as fast as they are answered, then print "
                    "dialogs/s, MO/s, p50/p95/p99 step latency, errors by kind, and check the "
                    "money and `ledger verify` (exit 1 if either fails). Without --server it "
                    "starts its own server on a temporary database.")
    p.add_argument("--agents", type=int, default=10, help="concurrent agents (default 10)")
    p.add_argument("--duration", type=float, default=10.0, metavar="S",
                   help="seconds of load; dialogs under way finish (default 10)")
    p.add_argument("--via", choices=("smpp", "smgp", "http"), default="smpp",
                   help="smpp: handsets of the SMSC simulator over SMPP (default); smgp: of the "
                        "ISMG simulator over SMGP; http: /api/sms")
    p.add_argument("--billing-failure-rate", type=float, default=0.0, metavar="F",
                   help="share of credits the billing simulator fails (0..1); failed ones are "
                        "retried through the menu")
    p.add_argument("--server", metavar="URL",
                   help="load a running server instead (agents are funded in its --db)")
    p.add_argument("--smsc-control", metavar="URL",
                   help="with --server --via smpp/smgp: the simulator's handset API (default "
                        "SERVER/smsc, SERVER/ismg)")
    p.add_argument("--token", metavar="TOKEN",
                   help="with --server: its [api] token (--via http) or its SMSC simulator's "
                        "token (--via smpp) (default: the settings', else those `make run` "
                        "generated)")
    p.add_argument("--wait", type=float, default=WAIT_S, metavar="S",
                   help=f"with --server: seconds to wait for its /healthz to answer 200 (default "
                        f"{WAIT_S:g}); then exit 2")
    p.add_argument("--db", metavar="PATH", help="with --server: the server's database")
    p.add_argument("--config", metavar="FILE", help="with --server: the server's settings")
    p.add_argument("--spawn", action="store_true",
                   help="own server in a child process (the SMSC simulator and handsets stay "
                        "here): two processes, as with a real carrier; else one process")
    p.add_argument("--synchronous", choices=("FULL", "NORMAL", "OFF"), default="FULL",
                   help="own server: SQLite synchronous mode (default FULL, durable)")
    p.add_argument("--reply-timeout", type=float, default=10.0, metavar="S",
                   help="seconds to wait for each reply before counting a timeout (default 10)")
    p.add_argument("--json", dest="json_file", metavar="FILE",
                   help="also write the figures as JSON to FILE")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=load_command)
