"""Helpers shared by the CLI tests (no tests here): an in-process runner on a temp database."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import structlog

from smsmenu.cli import common as cli_common
from smsmenu.cli.entry import main
from smsmenu.core.clock import ManualClock

AGENT = "18912345678"
TX = "372915"
MGMT = "804613"
NEW_TX = "580247"
WRONG = "919191"
SECRETS = (TX, MGMT, NEW_TX, WRONG)
"""Every password the tests type; none may ever appear in any output."""
CUSTOMER = "18900001111"
LANDLINE = "02787654321"
SECRET_HEX = "ab" * 32


@dataclass
class Run:
    """One CLI invocation's exit code and output."""

    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)


class Cli:
    """Runs ``main([...])`` on the test's database with the billing simulator; keeps a transcript."""

    def __init__(self, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                 clock: ManualClock) -> None:
        self.db = str(tmp_path / "cli.db")
        self.capsys = capsys
        self.clock = clock
        self.transcript: list[str] = []

    def __call__(self, *argv: str, sim: bool = True, db: bool = True) -> Run:
        args = list(argv) + (["--db", self.db] if db else []) + (["--billing-sim"] if sim else [])
        code = main(args)
        captured = self.capsys.readouterr()
        self.transcript += [captured.out, captured.err]
        return Run(code, captured.out, captured.err)

    def ok(self, *argv: str, **kw: bool) -> Run:
        run = self(*argv, **kw)
        assert run.code == 0, (run.out, run.err)
        return run

    def agent(self, deposit: str | None = "1000") -> None:
        """An open agent (passwords TX and MGMT), with a counter deposit unless None."""
        self.ok("agent", "open", "--msisdn", AGENT, "--name", "小王", "--tx-password", TX,
                "--mgmt-password", MGMT)
        if deposit:
            self.ok("agent", "deposit", "--msisdn", AGENT, "--amount", deposit)

    def recharge(self, amount: str = "100", kind: str = "mobile", target: str = CUSTOMER,
                 *extra: str, **kw: bool) -> Run:
        return self("recharge", "--msisdn", AGENT, "--kind", kind, "--target", target,
                    "--amount", amount, "--tx-password", TX, *extra, **kw)

    def assert_no_password(self) -> None:
        text = "".join(self.transcript)
        for password in SECRETS:
            assert password not in text


@contextmanager
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ManualClock]:
    """No SMSMENU_* from outside, a secret in the environment, a manual clock; logging restored."""
    import os
    for name in list(os.environ):
        if name.startswith("SMSMENU_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SMSMENU_SECRET", SECRET_HEX)
    monkeypatch.setenv("SMSMENU_LEDGER_SYNCHRONOUS", "OFF")
    monkeypatch.chdir(tmp_path)
    clock = ManualClock("2026-11-10T10:00:00")
    monkeypatch.setattr(cli_common, "make_clock", lambda settings: clock)
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield clock
    finally:
        structlog.configure(**saved)
        root.handlers[:] = handlers
        root.setLevel(level)


def amount_keys(data: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every (key path, value) in a JSON tree whose key names an amount of money."""
    words = ("amount", "balance", "commission", "charge", "refund", "quota", "reserved",
             "available")
    found: list[tuple[str, Any]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if set(key.split("_")) & set(words):
                found.append((f"{path}.{key}", value))
            found += amount_keys(value, f"{path}.{key}")
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += amount_keys(value, f"{path}[{i}]")
    return found
