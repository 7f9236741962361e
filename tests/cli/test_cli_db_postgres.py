"""The CLI and a PostgreSQL URL: SMSMENU_DB or --db picks the engine; a password in the URL is
refused (exit 78) and never printed; `db version` reads a PostgreSQL database's versions."""

from __future__ import annotations

import json

import pytest
from pg import Cluster

from ledger.store import migrations
from smsmenu.cli import entry as cli


@pytest.mark.parametrize("how", ["flag", "env"])
def test_a_password_in_the_url_is_refused_and_never_printed(
        how: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """--db or SMSMENU_DB with user:password@: exit 78, the message says PGPASSWORD, no secret."""
    url = "postgresql://sms:Secret-Pw-42@127.0.0.1:1/smsmenu"
    argv = ["db", "version"]
    if how == "flag":
        argv += ["--db", url]
    else:
        monkeypatch.setenv("SMSMENU_DB", url)
    assert cli.main(argv) == 78
    out, err = capsys.readouterr()
    assert "PGPASSWORD" in err and "Secret-Pw-42" not in out + err


def test_db_version_on_postgres(pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`db version --db postgresql://...` of a migrated database: current, nothing pending."""
    assert cli.main(["db", "version", "--json", "--db", pg_url]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["version"] == data["latest"] == migrations.latest()
    assert data["pending"] == [] and len(data["history"]) == migrations.latest()


def test_an_unreachable_server_is_a_storage_error(pg_cluster: Cluster,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing listens at the URL: exit 1 with E_STORAGE and libpq's reason, no traceback."""
    url = f"postgresql://postgres@127.0.0.1:{pg_cluster.port}/no_such_database"
    assert cli.main(["db", "version", "--db", url]) == 1
    err = capsys.readouterr().err
    assert "no_such_database" in err and "Traceback" not in err
