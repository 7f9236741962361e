"""`smsmenu recharge | retry | records | failed`: recharging customers and looking recharges up."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from ledger.api import Channel, RechargeRequest, RechargeResult
from smsmenu.cli import output as cli_output
from smsmenu.cli.common import (
    KEY_HELP,
    PASSWORD_HELP,
    Session,
    Subparsers,
    common_options,
    new_key,
    recharge_ref,
    secret,
    session,
    yuan,
)
from smsmenu.core.errors import BillingError, InvalidCommand
from smsmenu.core.types import TargetKind

FAILED_EXIT = BillingError.exit_code
"""Exit code of a recharge that billing did not complete (nothing was charged)."""


def _done(s: Session, result: RechargeResult) -> int:
    """Print a finished recharge; non-zero when it failed or awaits billing (never "failed"
    for one BOSS may still apply: it stays pending and the agent gets the result by SMS)."""
    status = result.status
    s.emit(result, {"succeeded": "recharge_ok", "pending": "recharge_pending"}.get(
        status, "recharge_failed"))
    return 0 if status == "succeeded" else FAILED_EXIT


async def recharge(args: argparse.Namespace) -> int:
    """R-13..R-17: reserve, credit through billing, post or void; a repeated key pays once."""
    amount = yuan(args.amount, "R-13")
    tx = secret(args.tx_password, "transaction password")
    async with session(args) as s:
        s.need_billing()
        result = await s.ledger.recharge(RechargeRequest(
            key=new_key(args.key), msisdn=s.msisdn(args.msisdn), kind=TargetKind(args.kind),
            target=args.target, amount_fen=amount, tx_password=tx, notice_to=args.notice,
            channel=Channel.CLI))
        return _done(s, result)


async def retry(args: argparse.Namespace) -> int:
    """R-18: complete a failed recharge (never paying twice)."""
    tx = secret(args.tx_password, "transaction password")
    async with session(args) as s:
        s.need_billing()
        result = await s.ledger.retry(key=new_key(args.key), msisdn=s.msisdn(args.msisdn),
                                      recharge_id=args.recharge, tx_password=tx)
        return _done(s, result)


def day(text: str) -> dt.date:
    """An argparse type: a YYYY-MM-DD date."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def day_range(s: Session, start: dt.date | None,
              end: dt.date | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Business-local days, inclusive, as aware datetimes [start 00:00, end + 1 day 00:00)."""
    if start and end and start > end:
        raise InvalidCommand(why=f"--from {start} is after --to {end}")

    def midnight(d: dt.date) -> dt.datetime:
        return dt.datetime.combine(d, dt.time(), tzinfo=s.tz)
    return (midnight(start) if start else None,
            midnight(end + dt.timedelta(days=1)) if end else None)


async def records(args: argparse.Namespace) -> int:
    """R-21: the agent's recharges between two business days, newest first."""
    async with session(args) as s:
        msisdn = s.msisdn(args.msisdn)
        start, end = day_range(s, args.start, args.end)
        rows = await s.ledger.records(msisdn, start, end, limit=args.limit)
        _rows(s, "records", msisdn, [r.as_dict() for r in rows])
    return 0


async def failed(args: argparse.Namespace) -> int:
    """R-18: the agent's failed recharges, to retry."""
    async with session(args) as s:
        msisdn = s.msisdn(args.msisdn)
        rows = await s.ledger.failed(msisdn, limit=args.limit)
        _rows(s, "failed", msisdn, [r.as_dict() for r in rows])
    return 0


def _rows(s: Session, key: str, msisdn: str, rows: list[dict[str, Any]]) -> None:
    lines = cli_output.render_rows(cli_output.title(s.lang, key), rows, s.lang, s.tz)
    s.emit({"msisdn": msisdn, "count": len(rows), "recharges": rows}, lines=lines)


def register(subparsers: Subparsers) -> None:
    """Add `recharge`, `retry`, `records` and `failed`."""
    common = [common_options()]
    p = subparsers.add_parser("recharge", parents=common, help="recharge a customer (R-13..R-17)",
                              description="Recharge a customer from the agent's deposit.")
    p.add_argument("--msisdn", required=True, metavar="M", help="the agent's number")
    p.add_argument("--kind", required=True, choices=[k.value for k in TargetKind],
                   help="landline, phs and broadband numbers start with the area code (R-14)")
    p.add_argument("--target", required=True, metavar="T", help="the customer's number")
    p.add_argument("--amount", required=True, metavar="YUAN", help="10 to 1000, x10 (R-13)")
    p.add_argument("--tx-password", required=True, metavar="P",
                   help=f"the agent's transaction password, {PASSWORD_HELP}")
    p.add_argument("--notice", metavar="N",
                   help="landline/broadband: a mobile or PHS number for the customer SMS (R-17)")
    p.add_argument("--key", metavar="K", help=KEY_HELP)
    p.set_defaults(func=recharge)

    p = subparsers.add_parser("retry", parents=common, help="retry a failed recharge (R-18)",
                              description="Complete a failed recharge; never pays twice.")
    p.add_argument("--msisdn", required=True, metavar="M", help="the agent's number")
    p.add_argument("--recharge", required=True, type=recharge_ref, metavar="ID",
                   help="recharge id, or the reference the agent quotes")
    p.add_argument("--tx-password", required=True, metavar="P",
                   help=f"the agent's transaction password, {PASSWORD_HELP}")
    p.add_argument("--key", metavar="K", help=KEY_HELP)
    p.set_defaults(func=retry)

    p = subparsers.add_parser("records", parents=common, help="an agent's recharges (R-21)",
                              description="Recharges between two business days (inclusive).")
    p.add_argument("--msisdn", required=True, metavar="M", help="the agent's number")
    p.add_argument("--from", dest="start", type=day, metavar="YYYY-MM-DD", help="first day")
    p.add_argument("--to", dest="end", type=day, metavar="YYYY-MM-DD", help="last day")
    p.add_argument("--limit", type=int, default=100, metavar="N", help="at most N (default 100)")
    p.set_defaults(func=records)

    p = subparsers.add_parser("failed", parents=common, help="an agent's failed recharges (R-18)",
                              description="Failed recharges that `retry` can complete.")
    p.add_argument("--msisdn", required=True, metavar="M", help="the agent's number")
    p.add_argument("--limit", type=int, default=100, metavar="N", help="at most N (default 100)")
    p.set_defaults(func=failed)
