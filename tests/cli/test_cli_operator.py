"""`smsmenu operator`: the first back-office operator, the list, password resets and
deactivation, without a web page."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from test_cli_support import Cli, isolated

from smsmenu.web.operators import verify_password

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
    [(who, role, action, target, detail, outcome)] = _audit(run, skip="")
    assert who.startswith("cli:") and role == "cli"
    assert (action, target, outcome) == ("operator_create", "li", "ok")
    assert json.loads(detail) == {"name": "li", "role": "clerk"}


@pytest.mark.parametrize(("argv", "code"), [
    pytest.param(("--role", "clerk", "--password", "short"), 2, id="password-too-short"),
    pytest.param(("--role", "boss", "--password", OPERATOR_PASSWORD), 2, id="unknown-role"),
])
def test_operator_add_refuses_bad_input(run: Cli, argv: tuple[str, ...], code: int) -> None:
    """A short password or an unknown role is refused with a usage or input error."""
    assert run("operator", "add", "--name", "li", *argv).code == code


SUPERVISOR_PASSWORD = "supervisor-8842"
NEW_PASSWORD = "from-stdin-pass-5"


def _staff(run: Cli) -> None:
    """A supervisor ``boss`` and a clerk ``li``."""
    run.ok("operator", "add", "--name", "boss", "--role", "supervisor", "--password",
           SUPERVISOR_PASSWORD)
    run.ok("operator", "add", "--name", "li", "--role", "clerk", "--password", OPERATOR_PASSWORD)


def _logs_in(run: Cli, name: str, password: str) -> bool:
    """Whether ``password`` is the stored one of ``name`` (the login's own check)."""
    with sqlite3.connect(run.db) as db:
        salt, stored = db.execute("SELECT salt, pw_hash FROM web_operators WHERE name = ?",
                                  (name,)).fetchone()
    return verify_password(password, salt, stored)


def _session(run: Cli, name: str) -> None:
    """An open web session of ``name`` (as a login leaves it)."""
    with sqlite3.connect(run.db) as db:
        db.execute("INSERT INTO web_sessions (token_hash, kind, subject_id, created_at, "
                   "expires_at) SELECT ?, 'operator', id, '2026-11-10T02:00:00Z', "
                   "'2999-01-01T00:00:00Z' FROM web_operators WHERE name = ?",
                   (name.encode(), name))


def _sessions(run: Cli) -> list[tuple[str, ...]]:
    with sqlite3.connect(run.db) as db:
        return db.execute("SELECT o.name FROM web_sessions s JOIN web_operators o "
                          "ON o.id = s.subject_id ORDER BY o.name").fetchall()


def _audit(run: Cli, skip: str = "operator_create") -> list[tuple[str, ...]]:
    """The audit lines, oldest first, but those of ``skip`` (by default the creations)."""
    with sqlite3.connect(run.db) as db:
        return db.execute("SELECT operator, role, action, target, detail, outcome "
                          "FROM web_audit WHERE action != ? ORDER BY id", (skip,)).fetchall()


def test_operator_list_shows_accounts_without_password_hashes(run: Cli) -> None:
    """Name, role, active, created and last login, in JSON and in words; no salt or hash."""
    _staff(run)
    listed = run.ok("operator", "list", "--json").json
    assert listed == {"operators": [
        {"name": "boss", "role": "supervisor", "active": True,
         "created_at": listed["operators"][0]["created_at"], "last_login_at": None},
        {"name": "li", "role": "clerk", "active": True,
         "created_at": listed["operators"][1]["created_at"], "last_login_at": None}]}
    human = run.ok("operator", "list", "--lang", "en").out
    assert "Back-office operators (count: 2)" in human.replace("Count", "count")
    assert "boss" in human and "supervisor" in human and "never" in human
    zh = run.ok("operator", "list").out
    assert "后台操作员" in zh and "从未" in zh and "启用" in zh
    with sqlite3.connect(run.db) as db:
        hashes = [h.hex() for (h,) in db.execute("SELECT pw_hash FROM web_operators")]
        salts = [s.hex() for (s,) in db.execute("SELECT salt FROM web_operators")]
    text = "".join(run.transcript)
    assert not any(h in text or s in text for h, s in zip(hashes, salts, strict=True))
    assert "pw_hash" not in text and "salt" not in text


def test_reset_password_prints_a_random_one_once(run: Cli) -> None:
    """The new random password is printed once and is the stored one; the old one no longer
    is; the operator's web sessions end; the audit line names the shell user, no password."""
    _staff(run)
    _session(run, "li")
    _session(run, "boss")
    with structlog.testing.capture_logs() as logs:
        done = run.ok("operator", "reset-password", "li", "--json").json
    password = done["password"]
    assert done == {"name": "li", "role": "clerk", "password": password}
    assert len(password) >= 16 and _logs_in(run, "li", password)
    assert not _logs_in(run, "li", OPERATOR_PASSWORD)
    assert _sessions(run) == [("boss",)]
    assert password not in repr(logs)
    [(who, role, action, target, detail, outcome)] = _audit(run)
    assert who.startswith("cli:") and role == "cli"
    assert (action, target, detail, outcome) == ("operator_password", "li", "{}", "ok")
    assert password.encode() not in Path(run.db).read_bytes()
    again = run.ok("operator", "reset-password", "li", "--lang", "en").out
    assert "shown only this once" in again and "reset-password li" in again
    assert password not in again and not _logs_in(run, "li", password)


def test_reset_password_from_stdin(run: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--password-stdin`` takes the first line of stdin and prints no password; a short one
    is refused (exit 2) and changes nothing."""
    _staff(run)
    monkeypatch.setattr("sys.stdin", io.StringIO(NEW_PASSWORD + "\n"))
    done = run.ok("operator", "reset-password", "li", "--password-stdin")
    assert NEW_PASSWORD not in done.out + done.err
    assert _logs_in(run, "li", NEW_PASSWORD)
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert run("operator", "reset-password", "li", "--password-stdin").code == 2
    assert _logs_in(run, "li", NEW_PASSWORD)


def test_reset_password_takes_no_password_argument(run: Cli) -> None:
    """A password is never given in argv (it would show in the process list): a usage error."""
    _staff(run)
    assert run("operator", "reset-password", "li", "--password", NEW_PASSWORD).code == 2
    assert _logs_in(run, "li", OPERATOR_PASSWORD)


def test_deactivate_and_activate(run: Cli) -> None:
    """Deactivated: shown inactive, its sessions end, audited; activated again: active."""
    _staff(run)
    _session(run, "li")
    out = run.ok("operator", "deactivate", "li", "--lang", "en").out
    assert "li deactivated" in out
    assert _sessions(run) == []
    assert [o["active"] for o in run.ok("operator", "list", "--json").json["operators"]] == [
        True, False]
    assert "已停用" in run.ok("operator", "list").out
    run.ok("operator", "activate", "li")
    assert all(o["active"] for o in run.ok("operator", "list", "--json").json["operators"])
    assert [row[2:] for row in _audit(run)] == [
        ("operator_deactivate", "li", '{"active": false}', "ok"),
        ("operator_reactivate", "li", '{"active": true}', "ok")]


def test_the_last_active_supervisor_cannot_be_deactivated(run: Cli) -> None:
    """Refused (exit 5, audited) while it is the only active supervisor; nothing changes."""
    _staff(run)
    refused = run("operator", "deactivate", "boss", "--json")
    assert refused.code == 5 and refused.json["error"]["code"] == "E_OWN_ACCOUNT"
    assert all(o["active"] for o in run.ok("operator", "list", "--json").json["operators"])
    assert _audit(run)[-1][2:] == ("operator_deactivate", "boss", '{"active": false}',
                                   "E_OWN_ACCOUNT")


@pytest.mark.parametrize("action", ["reset-password", "deactivate", "activate"])
def test_an_unknown_operator_is_not_found(run: Cli, action: str) -> None:
    """A name no operator has: exit 3 (not found)."""
    _staff(run)
    assert run("operator", action, "nobody").code == 3
