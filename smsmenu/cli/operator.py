"""`smsmenu operator`: back-office operators from the shell: add, list, reset-password,
deactivate, activate (each change audited like the back office's own)."""

from __future__ import annotations

import argparse
import secrets
import sys
from collections.abc import Mapping

from smsmenu.cli import output as cli_output
from smsmenu.cli.common import Subparsers, common_options, secret, session
from smsmenu.cli.operator_accounts import change, create, listing, set_active, set_password
from smsmenu.web import ROLES
from smsmenu.web.operators import hashed

GENERATED = 12
"""Random bytes of a generated password (16 URL-safe characters)."""


def words(args: argparse.Namespace) -> Mapping[str, str]:
    return cli_output.words(args.lang, "operator")


async def add(args: argparse.Namespace) -> int:
    """Create the operator (audited); its password is never printed."""
    password = secret(args.password, "operator password")
    async with session(args) as s:
        created = await create(s.ledger, args.name, password, args.role)
        name = created.get("name", args.name)
        s.emit({"name": name, "role": args.role},
               lines=[words(args)["created"].format(name, args.role)])
    return 0


async def list_(args: argparse.Namespace) -> int:
    """Every operator: name, role, active, created, last login (never a password hash)."""
    w = words(args)
    async with session(args) as s:
        rows = [{"name": r.name, "role": r.role, "active": r.active, "created_at": r.created_at,
                 "last_login_at": r.last_login_at} for r in await listing(s.ledger)]
        lines = [f"{w['title']} ({cli_output.label(s.lang, 'count')}: {len(rows)})"]
        for r in rows:
            seen = r["last_login_at"]
            lines.append("  ".join([
                f"  {r['name']:<16}", f"{r['role']:<10}",
                w["active"] if r["active"] else w["inactive"],
                f"{w['created_at']} {cli_output.local_time(str(r['created_at']), s.tz)}",
                f"{w['last_login']} "
                + (cli_output.local_time(str(seen), s.tz) if seen else w["never"])]))
        s.emit({"operators": rows}, lines=lines)
    return 0


def new_password(args: argparse.Namespace) -> tuple[str, bool]:
    """The password from stdin (``--password-stdin``, one line), or a random one; and whether
    it was generated (then it is printed, this once)."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    return secrets.token_urlsafe(GENERATED), True


async def reset_password(args: argparse.Namespace) -> int:
    """A new password for NAME; its web sessions end. Never in argv, never logged."""
    w = words(args)
    password, generated = new_password(args)
    fields = await hashed(password)
    async with session(args) as s:
        done = await change(s.ledger, "operator_password", args.name, {}, set_password, **fields)
        lines = [w["reset"].format(done["name"])]
        if generated:
            done["password"] = password
            lines.append(w["shown_once"].format(done["name"], password))
        s.emit(done, lines=lines)
    return 0


async def activity(args: argparse.Namespace) -> int:
    """Deactivate (its web sessions end; never the last active supervisor) or reactivate."""
    on = args.action == "activate"
    async with session(args) as s:
        done = await change(s.ledger, "operator_reactivate" if on else "operator_deactivate",
                            args.name, {"active": on}, set_active, active=on)
        s.emit(done, lines=[words(args)["activated" if on else "deactivated"].format(
            done["name"])])
    return 0


def register(subparsers: Subparsers) -> None:
    """Add `operator add | list | reset-password | deactivate | activate`."""
    group = subparsers.add_parser("operator", help="back-office operators of the web portal",
                                  description="Operators log in at /web/ops/.")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    common = [common_options()]
    p = sub.add_parser("add", parents=common, help="create an operator")
    p.add_argument("--name", required=True, help="login name (no spaces)")
    p.add_argument("--role", required=True, choices=ROLES,
                   help="clerk: counter; hotline: look-ups; supervisor: everything")
    p.add_argument("--password", default="-",
                   help="at least 10 characters; '-' (default) prompts without echo")
    p.set_defaults(func=add)
    p = sub.add_parser("list", parents=common, help="every operator, active or not")
    p.set_defaults(func=list_)
    p = sub.add_parser("reset-password", parents=common,
                       help="a new password (printed once); the operator's web sessions end",
                       description="A random password is printed this once; with "
                                   "--password-stdin the first line of stdin is taken.")
    p.add_argument("name", metavar="NAME", help="login name")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the new password (at least 10 characters) from stdin")
    p.set_defaults(func=reset_password)
    for action, text in (("deactivate", "refuse its logins and end its web sessions"),
                         ("activate", "let a deactivated operator log in again")):
        p = sub.add_parser(action, parents=common, help=text)
        p.add_argument("name", metavar="NAME", help="login name")
        p.set_defaults(func=activity)
