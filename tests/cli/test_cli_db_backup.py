"""`smsmenu db backup`: the restore drill through the CLI, figures, refusals with clear errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cli_support import AGENT, CUSTOMER, LANDLINE, Cli, isolated

from ledger.store import migrations
from simulator.billing import BillingSimulator
from smsmenu.cli import common as cli_common


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    """An in-process CLI on a temp database; afterwards no password may appear in its output."""
    with isolated(tmp_path, monkeypatch) as clock:
        runner = Cli(tmp_path, capsys, clock)
        yield runner
        runner.assert_no_password()


@pytest.fixture
def boss(run: Cli, monkeypatch: pytest.MonkeyPatch) -> BillingSimulator:
    """One simulated BOSS shared by every invocation (before and after the restore)."""
    sim = BillingSimulator(clock=run.clock)
    monkeypatch.setattr(cli_common, "make_billing", lambda args, settings, clock: sim)
    return sim


def test_restore_drill_backup_then_verify_and_reconcile_on_the_copy(
        run: Cli, boss: BillingSimulator, tmp_path: Path) -> None:
    """Deposits and recharges, `db backup`; pointed at the copy, `ledger verify` and `ledger
    reconcile` are clean and the agent's money and records are the same."""
    run.agent("1000")
    run.ok("agent", "deposit", "--msisdn", AGENT, "--amount", "500")
    assert run.recharge("100").code == 0
    assert run.recharge("50", "landline", LANDLINE).code == 0
    boss.fail_next(1)
    assert run.recharge("30").code != 0
    day = run.clock.now().date().isoformat()
    shown = run.ok("agent", "show", "--msisdn", AGENT, "--json").json
    records = run.ok("records", "--msisdn", AGENT, "--json").json
    target = str(tmp_path / "backups" / "drill.db")
    (tmp_path / "backups").mkdir()
    made = run.ok("db", "backup", target, "--json").json
    assert (made["db"], made["target"], made["integrity"]) == (run.db, target, "ok")
    run.db = target  # the restore: the server pointed at the copy ([ledger] db)
    assert run.ok("ledger", "verify", "--json").json["ok"] is True
    report = run.ok("ledger", "reconcile", "--date", day, "--json").json
    assert report["mismatches"] == [] and report["posted_fen"] == 15_000
    assert run.ok("agent", "show", "--msisdn", AGENT, "--json").json == shown
    assert run.ok("records", "--msisdn", AGENT, "--json").json == records
    assert run.recharge("20", "mobile", CUSTOMER).code == 0


def test_json_and_human_output(run: Cli, tmp_path: Path) -> None:
    """``--json``: every figure; the human lines in English and Chinese."""
    run.agent()
    made = run.ok("db", "backup", str(tmp_path / "a.db"), "--json").json
    assert set(made) == {"db", "target", "pages", "page_size", "bytes", "seconds",
                         "schema_version", "integrity"}
    assert made["schema_version"] == migrations.latest()
    assert made["bytes"] == made["pages"] * made["page_size"] == (tmp_path / "a.db").stat().st_size
    assert isinstance(made["seconds"], float)
    en = run.ok("db", "backup", str(tmp_path / "b.db"), "--lang", "en").out.splitlines()
    assert en[0] == f"backed up {run.db} → {tmp_path / 'b.db'}"
    assert en[1].startswith("  ") and " pages of " in en[1] and en[1].endswith(" s")
    assert en[2] == f"  database schema v{migrations.latest()}, integrity check: ok"
    zh = run.ok("db", "backup", str(tmp_path / "c.db")).out
    assert zh.startswith(f"已备份 {run.db} → ") and "完整性检查：ok" in zh


def test_an_existing_target_is_refused_unless_force(run: Cli, tmp_path: Path) -> None:
    """Exit 4 naming the file and --force, the file untouched; with --force it is replaced."""
    run.agent()
    target = tmp_path / "keep.db"
    target.write_bytes(b"keep me")
    refused = run("db", "backup", str(target), "--lang", "en")
    assert refused.code == 4 and refused.out == ""
    assert refused.err == f"error: {target} exists: give another path, or --force to replace it\n"
    assert run("db", "backup", str(target), "--json").json["error"]["code"] == "E_BACKUP_EXISTS"
    assert target.read_bytes() == b"keep me"
    assert run.ok("db", "backup", str(target), "--force", "--json").json["integrity"] == "ok"
    assert target.read_bytes().startswith(b"SQLite format 3\0")


def test_an_unwritable_target_is_a_clear_error(run: Cli, tmp_path: Path) -> None:
    """A target in a missing directory: exit 78, one line naming it, no traceback."""
    run.agent()
    target = tmp_path / "no-such-dir" / "b.db"
    refused = run("db", "backup", str(target), "--lang", "en")
    assert refused.code == 78
    assert refused.err.startswith(f"error: cannot write the backup at {target}: ")
    assert "Traceback" not in refused.err and len(refused.err.splitlines()) == 1
    data = run("db", "backup", str(target), "--json").json["error"]
    assert (data["code"], data["path"]) == ("E_BACKUP_TARGET", str(target))


def test_a_missing_database_is_a_clear_error_and_stays_missing(run: Cli, tmp_path: Path) -> None:
    """No database at --db: exit 78 saying so; neither the database nor the target is created."""
    refused = run("db", "backup", str(tmp_path / "b.db"), "--lang", "en")
    assert (refused.code, refused.err) == (78, f"error: no database at {run.db}: nothing to "
                                               "back up\n")
    assert run("db", "backup", str(tmp_path / "b.db"), "--json").json["error"]["code"] == (
        "E_NO_DATABASE")
    assert not Path(run.db).exists() and not (tmp_path / "b.db").exists()


def test_a_postgresql_database_points_to_pg_dump(run: Cli, tmp_path: Path) -> None:
    """A PostgreSQL URL: exit 78 naming pg_dump -Fc, nothing written."""
    run.db = "postgresql://smsmenu@db.example:5432/smsmenu"
    refused = run("db", "backup", str(tmp_path / "b.db"), "--lang", "en")
    assert refused.code == 78 and "pg_dump -Fc" in refused.err
    assert not (tmp_path / "b.db").exists()
