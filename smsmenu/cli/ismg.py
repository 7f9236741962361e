"""`smsmenu ismg`: the ISMG simulator on its own, for SPs (ours) to log in to over SMGP 3.0."""

from __future__ import annotations

import argparse

from smsmenu.cli.common import Subparsers, common_options, load
from smsmenu.cli.gateway_sim import Standalone, accounts_or_new, run_standalone
from smsmenu.core import logs
from smsmenu.server import simulators
from smsmenu.server.smgp import links


def _account(text: str) -> tuple[str, str]:
    client_id, sep, secret = text.partition(":")
    if not sep or not client_id or len(client_id) > 8:
        raise argparse.ArgumentTypeError("expected CLIENT_ID:SECRET (a client id of 1 to 8 "
                                         "characters)")  # fmt: skip
    return client_id, secret


def register(subparsers: Subparsers) -> None:
    """Add `ismg`."""
    p = subparsers.add_parser(
        "ismg", parents=[common_options()], help="run the ISMG simulator (SMGP 3.0) standalone",
        description="An SMGP 3.0 gateway (China Telecom's ISMG) with simulated handsets: SPs "
                    "log in (MD5 authenticator, modes send/receive/both); handsets' MO go out as "
                    "Deliver, redelivered until a DeliverResp OK; Submit land in their inboxes "
                    "with status reports. Ctrl-C stops.")  # fmt: skip
    p.add_argument("--host", help="address to listen on (default: [smgp] simulator_host)")
    p.add_argument("--port", type=int, help="SMGP port (default: [smgp] simulator_port; 0: any)")
    p.add_argument("--account", action="append", type=_account, metavar="CLIENT_ID:SECRET",
                   help="an SP account (repeatable; default: those of the [smgp] links aimed at "
                        "this simulator, else smsmenu with a new secret, printed)")  # fmt: skip
    p.add_argument("--redeliver-after", type=float, metavar="S",
                   help="seconds to wait for a DeliverResp before delivering again (default: "
                        "[smgp] simulator_redeliver_s)")  # fmt: skip
    p.add_argument("--active-test", type=float, default=30.0, metavar="S",
                   help="ActiveTest to each logged-in SP every S seconds (0: never; default 30)")
    p.add_argument("--service", default="10658", help="the SP number MO are sent to")
    p.add_argument("--control-port", type=int, metavar="N",
                   help="also serve the handsets' HTTP API on 127.0.0.1:N (the SMSC simulator's "
                        "API: `smsmenu phone --smsc-control URL`, Bearer token of [smgp] "
                        "simulator_token, else a new one, printed); 0: any free port")  # fmt: skip
    p.set_defaults(func=_ismg_command)


async def _ismg_command(args: argparse.Namespace) -> int:
    logs.configure(level="info")
    conf = load(args).smgp
    host = args.host or conf.simulator_host
    port = conf.simulator_port if args.port is None else args.port
    accounts, generated = accounts_or_new(dict(args.account or []) or {
        c.client_id: c.secret for c in links(conf) if c.port == conf.simulator_port})
    redeliver = conf.simulator_redeliver_s if args.redeliver_after is None else args.redeliver_after
    ismg = simulators.ismg_simulator(accounts, host=host, port=port, service=args.service,
                                     redeliver_after=redeliver)
    ismg.active_test_interval = args.active_test
    how = Standalone("ISMG simulator", host, port, f"SP number {args.service}; redelivery "
                     f"after {redeliver:g} s", args.control_port, conf.simulator_token)
    return await run_standalone(
        ismg, how, accounts, generated,
        lambda tokens: simulators.ismg_control_app(ismg, tokens=tokens),
        lambda: f"{ismg.stats.logins} logins, {ismg.stats.submits} submits, "
                f"{ismg.stats.mo_attempts} deliveries")
