"""`smsmenu db migrate | version`: versions printed, adoption of older databases, refusals."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cli_support import AGENT, CUSTOMER, Cli, isolated

from ledger.store import migrations

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "db_v1.sqlite3"
LATEST = migrations.latest()
NAMES = [m.name for m in migrations.load()]
FIXTURE_TX = "123456"
"""The fixture agent's transaction password (tests/fixtures/make_db.py)."""


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    """An in-process CLI on a temp database, with the secret the fixtures were made with."""
    with isolated(tmp_path, monkeypatch) as clock:
        monkeypatch.setenv("SMSMENU_SECRET", (b"k" * 32).hex())
        yield Cli(tmp_path, capsys, clock)


def v1(run: Cli) -> None:
    """Put a copy of the version-1 fixture (made at 57547df) where the CLI's --db points."""
    shutil.copyfile(FIXTURE, run.db)


def test_migrate_adopts_a_version_1_database_and_it_works(run: Cli) -> None:
    """From v1 (adopted) to the latest; then verify is clean and a recharge succeeds."""
    v1(run)
    done = run.ok("db", "migrate", "--json").json
    assert done == {"db": run.db, "from_version": 1, "to_version": LATEST, "latest": LATEST,
                    "adopted": True,
                    "applied": [{"version": i + 1, "name": n} for i, n in enumerate(NAMES)]}
    assert run.ok("ledger", "verify", "--json").json["ok"] is True
    paid = run.ok("recharge", "--msisdn", AGENT, "--kind", "mobile", "--target", CUSTOMER,
                  "--amount", "50", "--tx-password", FIXTURE_TX, "--json").json
    assert paid["status"] == "succeeded" and paid["recharge_id"] == 2


def test_migrate_prints_from_and_to(run: Cli) -> None:
    """Human output: the versions, the adoption, each migration; a second run: up to date."""
    v1(run)
    first = run.ok("db", "migrate", "--lang", "en")
    assert first.out.splitlines() == [
        f"database schema v1 → v{LATEST}",
        "  (a database from before versioned migrations, adopted as v1)",
        *(f"  applied {name}" for name in NAMES)]
    again = run.ok("db", "migrate", "--lang", "en", "--json").json
    assert (again["from_version"], again["to_version"], again["applied"]) == (LATEST, LATEST, [])
    assert run.ok("db", "migrate").out.strip() == f"数据库结构 v{LATEST}：已是最新"


def test_version_before_and_after(run: Cli) -> None:
    """``db version``: no database, then part way (--to), then the latest with its history."""
    none = run.ok("db", "version", "--json").json
    assert (none["exists"], none["version"], len(none["pending"])) == (False, 0, LATEST)
    run.ok("db", "migrate", "--to", "2")
    part = run.ok("db", "version", "--json").json
    assert (part["version"], part["latest"]) == (2, LATEST)
    assert [p["name"] for p in part["pending"]] == NAMES[2:]
    assert "pending (smsmenu db migrate)" in run.ok("db", "version", "--lang", "en").out
    run.ok("db", "migrate")
    full = run.ok("db", "version", "--json").json
    assert full["pending"] == [] and [h["how"] for h in full["history"]] == ["applied"] * LATEST


def test_version_of_a_database_from_before_versioning(run: Cli) -> None:
    """The v1 fixture reads as version 1, to be adopted; reading it changes nothing."""
    v1(run)
    before = FIXTURE.read_bytes()
    seen = run.ok("db", "version", "--json").json
    assert (seen["version"], seen["adopt"], seen["history"]) == (1, True, [])
    assert Path(run.db).read_bytes() == before


@pytest.mark.parametrize("argv", [
    pytest.param(("db", "migrate"), id="db-migrate"),
    pytest.param(("db", "version"), id="db-version"),
    pytest.param(("agent", "show", "--msisdn", AGENT), id="any-command"),
])
def test_a_newer_database_is_refused_with_exit_78(run: Cli, argv: tuple[str, ...]) -> None:
    """A schema newer than the code: exit 78 naming both versions, the database untouched."""
    run.ok("db", "migrate")
    with sqlite3.connect(run.db) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(LATEST + 3),))
    conn.close()
    refused = run(*argv, "--lang", "en")
    assert refused.code == 78, refused
    assert f"database schema v{LATEST + 3} is newer than this code (v{LATEST})" in refused.err
    assert run(*argv, "--json").json["error"]["code"] == "E_SCHEMA_NEWER"


@pytest.mark.parametrize("to", [pytest.param("0", id="zero"), pytest.param(str(LATEST + 1),
                                                                            id="unknown")])
def test_migrate_to_an_unknown_version_is_bad_input(run: Cli, to: str) -> None:
    """``--to`` outside 1..latest: exit 2, nothing created."""
    assert run("db", "migrate", "--to", to).code == 2
    assert not Path(run.db).exists()
