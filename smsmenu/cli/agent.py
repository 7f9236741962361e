"""`smsmenu agent ...`: open, deposit, show, suspend/resume (R-5), unlock, close (R-6), rate, password."""

from __future__ import annotations

import argparse
from typing import Any

from smsmenu.cli.common import (
    KEY_HELP,
    PASSWORD_HELP,
    Command,
    Subparsers,
    actor,
    common_options,
    new_key,
    secret,
    session,
    yuan,
)


async def open_agent(args: argparse.Namespace) -> int:
    """R-1..R-3: open an agent; the notice never repeats the passwords."""
    tx = secret(args.tx_password, "transaction password")
    mgmt = secret(args.mgmt_password, "management password")
    async with session(args) as s:
        rate = s.rate(args.rate) if args.rate is not None else None
        result = await s.ledger.open_agent(msisdn=args.msisdn, name=args.name, tx_password=tx,
                                           mgmt_password=mgmt, rate_ppm=rate, actor=actor())
        s.emit(result, "opened")
    return 0


async def deposit(args: argparse.Namespace) -> int:
    """R-8 counter deposit (>= 500 yuan, x10) or R-9 online top-up (x10)."""
    amount = yuan(args.amount, "R-8" if args.channel == "counter" else "R-9")
    async with session(args) as s:
        result = await s.ledger.deposit(key=new_key(args.key), msisdn=s.msisdn(args.msisdn),
                                        amount_fen=amount, channel=args.channel, actor=actor())
        s.emit(result, "deposit")
    return 0


async def show(args: argparse.Namespace) -> int:
    async with session(args) as s:
        s.emit(await s.ledger.agent(s.msisdn(args.msisdn)), "agent")
    return 0


def _flag(title: str, **change: Any) -> Command:
    """An operator switch of ``set_flag`` (R-5 suspended, unlock) as a command."""
    async def run(args: argparse.Namespace) -> int:
        async with session(args) as s:
            s.emit(await s.ledger.set_flag(msisdn=s.msisdn(args.msisdn), actor=actor(), **change),
                   title)
        return 0
    return run


async def close(args: argparse.Namespace) -> int:
    """R-6: close; a balance under 10 yuan is refunded in cash, 10 yuan or more is refused."""
    async with session(args) as s:
        result = await s.ledger.close_agent(key=new_key(args.key), msisdn=s.msisdn(args.msisdn),
                                            actor=actor())
        s.emit(result, "closed")
    return 0


async def rate(args: argparse.Namespace) -> int:
    """R-16: set the agent's own commission rate (a fraction, e.g. 0.02)."""
    async with session(args) as s:
        result = await s.ledger.set_flag(msisdn=s.msisdn(args.msisdn), rate_ppm=s.rate(args.rate),
                                        actor=actor())
        s.emit(result, "rate")
    return 0


async def password(args: argparse.Namespace) -> int:
    """R-21: change the transaction or management password (the old one is checked)."""
    old = secret(args.old, "current password")
    new = secret(args.new, "new password")
    async with session(args) as s:
        result = await s.ledger.change_password(msisdn=s.msisdn(args.msisdn), purpose=args.which,
                                                old=old, new=new)
        s.emit(result, "password")
    return 0


def register(subparsers: Subparsers) -> None:
    """Add `agent` and its sub-commands."""
    group = subparsers.add_parser("agent", help="open, fund, inspect and manage agents",
                                  description="Agent accounts (代办户).")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    common = [common_options()]

    def add(name: str, func: Command, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=common, help=help_,
                                                    description=help_)
        p.add_argument("--msisdn", required=True, metavar="M", help="the agent's CDMA number")
        p.set_defaults(func=func)
        return p

    p = add("open", open_agent, "open an agent (R-1..R-3)")
    p.add_argument("--name", required=True, metavar="N", help="shop or person name")
    p.add_argument("--tx-password", required=True, metavar="P",
                   help=f"transaction password, {PASSWORD_HELP}")
    p.add_argument("--mgmt-password", required=True, metavar="Q",
                   help=f"management password, {PASSWORD_HELP}")
    p.add_argument("--rate", metavar="R", help="own commission rate as a fraction, 0.02 = 2%% "
                                               "(default: settings [rules] default_rate)")
    p = add("deposit", deposit, "deposit into the recharge account (R-8, R-9)")
    p.add_argument("--amount", required=True, metavar="YUAN", help="amount in yuan")
    p.add_argument("--channel", choices=("counter", "online"), default="counter",
                   help="counter: >= 500 and x10 (R-8); online: x10 (R-9) (default: counter)")
    p.add_argument("--key", metavar="K", help=KEY_HELP)
    add("show", show, "show the agent and its balance")
    add("suspend", _flag("suspended", suspended=True), "mark the agent's phone suspended (R-5)")
    add("resume", _flag("resumed", suspended=False), "clear the phone-suspended mark (R-5)")
    add("unlock", _flag("unlocked", unlock=True),
        "lift both locks (money and web login) and restart their ladders (R-2)")
    add("close", close, "close the agent, refunding a balance under 10 yuan (R-6)").add_argument(
        "--key", metavar="K", help=KEY_HELP)
    add("rate", rate, "set the agent's commission rate (R-16)").add_argument(
        "--rate", required=True, metavar="R", help="a fraction, 0.02 = 2%%")
    p = add("password", password, "change a password (R-21)")
    p.add_argument("--which", required=True, choices=("tx", "mgmt"),
                   help="tx: transaction password; mgmt: management password")
    p.add_argument("--old", required=True, metavar="P", help=f"current password, {PASSWORD_HELP}")
    p.add_argument("--new", required=True, metavar="Q", help=f"new password, {PASSWORD_HELP}")
