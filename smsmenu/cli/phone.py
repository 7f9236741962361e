"""`smsmenu phone`: the terminal SIM phone (Textual), or a transcript played headless (--script)."""

from __future__ import annotations

import argparse
import re

import aiohttp

from smsmenu.cli.common import ConfigError, Subparsers
from smsmenu.core.health import WAIT_S, NotReady, wait_healthy
from smsmenu.core.settings import Settings, load_settings
from smsmenu.core.tokens import client_token
from smsmenu.server import simulators

DEMO_AGENT = "18900000001"
"""The number ``smsmenu serve`` gives its demo agent on an empty database."""


def _settings(config: str | None) -> tuple[Settings, Settings]:
    try:
        return load_settings(config), load_settings(config, demo=True)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read settings: {exc}") from None


def _defaults(config: str | None, via: str) -> tuple[str, str, str]:
    """The server's URL, the billing simulator's and the token for ``via``, from the settings
    (demo mode's where these have none: ``make phone`` after ``make run``)."""
    settings, demo = _settings(config)
    return (f"http://{settings.http.host}:{settings.http.port}",
            settings.billing.url or demo.billing.url, client_token(settings, via))


def _card(args: argparse.Namespace) -> simulators.PhoneCard | None:
    """Card mode's options, or None without ``--card``."""
    if not args.card:
        return None
    if args.card_key and not re.fullmatch(r"[0-9A-Fa-f]{32}", args.card_key):
        raise ConfigError("--card-key wants 32 hex digits (a 16-byte key)")
    return simulators.PhoneCard(args.card_dir or None, args.card_lang, args.card_key,
                                _settings(args.config)[0], args.hex)


async def _probe(args: argparse.Namespace, server: str) -> str | None:
    """Why the server (or its SMSC control API) cannot be used; None when it is ready.

    First the server's ``/healthz`` must answer 200 (waiting up to ``--wait`` s, saying so),
    then, for ``--via smsc``, the SMSC simulator's handset API must answer.
    """
    try:
        await wait_healthy(server, wait=args.wait, say=print)
    except NotReady as exc:
        return str(exc)
    if args.via != "smsc":
        return None
    url = f"{args.smsc_control or server + '/smsc'}/handsets/{args.msisdn}/inbox?timeout=0"
    headers = {"Authorization": f"Bearer {args.token}"}
    try:
        async with aiohttp.ClientSession() as http, \
                http.get(url, timeout=aiohttp.ClientTimeout(total=5), headers=headers) as resp:
            if resp.status == 200:
                return None
            if resp.status == 401:
                return (f"{url} answered 401: give the SMSC simulator's token with --token "
                        f"([smpp] simulator_token; `make run` prints it)")
            return f"{url} answered {resp.status} (is the SMSC simulator served? try --via http)"
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        return f"cannot reach {url}: {exc or type(exc).__name__} (is `smsmenu serve` running?)"


async def phone(args: argparse.Namespace) -> int:
    """Interactive phone, or ``--script``: exit 0 when the transcript matched, 1 on a mismatch."""
    server, billing_url, token = _defaults(args.config, args.via)
    server = (args.server or server).rstrip("/")
    args.token = args.token or token
    problem = await _probe(args, server)
    if problem:
        print(f"error: {problem}")
        return 2
    return await simulators.phone(
        via=args.via, server=server, control=args.smsc_control, token=args.token,
        msisdn=args.msisdn, script=args.script, reply_wait=args.timeout,
        billing_url=args.billing_url or billing_url, record=args.record, card=_card(args))


def register(subparsers: Subparsers) -> None:
    """Add `phone`."""
    p = subparsers.add_parser(
        "phone", help="the terminal SIM phone for testers (or --script FILE, headless)",
        description="A handset on your terminal: the menu on its screen, a keypad, the SMS "
                    "inbox of the agent and of customer numbers. It talks to the running "
                    "server's SMSC simulator as a handset (--via smsc) or to POST /api/sms.")
    p.add_argument("--msisdn", default=DEMO_AGENT,
                   help=f"the agent's number (default: the demo agent {DEMO_AGENT})")
    p.add_argument("--via", choices=("smsc", "http"), default="smsc",
                   help="smsc: over SMPP through the SMSC simulator (default); http: /api/sms")
    p.add_argument("--server", metavar="URL",
                   help="the server (default: http://[http] host:port of the settings)")
    p.add_argument("--smsc-control", metavar="URL",
                   help="the SMSC simulator's handset API (default: SERVER/smsc)")
    p.add_argument("--token", metavar="TOKEN",
                   help="--via http: the [api] token; --via smsc: the SMSC simulator's token "
                        "([smpp] simulator_token) (default: the settings', else the ones "
                        "`make run` generated, beside [ledger] secret_file)")
    p.add_argument("--script", metavar="FILE",
                   help="play a transcript headless; print a diff and exit 1 on a mismatch")
    p.add_argument("--record", metavar="FILE",
                   help="write the interactive session as a transcript when the phone quits")
    p.add_argument("--billing-url", metavar="URL",
                   help="billing simulator for '! billing ...' directives (default: settings)")
    p.add_argument("--timeout", type=float, default=5.0, metavar="S",
                   help="seconds to wait for each expected reply in --script mode (default 5)")
    p.add_argument("--wait", type=float, default=WAIT_S, metavar="S",
                   help=f"seconds to wait for the server's /healthz to answer 200 (default "
                        f"{WAIT_S:g}); then exit 2")
    p.add_argument("--config", metavar="FILE", help="settings TOML (for the default addresses)")
    card = p.add_argument_group(
        "card mode", "The agent's handset holds the air-recharge UTK card: its menus run on the "
        "handset (keys: an item's number or the digits asked for, 'back' or Esc, 'exit' or "
        "F4), and it sends the server one command per operation (CZ*...#UTK<card>-<n>).")
    card.add_argument("--card", action="store_true", help="card mode")
    card.add_argument("--card-dir", default="var/cards", metavar="DIR",
                      help="where cards are kept between runs, card-<number>.json (default "
                           "var/cards; '' keeps none)")
    card.add_argument("--card-lang", choices=("zh", "en"), default="zh",
                      help="the menu language of a new card (default zh)")
    card.add_argument("--card-key", metavar="HEX",
                      help="a new card's OTA key (default: derived from the server's secret "
                           "when readable here, so `smsmenu card push-menu` can update it)")
    card.add_argument("--hex", action="store_true",
                      help="show every card exchange as hex (printed with --script; a pane, "
                           "F5, in the phone)")
    p.set_defaults(func=phone)
