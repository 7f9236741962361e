"""`smsmenu ledger verify | recover | pending | cancel | reconcile`: the ledger's night shift."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt

from smsmenu.cli import output as cli_output
from smsmenu.cli.common import Subparsers, common_options, recharge_ref, session
from smsmenu.core.clock import from_iso
from smsmenu.core.errors import BillingError, InvalidCommand

BREACH_EXIT = 1
MISMATCH_EXIT = 1


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
        s.need_billing()
        counts = await s.ledger.recover(dt.timedelta(seconds=args.older_than))
        s.emit(counts, "recover")
    return BillingError.exit_code if counts.get("kept") else 0


async def pending(args: argparse.Namespace) -> int:
    """Every reservation BOSS has not confirmed: its age and BOSS's last answer."""
    async with session(args) as s:
        now = s.ledger.now()
        items = await s.ledger.pending()
        rows = [{**dataclasses.asdict(u), "age_s": int((now - from_iso(u.reserved_at))
                                                       .total_seconds())} for u in items]
        lines = [f"{cli_output.title(s.lang, 'pending')} ({len(rows)})"]
        lines += [f"  {r['op']} #{r['id']}  {r['reference']}  "
                  f"{cli_output.value_text('amount_fen', r['amount'], s.lang, s.tz)}  "
                  f"{r['age_s']} s  {cli_output.value_text('failure', r['answer'], s.lang, s.tz)}"
                  f"  x{r['tries']}" for r in rows]
        s.emit({"pending": rows}, lines=lines)
    return 0


async def cancel(args: argparse.Namespace) -> int:
    """Close a pending recharge at BOSS: posted if BOSS had applied it, else voided."""
    if not args.operator.strip():
        raise InvalidCommand(why="--operator names who cancels")
    async with session(args) as s:
        s.need_billing()
        done = await s.ledger.cancel(args.recharge, operator=args.operator)
        s.emit(done, {"succeeded": "recharge_ok", "pending": "recharge_pending"}.get(
            done.status, "recharge_failed"))
    return 0


async def reconcile(args: argparse.Namespace) -> int:
    """One business day, our recharges against BOSS's credits; exit 1 on any mismatch."""
    async with session(args) as s:
        s.need_billing()
        day = args.date or s.ledger.env.local(s.ledger.now()).date() - dt.timedelta(days=1)
        report = await s.ledger.reconcile(day)
        data = {"date": day.isoformat(), "ok": report.clean, "references": report.references,
                "posted_fen": report.posted_fen, "credited_fen": report.credited_fen,
                "mismatches": [{**dataclasses.asdict(line), "kind": str(line.kind)}
                               for line in report.lines]}
        def money(fen: int | None) -> str:
            return cli_output.value_text("amount_fen", fen, s.lang, s.tz)
        heading = cli_output.title(s.lang, "reconcile_ok" if report.clean else "reconcile_mismatch")
        lines = [f"{heading} {day.isoformat()}: {report.references} references, "
                 f"ours {money(report.posted_fen)}, BOSS {money(report.credited_fen)}"]
        lines += [f"  {line.kind:<20} {line.reference}  recharge #{line.recharge_id or '-'}  "
                  f"ours {money(line.ours_fen)}  BOSS {money(line.boss_fen)}"
                  for line in report.lines]
        s.emit(data, lines=lines)
    return 0 if report.clean else MISMATCH_EXIT


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
    p = sub.add_parser("pending", parents=common, help="reservations BOSS has not confirmed",
                       description="Every unresolved recharge or reversal: its age and the last "
                                   "answer from BOSS (alert on smsmenu_ledger_oldest_pending_"
                                   "seconds).")
    p.set_defaults(func=pending)
    p = sub.add_parser("cancel", parents=common, help="cancel a pending recharge at BOSS",
                       description="Ask BOSS to cancel the recharge's reference: posted if BOSS "
                                   "had applied it, voided once BOSS confirms the cancel.")
    p.add_argument("--recharge", type=recharge_ref, required=True, metavar="ID")
    p.add_argument("--operator", required=True, metavar="NAME", help="who cancels (logged)")
    p.set_defaults(func=cancel)
    p = sub.add_parser("reconcile", parents=common, help="compare a day with BOSS (exit 1 on a "
                       "mismatch)", description="Our recharge attempts of a business day against"
                       " BOSS's credits of that day: credited but not posted, posted but unknown"
                       " at BOSS, amounts that differ, still pending.")
    p.add_argument("--date", type=dt.date.fromisoformat, metavar="YYYY-MM-DD",
                   help="business day in [ledger] timezone (default: yesterday)")
    p.set_defaults(func=reconcile)
