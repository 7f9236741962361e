"""What every CLI command shares: global options, settings, billing, the ledger session, output."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

from ledger import Ledger
from ledger.api import (
    AgentInfo,
    Closed,
    Deposit,
    MsisdnChange,
    PasswordChange,
    Recharge,
    RechargeResult,
    ReversalResult,
    as_dict,
)
from ledger.audit import Actor
from ledger.money import AmountFormatError, parse_rate, parse_yuan
from ledger.passwords import load_secret
from smsmenu.cli import output as cli_output
from smsmenu.core import refno
from smsmenu.core.clock import SystemClock
from smsmenu.core.errors import BillingUnavailable, InvalidCommand
from smsmenu.core.settings import ConfigError as ConfigError
from smsmenu.core.settings import Settings, load_settings
from smsmenu.core.types import Billing, BossCredit, Clock, CreditResult, Fen, TargetKind
from smsmenu.server import simulators
from smsmenu.server.billing import HttpBilling
from smsmenu.states.notices import SmsNotices

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What ``register(subparsers)`` receives: the top-level sub-command table."""
Command: TypeAlias = Callable[[argparse.Namespace], Awaitable[int]]
"""A command's ``func``: ``async (args) -> exit code`` (a plain ``(args) -> int`` works too)."""

Result: TypeAlias = (AgentInfo | Closed | Deposit | MsisdnChange | PasswordChange
                     | RechargeResult | ReversalResult | Recharge)
"""What ledger operations return; ``emit`` prints their JSON fields."""

PASSWORD_HELP = "6 digits; give '-' to type it at a prompt without echo"
KEY_HELP = "idempotency key: the same key repeats the first result (default: a new uuid4)"


def common_options() -> argparse.ArgumentParser:
    """The parent parser that gives every command the global options."""
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("global options")
    group.add_argument("--db", metavar="PATH|URL",
                       help="the database: a SQLite file (PATH or sqlite:///PATH) or PostgreSQL "
                            "(postgresql://USER@HOST:PORT/DB; password from PGPASSWORD or "
                            "~/.pgpass) (default: settings [ledger] db, or env SMSMENU_DB)")
    group.add_argument("--config", metavar="FILE", help="settings TOML overriding the defaults")
    group.add_argument("--json", action="store_true",
                       help="print one JSON object (amounts as integer fen in *_fen fields)")
    group.add_argument("--lang", choices=("zh", "en"), default="zh",
                       help="language of messages (default: zh)")
    group.add_argument("--billing-url", metavar="URL",
                       help="BOSS over HTTP (default: settings [billing] url)")
    group.add_argument("--billing-sim", action="store_true",
                       help="use an in-process billing simulator instead of HTTP (demos, tests)")
    return parser


