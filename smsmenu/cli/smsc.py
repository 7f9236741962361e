"""`smsmenu smsc`: the SMSC simulator on its own, for ESMEs (ours, Kannel) to bind to."""

from __future__ import annotations

import argparse

from smsmenu.cli.common import Subparsers, common_options, load
from smsmenu.cli.gateway_sim import Standalone, accounts_or_new, run_standalone
from smsmenu.core import logs
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
    accounts, generated = accounts_or_new(dict(args.account or []) or {
        b.system_id: b.password for b in binds(conf) if b.port == conf.simulator_port})
    redeliver = conf.simulator_redeliver_s if args.redeliver_after is None else args.redeliver_after
    smsc = simulators.smsc_simulator(accounts, host=host, port=port, service=args.service,
                                     redeliver_after=redeliver)
    how = Standalone("SMSC simulator", host, port, f"service number {args.service}; "
                     f"redelivery after {redeliver:g} s", args.control_port, conf.simulator_token)
    return await run_standalone(
        smsc, how, accounts, generated,
        lambda tokens: simulators.smsc_control_app(smsc, tokens=tokens),
        lambda: f"{smsc.stats.binds} binds, {smsc.stats.submits} submits, "
                f"{smsc.stats.mo_attempts} deliveries")
