"""`smsmenu ledger verify | recover`: prove the ledger's invariants; resolve pending reservations."""

from __future__ import annotations

import argparse
import datetime as dt

from smsmenu import cli_output
from smsmenu.cli_common import Subparsers, common_options, session
from smsmenu.errors import BillingError

BREACH_EXIT = 1


async def verify(args: argparse.Namespace) -> int:
    """Every invariant with OK or BREACH and each breach line; exit 1 on any breach."""
    async with session(args) as s:
        found = await s.ledger.verify()
        ok = not any(found.values())
        lines = [cli_output.title(s.lang, "verify_ok" if ok else "verify_breach")]
        for name, breaches in found.items():
            lines.append(f"  {'BREACH' if breaches else 'OK':<6} {name}")
            lines.extend(f"         {line}" for line in breaches)
        s.emit({"ok": ok, "invariants": found}, lines=lines)
    return 0 if ok else BREACH_EXIT


async def recover(args: argparse.Namespace) -> int:
    """Ask billing about every reservation left pending, then post or void it.

    Exit 6 when billing could not be reached for some (they stay pending, ``kept``).
    """
    async with session(args) as s:
        counts = await s.ledger.recover(dt.timedelta(seconds=args.older_than))
        s.emit(counts, "recover")
    return BillingError.exit_code if counts.get("kept") else 0


def register(subparsers: Subparsers) -> None:
    """Add `ledger verify` and `ledger recover`."""
    group = subparsers.add_parser("ledger", help="check and repair the ledger",
                                  description="The embedded double-entry ledger.")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    common = [common_options()]
    p = sub.add_parser("verify", parents=common, help="prove the invariants (exit 1 on a breach)",
                       description="Check every ledger invariant on the database; list breaches.")
    p.set_defaults(func=verify)
    p = sub.add_parser("recover", parents=common, help="resolve pending reservations via billing",
                       description="Ask billing about each pending recharge or reversal and "
                                   "post or void it (what start-up does after a crash).")
    p.add_argument("--older-than", type=float, default=0.0, metavar="SECONDS",
                   help="only reservations at least this old (default 0: all)")
    p.set_defaults(func=recover)
