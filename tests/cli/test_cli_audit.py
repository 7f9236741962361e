"""`smsmenu audit verify`: the audit log's hash chain holds, and tampering with the SQLite file
directly (a row altered, deleted or inserted) is found at the first broken row."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cli_support import AGENT, Cli, isolated

from ledger.store import schema, web_audit


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    with isolated(tmp_path, monkeypatch) as clock:
        cli = Cli(tmp_path, capsys, clock)
        cli.agent()  # open and deposit: two rows
        cli.ok("agent", "unlock", "--msisdn", AGENT)
        cli.ok("agent", "suspend", "--msisdn", AGENT)
        yield cli


def _tamper(db: str, *statements: str) -> None:
    """Change the file as an intruder with the sqlite3 shell would: the triggers dropped."""
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TRIGGER web_audit_no_update")
        conn.execute("DROP TRIGGER web_audit_no_delete")
        for statement in statements:
            conn.execute(statement)


def test_an_intact_chain_verifies_with_its_count(run: Cli) -> None:
    """Four effects, four rows by the shell user, each with an agent; exit 0 with the count."""
    done = run.ok("audit", "verify", "--json")
    assert done.json["ok"] is True and done.json["rows"] == 4 and len(done.json["head"]) == 64
    with sqlite3.connect(run.db) as conn:
        rows = conn.execute("SELECT role, action, agent_id, amount_fen FROM web_audit "
                            "ORDER BY id").fetchall()
    assert rows == [("cli", "open", 1, None), ("cli", "deposit", 1, 100_000),
                    ("cli", "unlock", 1, None), ("cli", "suspend", 1, None)]
    assert "4" in run.ok("audit", "verify").out


@pytest.mark.parametrize(("statements", "broken", "why"), [
    pytest.param(["UPDATE web_audit SET amount_fen = 10 WHERE id = 2"], 2, "altered",
                 id="altered"),
    pytest.param(["DELETE FROM web_audit WHERE id = 3"], 3, "missing", id="deleted"),
    pytest.param(["DELETE FROM web_audit WHERE id = 4"], 4, "missing", id="last-deleted"),
    pytest.param(["INSERT INTO web_audit (id, at, operator_id, operator, role, action, target, "
                  "detail, outcome) VALUES (5, '2026-01-01T00:00:00+00:00', 0, 'x', 'clerk', "
                  "'deposit', 'A00000001', '{}', 'ok')"], 5, "unchained", id="inserted"),
    pytest.param(["UPDATE web_audit SET id = id + 10 WHERE id >= 3",
                  "INSERT INTO web_audit (id, at, operator_id, operator, role, action, target, "
                  "detail, outcome) VALUES (3, '2026-01-01T00:00:00+00:00', 0, 'x', 'clerk', "
                  "'deposit', 'A00000001', '{}', 'ok')"], 3, "altered", id="inserted-between"),
])
def test_tampering_is_found_at_the_first_broken_row(run: Cli, statements: list[str],
                                                    broken: int, why: str) -> None:
    """Altered, deleted or inserted: exit 1, naming the first broken row and why (and
    `ledger verify` reports the same breach)."""
    _tamper(run.db, *statements)
    done = run("audit", "verify", "--json")
    assert done.code == 1
    assert (done.json["ok"], done.json["broken_id"], done.json["why"]) == (False, broken, why)
    words = run("audit", "verify")
    assert words.code == 1 and f"第 {broken} 行" in words.out
    ledger = run("ledger", "verify", "--json")  # among the ledger's invariants too
    assert ledger.code == 1 and f"audit row {broken}: {why}" in ledger.out


def test_the_log_refuses_update_and_delete(run: Cli) -> None:
    """Append-only in the database too: UPDATE and DELETE of a row or its hash are refused."""
    with sqlite3.connect(run.db) as conn:
        for statement in ("UPDATE web_audit SET outcome = 'x'", "DELETE FROM web_audit",
                          "UPDATE audit_chain SET hash = 'x'", "DELETE FROM audit_chain"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(statement)


def test_no_code_updates_or_deletes_audit_rows() -> None:
    """Append-only in the code: no source file has an UPDATE or DELETE of the log's rows."""
    root = Path(__file__).parents[2]
    sources = [p for d in ("ledger", "smsmenu") for p in (root / d).rglob("*.py")]
    sources += list((root / "ledger").rglob("*.sql"))
    for path in sources:
        text = path.read_text("utf-8").upper()
        for table in ("WEB_AUDIT", "AUDIT_CHAIN"):
            assert f"UPDATE {table} " not in text and f"DELETE FROM {table}" not in text, path


def test_rows_from_before_the_chain_are_adopted_once() -> None:
    """A version-6 log's rows are chained on the first start (``adopt``), in id order; the next
    row continues the chain and the whole verifies."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    schema.migrate(conn, 6)
    for n in range(3):
        conn.execute("INSERT INTO web_audit (at, operator_id, operator, role, action, target, "
                     "detail, outcome) VALUES (?, 1, 'wang', 'clerk', 'deposit', 'A1', "
                     "'{\"key\": \"k\"}', 'ok')", (f"2026-01-0{n + 1}T00:00:00+00:00",))
    schema.migrate(conn)
    assert conn.execute("SELECT COUNT(*) FROM audit_chain").fetchone() == (3,)
    assert web_audit.verify(conn) == web_audit.Verdict(3, web_audit.verify(conn).head)
    schema.migrate(conn)  # a second start adopts nothing again
    assert web_audit.adopt(conn) == 0
    line = web_audit.Line(1, "wang", "clerk", "unlock", "A1", "{}", "ok", 1)
    assert web_audit.append(conn, at=dt.datetime(2026, 1, 4, tzinfo=dt.UTC), line=line) == 4
    verdict = web_audit.verify(conn)
    assert verdict.ok and verdict.count == 4
