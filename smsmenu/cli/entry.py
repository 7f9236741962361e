"""The operator CLI, `smsmenu <command>`: a parser built from the command modules listed below."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import json
import sqlite3
import sys
from typing import Any, NoReturn

import psycopg

from smsmenu.cli.common import ConfigError
from smsmenu.core import logs
from smsmenu.core.errors import SmsmenuError, StorageError

COMMAND_MODULES: list[str] = [
    "smsmenu.cli.agent",
    "smsmenu.cli.recharge",
    "smsmenu.cli.reversal",
    "smsmenu.cli.ledger",
    "smsmenu.cli.serve",
    "smsmenu.cli.smsc",
    "smsmenu.cli.ismg",
    "smsmenu.cli.billing",
    "smsmenu.cli.phone",
    "smsmenu.cli.load",
    "smsmenu.cli.operator",
    "smsmenu.cli.audit",
    "smsmenu.cli.db",
    "smsmenu.cli.card",
]
"""Modules whose ``register(subparsers)`` adds commands; adding a command module is one string."""

EXIT_INTERNAL = 70
"""An unexpected exception (EX_SOFTWARE); domain errors use their own ``exit_code``."""

EPILOG = """\
Every command takes the global options --db, --config, --json, --lang, --billing-url and
--billing-sim. A password given as '-' is read at a prompt without echo; passwords are never
printed. Amounts are yuan on the command line and integer fen in --json output (*_fen fields).
Exit codes: 0 ok, 1 ledger breach or storage error, 2 bad input, 3 not found, 4 conflict,
5 refused by a rule, 6 billing did not complete, 70 internal error, 78 configuration error."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors mask 6-digit runs (a mistyped password option)."""

    def error(self, message: str) -> NoReturn:
        super().error(logs.SIX_DIGITS.sub(logs.MASK, message))


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every command of ``COMMAND_MODULES``."""
    parser = Parser(
        prog="smsmenu", description="Air-recharge (空中充值) platform: operator's tools.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the command, return its exit code."""
    logs.configure(level="warning")
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    return run(args)


def run(args: argparse.Namespace) -> int:
    """Run ``args.func`` (async or not); map every failure to one message and an exit code."""
    lang = getattr(args, "lang", "zh")
    try:
        result = args.func(args)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
        return int(result)
    except SmsmenuError as exc:
        return fail(args, exc.as_dict(lang), exc.message(lang, rule=True), exc.exit_code)
    except (sqlite3.Error, psycopg.Error) as exc:  # libpq's messages never hold a password
        error = StorageError()
        detail = logs.SIX_DIGITS.sub(logs.MASK, str(exc).strip())
        return fail(args, {**error.as_dict(lang), "detail": detail},
                    f"{error.message(lang, rule=True)}: {detail}", error.exit_code)
    except ConfigError as exc:
        return fail(args, {"code": "E_CONFIG", "rule": "", "message": str(exc)}, str(exc),
                    ConfigError.exit_code)
    except KeyboardInterrupt:
        return fail(args, {"code": "E_INTERRUPTED", "rule": "", "message": "interrupted"},
                    "interrupted", 130)
    except Exception as exc:  # never a traceback; never a password (masked like the logs)
        text = logs.SIX_DIGITS.sub(logs.MASK, f"internal error: {type(exc).__name__}: {exc}")
        return fail(args, {"code": "E_INTERNAL", "rule": "", "message": text}, text,
                    EXIT_INTERNAL)


def fail(args: argparse.Namespace, data: dict[str, Any], message: str, code: int) -> int:
    """``--json``: ``{"error": ...}`` on stdout; otherwise ``error: <message>`` on stderr."""
    if getattr(args, "json", False):
        print(json.dumps({"error": data}, ensure_ascii=False))
    else:
        print(f"error: {message}", file=sys.stderr)
    return code
