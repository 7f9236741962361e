"""`smsmenu smsc`: the SMSC simulator on its own, for ESMEs (ours, Kannel) to bind to."""

from __future__ import annotations

import argparse
import asyncio
import signal

from aiohttp import web

from smsmenu.cli.common import ConfigError, Subparsers, common_options, load
from smsmenu.core import logs
from smsmenu.core.tokens import new_smpp_password, new_token
from smsmenu.server import simulators
from smsmenu.server.smpp import binds


def _account(text: str) -> tuple[str, str]:
    system_id, sep, password = text.partition(":")
    if not sep or not system_id:
        raise argparse.ArgumentTypeError("expected SYSTEM_ID:PASSWORD")
    return system_id, password


def register(subparsers: Subparsers) -> None:
    """Add `smsc`."""
    p = subparsers.add_parser(
        "smsc", parents=[common_options()], help="run the SMSC simulator standalone",
        description="An SMPP 3.4 server with simulated handsets: ESMEs bind as transceiver "
                    "(or tx/rx); handsets' MO go out as deliver_sm, submit_sm land in their "
                    "inboxes with delivery receipts. Ctrl-C stops.")  # fmt: skip
    p.add_argument("--host", help="address to listen on (default: [smpp] simulator_host)")
    p.add_argument("--port", type=int, help="SMPP port (default: [smpp] simulator_port; 0: any)")
    p.add_argument("--account", action="append", type=_account, metavar="SYSTEM_ID:PASSWORD",
                   help="an ESME account (repeatable; default: those of the [smpp] binds aimed "
                        "at this simulator, else smsmenu with a new password, printed); a bind "
                        "with other credentials is refused")  # fmt: skip
    p.add_argument("--redeliver-after", type=float, metavar="S",
                   help="seconds to wait for a deliver_sm_resp before redelivering "
                        "(default: [smpp] simulator_redeliver_s)")  # fmt: skip
    p.add_argument("--service", default="10658", help="the service number MO are sent to")
    p.add_argument("--control-port", type=int, metavar="N",
                   help="also serve the handsets' HTTP API on 127.0.0.1:N (for `smsmenu phone "
                        "--smsc-control`, with the Bearer token of [smpp] simulator_token, else "
                        "a new one, printed); 0: any free port")  # fmt: skip
    p.set_defaults(func=_smsc_command)


async def _smsc_command(args: argparse.Namespace) -> int:
    logs.configure(level="info")
    conf = load(args).smpp
    host = args.host or conf.simulator_host
    port = conf.simulator_port if args.port is None else args.port
    accounts = dict(args.account or []) or {
        b.system_id: b.password for b in binds(conf) if b.port == conf.simulator_port}
    generated = not accounts
    if generated:  # never a well-known password: anyone could bind and take the agents' MO
        accounts = {"smsmenu": new_smpp_password()}
    redeliver = conf.simulator_redeliver_s if args.redeliver_after is None else args.redeliver_after
    smsc = simulators.smsc_simulator(accounts, host=host, port=port, service=args.service,
                                     redeliver_after=redeliver)
    try:
        await smsc.start()
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner = None
    try:
        shown = ", ".join(f"{i}:{pw}" if generated else i for i, pw in sorted(accounts.items()))
        print(f"SMSC simulator listening on {host}:{smsc.port} (accounts: {shown}; service "
              f"number {args.service}; redelivery after {redeliver:g} s)", flush=True)
        if args.control_port is not None:
            tokens = conf.simulator_token or (new_token(),)
            runner = web.AppRunner(simulators.smsc_control_app(smsc, tokens=tokens), access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", args.control_port).start()
            print(f"handsets' API on http://127.0.0.1:{runner.addresses[0][1]} (Bearer "
                  f"{tokens[0]})", flush=True)
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if runner is not None:
            await runner.cleanup()
        await smsc.aclose()
        print(f"SMSC simulator stopped ({smsc.stats.binds} binds, {smsc.stats.submits} submits, "
              f"{smsc.stats.mo_attempts} deliveries)", flush=True)  # fmt: skip
    return 0