def actor() -> Actor:
    """Who acts from the command line, as the audit log names it: ``cli:<OS user>``."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "?"
    return Actor(0, f"cli:{user}", "cli")


def new_key(value: str | None) -> str:
    return value or uuid.uuid4().hex


def secret(value: str, prompt: str) -> str:
    """A password argument; '-' reads it from the terminal without echo."""
    return getpass.getpass(f"{prompt}: ") if value == "-" else value


def yuan(text: str, rule: str) -> Fen:
    """Yuan text to fen; a malformed amount names ``rule``."""
    try:
        return parse_yuan(text)
    except AmountFormatError as exc:
        raise AmountFormatError(rule=rule, **exc.params) from None


def recharge_ref(text: str) -> int:
    """``--recharge``: the recharge id, or the 单号 an agent quotes (its check digits checked)."""
    found = refno.read(text)
    if found is None:
        raise argparse.ArgumentTypeError(f"not a recharge id or reference: {text!r}")
    return found


def load(args: argparse.Namespace) -> Settings:
    """Packaged defaults, then ``--config``, then the environment, then ``--db``."""
    try:
        settings = load_settings(args.config)
    except (OSError, ValueError) as exc:  # tomllib.TOMLDecodeError is a ValueError
        raise ConfigError(f"cannot read settings: {exc}") from None
    if args.db:
        settings = settings.replace("ledger", db=args.db)
    return settings


def make_clock(settings: Settings) -> Clock:
    return SystemClock(settings.ledger.timezone)


def make_billing(args: argparse.Namespace, settings: Settings, clock: Clock) -> Billing:
    """``--billing-sim``: an in-process simulator; otherwise HTTP at ``--billing-url`` or settings."""
    conf = settings.billing
    if args.billing_sim and args.billing_url:
        raise InvalidCommand(why="--billing-url and --billing-sim exclude each other")
    if args.billing_sim:
        return simulators.billing_simulator(clock=clock, latency=conf.sim_latency_s,
                                            failure_rate=conf.sim_failure_rate,
                                            timeout_rate=conf.sim_timeout_rate)
    url = args.billing_url or conf.url
    return HttpBilling(url, timeout=conf.timeout_s, ca_file=conf.ca_file) if url else NoBilling()


NO_BILLING = ("no BOSS configured: give --billing-url URL ([billing] url; with `make run`: "
              "http://127.0.0.1:8090), --config config/demo.toml, or --billing-sim")


class NoBilling:
    """``Billing`` for a CLI without ``[billing] url``: commands that need billing stop first
    (``Session.need_billing``: exit 78 saying how to name one); a call that slips through is
    certainly not applied (``BillingUnavailable``), so no money is ever held for it."""

    def _missing(self) -> BillingUnavailable:
        return BillingUnavailable()

    async def credit(self, kind: TargetKind, number: str, amount_fen: Fen,
                     reference: str) -> CreditResult:
        raise self._missing()

    async def reverse(self, original_reference: str, reference: str) -> CreditResult:
        raise self._missing()

    async def status(self, reference: str) -> CreditResult | None:
        raise self._missing()

    async def balance(self, kind: TargetKind, number: str) -> Fen:
        raise self._missing()

    async def cancel(self, reference: str) -> CreditResult:
        raise self._missing()

    async def credits(self, day: dt.date) -> list[BossCredit]:
        raise self._missing()


def emit(args: argparse.Namespace, data: Mapping[str, Any], lines: list[str]) -> None:
    """Exactly one JSON object with ``--json``, else the human lines."""
    if args.json:
        print(json.dumps(data, ensure_ascii=False, default=str))
    else:
        print("\n".join(lines))


@dataclass
class Session:
    """One command's ledger and what it needs to read its arguments and print its results."""

    args: argparse.Namespace
    settings: Settings
    ledger: Ledger

    @property
    def lang(self) -> str:
        return str(self.args.lang)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.ledger.timezone)

    def need_billing(self) -> None:
        """Stop with exit 78 before anything is reserved when no BOSS is configured."""
        if isinstance(self.ledger.billing, NoBilling):
            raise ConfigError(NO_BILLING)

    def msisdn(self, text: str) -> str:
        """An agent number normalised by the number plan (spaces, +86...)."""
        return self.ledger.env.plan.validate(TargetKind.MOBILE, text)

    def rate(self, text: str) -> int:
        """A fraction ("0.02") as ppm, within the configured maximum (R-16)."""
        return parse_rate(text, max_ppm=self.ledger.env.rules.max_rate_ppm)

    def emit(self, data: Mapping[str, Any] | Result, title_key: str = "",
             lines: list[str] | None = None) -> None:
        """Print a result (a ledger result as its JSON fields) with the title ``title_key``."""
        if not isinstance(data, Mapping):
            data = data.as_dict() if isinstance(data, Recharge) else as_dict(data)
        title = cli_output.title(self.lang, title_key) if title_key else ""
        emit(self.args, data,
             lines if lines is not None else cli_output.render(data, self.lang, self.tz, title))


@asynccontextmanager
async def session(args: argparse.Namespace) -> AsyncIterator[Session]:
    """Open the ledger for one command and close it (and the billing client) afterwards."""
    settings = load(args)
    clock = make_clock(settings)
    billing = make_billing(args, settings, clock)
    try:
        try:
            ledger = await Ledger.open(settings, billing, clock, notifier=SmsNotices(), secret=load_secret(
                settings.ledger.secret_file, os.environ.get("SMSMENU_SECRET")))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot open the ledger at {settings.ledger.db}: {exc}") from None
        async with ledger:
            yield Session(args, settings, ledger)
    finally:
        close = getattr(billing, "aclose", None)
        if close is not None:
            await close()
