"""`smsmenu operator add`: the first back-office operator, without a web page."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cli_support import Cli, isolated

OPERATOR_PASSWORD = "counter-7731"


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    with isolated(tmp_path, monkeypatch) as clock:
        yield Cli(tmp_path, capsys, clock)


def test_operator_add_stores_a_hash_and_never_prints_the_password(run: Cli) -> None:
    """The operator is created with its role; the password is in no output and not in clear."""
    done = run.ok("operator", "add", "--name", "li", "--role", "clerk", "--password",
                  OPERATOR_PASSWORD, "--json")
    assert done.json == {"name": "li", "role": "clerk"}
    assert OPERATOR_PASSWORD not in done.out + done.err
    with sqlite3.connect(run.db) as db:
        rows = db.execute("SELECT name, role FROM web_operators").fetchall()
    assert rows == [("li", "clerk")]
    assert OPERATOR_PASSWORD.encode() not in Path(run.db).read_bytes()


@pytest.mark.parametrize(("argv", "code"), [
    pytest.param(("--role", "clerk", "--password", "short"), 2, id="password-too-short"),
    pytest.param(("--role", "boss", "--password", OPERATOR_PASSWORD), 2, id="unknown-role"),
])
def test_operator_add_refuses_bad_input(run: Cli, argv: tuple[str, ...], code: int) -> None:
    """A short password or an unknown role is refused with a usage or input error."""
    assert run("operator", "add", "--name", "li", *argv).code == code
