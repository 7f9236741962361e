"""`smsmenu card push-menu`: an over-the-air menu update to an agent's 空中充值 card, via the outbox."""

from __future__ import annotations

import argparse
import asyncio
import tomllib
from dataclasses import asdict
from pathlib import Path

from smsmenu.card.push import push_menu
from smsmenu.cli.common import ConfigError, Subparsers, common_options, session
from smsmenu.core import ota
from smsmenu.core.errors import InvalidCommand


def read_patch(path: str) -> str:
    """The menu patch's text, once it reads as TOML (the card checks the rest)."""
    try:
        patch = Path(path).read_text("utf-8")
        tomllib.loads(patch)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the menu patch {path}: {exc}") from None
    return patch


async def push(args: argparse.Namespace) -> int:
    """Queue the signed update; the running server's outbox drain sends it to the card's number."""
    patch = await asyncio.to_thread(read_patch, args.menu)
    async with session(args) as s:
        try:
            msisdn = s.msisdn(args.msisdn)
            done = await s.ledger.transaction(lambda conn, env, now: push_menu(
                conn, env, now, msisdn=msisdn, card=args.card, patch=patch))
        except ota.TooLong as exc:
            raise InvalidCommand(why=str(exc)) from None
        s.emit(asdict(done), "menu_pushed")
    return 0


def register(subparsers: Subparsers) -> None:
    """Add `card push-menu`."""
    p = subparsers.add_parser("card", help="the agents' air-recharge UTK cards (over-the-air updates)")
    sub = p.add_subparsers(dest="card_command", metavar="ACTION", required=True)
    q = sub.add_parser(
        "push-menu", parents=[common_options()], help="send a menu update to an agent's card",
        description="Sign a menu patch (TOML laid over the card's menu, e.g. a renamed or new "
                    "item; see config/card/zh.toml) with the card's own key (derived from the "
                    "server's secret: run this on the server box) under the card's next "
                    "counter, and queue it to the card's number: the running server sends it "
                    "as an SMS-PP data download (TS 102 225). The card refuses a replayed or "
                    "forged update.")
    q.add_argument("--msisdn", required=True, metavar="NUMBER", help="the agent's number")
    q.add_argument("--card", metavar="ID",
                   help="the card's id (default: the card that last sent a command from it)")
    q.add_argument("--menu", required=True, metavar="FILE", help="the menu patch (TOML)")
    q.set_defaults(func=push)
