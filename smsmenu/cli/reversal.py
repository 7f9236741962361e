"""`smsmenu reversal | invoice`: undoing an agent's mistake (R-23..R-25) and the invoice flag."""

from __future__ import annotations

import argparse
import getpass

from smsmenu.cli import output as cli_output
from smsmenu.cli.common import (
    KEY_HELP,
    Session,
    Subparsers,
    actor,
    common_options,
    new_key,
    recharge_ref,
    session,
)
from smsmenu.core.errors import BillingError, Refused, ReversalRefused

STATE = {True: "OK", False: "FAIL", None: "?"}


def default_operator() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "cli"


async def reversal(args: argparse.Namespace) -> int:
    """Reverse a recharge when every R-23..R-25 check passes; `--check` only reports them."""
    async with session(args) as s:
        s.need_billing()
        if args.check:
            return await _checks(s, args.recharge)
        result = await s.ledger.reverse(key=new_key(args.key), recharge_id=args.recharge,
                                        operator=args.operator or default_operator())
        ok = result.status == "succeeded"
        s.emit(result, "reversal_ok" if ok else "reversal_failed")
        return 0 if ok else BillingError.exit_code


async def _checks(s: Session, recharge_id: int) -> int:
    """Each check with its rule and pass (OK), refusal (FAIL) or unknown (?); exit 5 on a FAIL."""
    found = await s.ledger.reversal_checks(recharge_id)
    checks = []
    lines = [f"{cli_output.title(s.lang, 'checks')} #{recharge_id}"]
    for name, passed in found:
        rule = ReversalRefused.checks[name].rule
        reason = ReversalRefused.describe(name, False, s.lang)
        checks.append({"check": name, "rule": rule, "passed": passed, "refusal": reason})
        lines.append(f"  {STATE[passed]:<4} {rule:<5} {name}" + ("" if passed else f": {reason}"))
    ok = all(passed is not False for _, passed in found)
    s.emit({"recharge_id": recharge_id, "ok": ok, "checks": checks}, lines=lines)
    return 0 if ok else Refused.exit_code


async def invoice(args: argparse.Namespace) -> int:
    """R-25: the customer took an invoice for this recharge; it can no longer be reversed."""
    async with session(args) as s:
        s.emit(await s.ledger.mark_invoice(args.recharge, actor=actor()), "invoice")
    return 0


def register(subparsers: Subparsers) -> None:
    """Add `reversal` and `invoice`."""
    common = [common_options()]
    p = subparsers.add_parser(
        "reversal", parents=common, help="reverse a recharge (R-23..R-25)",
        description="Reverse (返销) a recharge; every refusal names its rule. With --check, "
                    "list the checks without reversing (exit 5 when one refuses).")
    p.add_argument("--recharge", required=True, type=recharge_ref, metavar="ID",
                   help="recharge id, or the reference the agent quotes")
    p.add_argument("--operator", metavar="NAME", help="who reverses (default: the OS user)")
    p.add_argument("--check", action="store_true", help="only print each check, pass or fail")
    p.add_argument("--key", metavar="K", help=KEY_HELP)
    p.set_defaults(func=reversal)

    p = subparsers.add_parser("invoice", parents=common, help="mark a recharge invoiced (R-25)",
                              description="Record that the customer took an invoice for it.")
    p.add_argument("--recharge", required=True, type=recharge_ref, metavar="ID",
                   help="recharge id, or the reference the agent quotes")
    p.set_defaults(func=invoice)
