"""`smsmenu audit verify`: recompute the audit log's hash chain and say where it breaks."""

from __future__ import annotations

import argparse

from ledger.store import web_audit
from smsmenu.cli import output as cli_output
from smsmenu.cli.common import Subparsers, common_options, session

BROKEN_EXIT = 1
"""The chain breaks: a ledger breach (the EPILOG's exit 1)."""


async def verify(args: argparse.Namespace) -> int:
    """Exit 0 with the row count and head hash when the chain holds; else exit 1 naming the
    first broken row and why."""
    async with session(args) as s:
        verdict = web_audit.check(await s.ledger.read(web_audit.chain()),
                                  await s.ledger.read(web_audit.head()))
        words = cli_output.words(s.lang, "audit")
        data = {"ok": verdict.ok, "rows": verdict.count, "head": verdict.head,
                "broken_id": verdict.broken_id, "why": verdict.why}
        if verdict.ok:
            s.emit(data, lines=[words["ok"].format(verdict.count, verdict.head or "-")])
            return 0
        s.emit(data, lines=[words["broken"].format(verdict.broken_id,
                                                   words[f"why_{verdict.why}"], verdict.count)])
    return BROKEN_EXIT


def register(subparsers: Subparsers) -> None:
    """Add `audit verify`."""
    p = subparsers.add_parser("audit", help="the operators' audit log",
                              description="The back office's audit log (append-only, "
                                          "hash-chained).")
    commands = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    v = commands.add_parser("verify", parents=[common_options()],
                            help="check the hash chain (exit 1 naming the first broken row)",
                            description="Recompute every row's hash from its content and the "
                                        "row before it; compare the last with the chain head.")
    v.set_defaults(func=verify)
