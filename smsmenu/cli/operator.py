"""`smsmenu operator add`: create a back-office operator (counter clerk, hotline, supervisor)."""

from __future__ import annotations

import argparse

from smsmenu.cli.common import Subparsers, common_options, secret, session
from smsmenu.web import ROLES, create_operator


async def add(args: argparse.Namespace) -> int:
    """Create the operator; its password is never printed."""
    password = secret(args.password, "operator password")
    async with session(args) as s:
        created = await create_operator(s.ledger, args.name, password, args.role)
        s.emit({"name": created.get("name", args.name), "role": args.role},
               lines=[f"operator {args.name} ({args.role}) created"])
    return 0


def register(subparsers: Subparsers) -> None:
    """Add `operator add`."""
    group = subparsers.add_parser("operator", help="back-office operators of the web portal",
                                  description="Operators log in at /web/ops/.")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("add", parents=[common_options()], help="create an operator")
    p.add_argument("--name", required=True, help="login name (no spaces)")
    p.add_argument("--role", required=True, choices=ROLES,
                   help="clerk: counter; hotline: look-ups; supervisor: everything")
    p.add_argument("--password", default="-",
                   help="at least 10 characters; '-' (default) prompts without echo")
    p.set_defaults(func=add)
