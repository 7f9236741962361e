"""The operator CLI: agent commands, global options, errors and exit codes, the entry point."""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cli_support import AGENT, CUSTOMER, MGMT, NEW_TX, TX, WRONG, Cli, amount_keys, isolated

from ledger import Ledger
from smsmenu.cli import entry as cli

VENV_BIN = Path(sys.executable).parent


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    """An in-process CLI on a temp database; afterwards no password may appear in its output."""
    with isolated(tmp_path, monkeypatch) as clock:
        runner = Cli(tmp_path, capsys, clock)
        yield runner
        runner.assert_no_password()


def test_open_and_show_in_chinese(run: Cli) -> None:
    """Open, deposit and show print yuan with 2 decimals and Chinese labels by default."""
    opened = run.ok("agent", "open", "--msisdn", AGENT, "--name", "小王", "--tx-password", TX,
                    "--mgmt-password", MGMT, "--rate", "0.03")
    assert "开户成功" in opened.out and "A00000001" in opened.out and "0.03" in opened.out
    deposit = run.ok("agent", "deposit", "--msisdn", AGENT, "--amount", "1000")
    assert "1000.00 元" in deposit.out and "100.00 元" in deposit.out  # R-12 invoice quota
    shown = run.ok("agent", "show", "--msisdn", "189 1234 5678")
    assert "可用: 1000.00 元" in shown.out and shown.err == ""


def test_english_output(run: Cli) -> None:
    """--lang en prints English labels."""
    run.agent()
    shown = run.ok("agent", "show", "--msisdn", AGENT, "--lang", "en")
    assert "available: 1000.00 yuan" in shown.out and "Agent" in shown.out


@pytest.mark.parametrize(("argv", "expected"), [
    pytest.param(("agent", "show", "--msisdn", AGENT),
                 {"balance_fen": 100_000, "available_fen": 100_000, "reserved_fen": 0}, id="show"),
    pytest.param(("agent", "deposit", "--msisdn", AGENT, "--amount", "500"),
                 {"amount_fen": 50_000, "invoice_quota_fen": 5_000, "balance_fen": 150_000},
                 id="deposit"),
    pytest.param(("recharge", "--msisdn", AGENT, "--kind", "mobile", "--target", CUSTOMER,
                  "--amount", "100", "--tx-password", TX),
                 {"amount_fen": 10_000, "commission_fen": 200, "charge_fen": 9_800}, id="recharge"),
    pytest.param(("agent", "rate", "--msisdn", AGENT, "--rate", "0.05"), {"rate_ppm": 50_000},
                 id="rate"),
])
def test_json_amounts_are_fen(run: Cli, argv: tuple[str, ...],
                              expected: dict[str, int]) -> None:
    """--json prints one object; every amount is an integer in a field ending _fen."""
    run.agent()
    result = run(*argv, "--json")
    data = result.json
    assert result.code == 0 and {k: data[k] for k in expected} == expected
    for path, value in amount_keys(data):
        if isinstance(value, int) and not isinstance(value, bool):
            assert path.endswith("_fen"), path


def test_json_lists_and_close_use_fen(run: Cli) -> None:
    """Records and close in --json carry amounts in _fen fields only."""
    run.agent(deposit=None)
    run.ok("agent", "deposit", "--msisdn", AGENT, "--amount", "10", "--channel", "online")
    run.recharge("10")
    records = run.ok("records", "--msisdn", AGENT, "--json").json
    assert records["count"] == 1 and records["recharges"][0]["amount_fen"] == 1_000
    closed = run.ok("agent", "close", "--msisdn", AGENT, "--json").json
    assert closed["refund_fen"] == 20  # 10 yuan less 9.80 charged (R-6 cash refund)
    everything = [records, closed]
    assert all(p.endswith("_fen") for p, v in amount_keys(everything) if isinstance(v, int))


@pytest.mark.parametrize(("argv", "rule", "code"), [
    pytest.param(("agent", "deposit", "--msisdn", AGENT, "--amount", "499"), "R-8", 2,
                 id="counter-499"),
    pytest.param(("agent", "deposit", "--msisdn", AGENT, "--amount", "505"), "R-8", 2,
                 id="counter-not-x10"),
    pytest.param(("agent", "deposit", "--msisdn", AGENT, "--amount", "abc"), "R-8", 2,
                 id="counter-not-a-number"),
    pytest.param(("agent", "deposit", "--msisdn", AGENT, "--amount", "15", "--channel", "online"),
                 "R-9", 2, id="online-15"),
    pytest.param(("recharge", "--msisdn", AGENT, "--kind", "mobile", "--target", CUSTOMER,
                  "--amount", "15", "--tx-password", TX), "R-13", 2, id="recharge-15"),
    pytest.param(("recharge", "--msisdn", AGENT, "--kind", "mobile", "--target", CUSTOMER,
                  "--amount", "1010", "--tx-password", TX), "R-13", 2, id="recharge-1010"),
    pytest.param(("recharge", "--msisdn", AGENT, "--kind", "landline", "--target", "87654321",
                  "--amount", "100", "--tx-password", TX), "R-14", 2, id="landline-no-area-code"),
    pytest.param(("recharge", "--msisdn", AGENT, "--kind", "mobile", "--target", CUSTOMER,
                  "--amount", "1000", "--tx-password", TX, "--key", "k1"), "R-15", 5,
                 id="insufficient"),
    pytest.param(("recharge", "--msisdn", AGENT, "--kind", "mobile", "--target", CUSTOMER,
                  "--amount", "100", "--tx-password", WRONG), "R-2", 5, id="wrong-password"),
    pytest.param(("agent", "open", "--msisdn", "18900002222", "--name", "x", "--tx-password",
                  "12345", "--mgmt-password", MGMT), "R-2", 2, id="password-format"),
    pytest.param(("agent", "open", "--msisdn", AGENT, "--name", "x", "--tx-password", TX,
                  "--mgmt-password", MGMT), "R-1", 4, id="duplicate-agent"),
    pytest.param(("agent", "show", "--msisdn", "18900002222"), "R-1", 3, id="unknown-agent"),
    pytest.param(("agent", "rate", "--msisdn", AGENT, "--rate", "0.5"), "R-16", 2, id="rate"),
    pytest.param(("agent", "close", "--msisdn", AGENT), "R-6", 5, id="close-with-balance"),
])
def test_errors_name_their_rule(run: Cli, argv: tuple[str, ...], rule: str, code: int) -> None:
    """A refused command prints `error: ... (R-n)` on stderr and exits with the error's code."""
    run.agent(deposit="500")
    human = run(*argv)
    assert human.code == code and human.out == ""
    assert human.err.startswith("error: ") and f"({rule})" in human.err
    assert len(human.err.strip().splitlines()) == 1 and "Traceback" not in human.err
    as_json = run(*argv, "--json", "--lang", "en")
    assert as_json.code == code and as_json.err == ""
    assert as_json.json["error"]["rule"] == rule and as_json.json["error"]["code"].startswith("E_")


@pytest.mark.parametrize("argv", [
    pytest.param((), id="no-command"),
    pytest.param(("agent",), id="no-action"),
    pytest.param(("agent", "show"), id="missing-msisdn"),
    pytest.param(("recharge", "--msisdn", AGENT, "--kind", "fax", "--target", "1", "--amount",
                  "10", "--tx-password", TX), id="bad-kind"),
    pytest.param(("records", "--msisdn", AGENT, "--from", "2026-13-01"), id="bad-date"),
])
def test_usage_errors_exit_2(run: Cli, argv: tuple[str, ...]) -> None:
    """argparse errors exit 2 with a usage message, before touching the database."""
    result = run(*argv, sim=False, db=False)
    assert result.code == 2 and "usage:" in result.err


def test_usage_error_masks_a_mistyped_password_option(run: Cli) -> None:
    """`unrecognized arguments` would echo a password given to a misspelt option: it is masked."""
    result = run("agent", "open", "--msisdn", AGENT, "--name", "x", "--mgmt-password", MGMT,
                 "--tx-password", TX, "--tx-pasword", TX)
    assert result.code == 2 and "******" in result.err


def test_two_billings_refused(run: Cli) -> None:
    """--billing-url and --billing-sim together are a usage error (exit 2), no database made."""
    result = run("agent", "show", "--msisdn", AGENT, "--billing-url", "http://x")
    assert result.code == 2 and "--billing-sim" in result.err
    assert not Path(run.db).exists()


def test_suspend_blocks_recharge_until_resume(run: Cli) -> None:
    """R-5: a suspended phone cannot recharge; resume lifts it."""
    run.agent()
    assert "是" in run.ok("agent", "suspend", "--msisdn", AGENT).out
    refused = run.recharge()
    assert refused.code == 5 and "(R-5)" in refused.err
    assert run.ok("agent", "resume", "--msisdn", AGENT, "--json").json["phone_suspended"] is False
    run.ok("recharge", "--msisdn", AGENT, "--kind", "mobile", "--target", CUSTOMER, "--amount",
           "100", "--tx-password", TX)


def test_lockout_and_unlock(run: Cli) -> None:
    """R-2: five wrong passwords lock the agent; the operator's unlock lets it recharge again."""
    run.agent()
    for _ in range(5):
        run("recharge", "--msisdn", AGENT, "--kind", "mobile", "--target", CUSTOMER, "--amount",
            "100", "--tx-password", WRONG)
    locked = run.recharge()
    assert locked.code == 5 and "(R-2)" in locked.err and "锁定" in locked.err
    assert run.ok("agent", "unlock", "--msisdn", AGENT, "--json").json["locked_until"] is None
    run.ok("recharge", "--msisdn", AGENT, "--kind", "mobile", "--target", CUSTOMER, "--amount",
           "100", "--tx-password", TX)


def test_rate_changes_commission(run: Cli) -> None:
    """R-16: `agent rate 0.05` gives 5 yuan commission on 100 yuan."""
    run.agent()
    run.ok("agent", "rate", "--msisdn", AGENT, "--rate", "0.05")
    result = run.recharge("100", "mobile", CUSTOMER, "--json")
    assert result.code == 0 and result.json["commission_fen"] == 500


def test_change_password(run: Cli) -> None:
    """R-21: after `agent password` the old transaction password is refused, the new one works."""
    run.agent()
    changed = run.ok("agent", "password", "--msisdn", AGENT, "--which", "tx", "--old", TX,
                     "--new", NEW_TX, "--json")
    assert changed.json["changed"] == "tx"
    assert run.recharge().code == 5
    run.ok("recharge", "--msisdn", AGENT, "--kind", "mobile", "--target", CUSTOMER, "--amount",
           "100", "--tx-password", NEW_TX)


def test_dash_reads_passwords_with_getpass(run: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """A password given as '-' is read with getpass, once per password, and never printed."""
    answers = iter([TX, MGMT, TX])
    prompts: list[str] = []

    def fake(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr(getpass, "getpass", fake)
    run.ok("agent", "open", "--msisdn", AGENT, "--name", "x", "--tx-password", "-",
           "--mgmt-password", "-")
    run.ok("agent", "deposit", "--msisdn", AGENT, "--amount", "500")
    run.ok("recharge", "--msisdn", AGENT, "--kind", "mobile", "--target", CUSTOMER, "--amount",
           "100", "--tx-password", "-")
    assert len(prompts) == 3 and "transaction" in prompts[0] and "management" in prompts[1]


def test_same_key_deposits_once(run: Cli) -> None:
    """A repeated --key repeats the first deposit; the same key with another amount conflicts."""
    run.agent(deposit=None)
    for _ in range(2):
        run.ok("agent", "deposit", "--msisdn", AGENT, "--amount", "500", "--key", "d1")
    assert run.ok("agent", "show", "--msisdn", AGENT, "--json").json["balance_fen"] == 50_000
    conflict = run("agent", "deposit", "--msisdn", AGENT, "--amount", "600", "--key", "d1")
    assert conflict.code == 4 and "d1" in conflict.err


def test_close_refunds_small_balance(run: Cli) -> None:
    """R-6: an agent with no money closes; a closed agent cannot deposit."""
    run.agent(deposit=None)
    closed = run.ok("agent", "close", "--msisdn", AGENT, "--lang", "en")
    assert "Agent closed" in closed.out and "0.00 yuan" in closed.out
    again = run("agent", "deposit", "--msisdn", AGENT, "--amount", "500")
    assert again.code == 5 and "(R-6)" in again.err


def test_db_from_environment_and_secret_file_from_config(
        run: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --db the path comes from SMSMENU_DB; --config can name the secret file."""
    monkeypatch.delenv("SMSMENU_SECRET")
    monkeypatch.setenv("SMSMENU_DB", str(tmp_path / "env.db"))
    config = tmp_path / "smsmenu.toml"
    config.write_text(f'[ledger]\nsecret_file = "{tmp_path / "keys" / "secret"}"\n')
    run.ok("agent", "open", "--msisdn", AGENT, "--name", "x", "--tx-password", TX,
           "--mgmt-password", MGMT, "--config", str(config), db=False)
    assert (tmp_path / "env.db").exists() and (tmp_path / "keys" / "secret").exists()
    shown = run.ok("agent", "show", "--msisdn", AGENT, "--config", str(config), db=False)
    assert AGENT in shown.out
    missing = run("agent", "show", "--msisdn", AGENT, "--config", str(tmp_path / "nope.toml"))
    assert missing.code == 78 and missing.err.startswith("error: cannot read settings")


def test_unexpected_error_is_one_line_exit_70(run: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected exception prints one masked line (no traceback) and exits 70."""
    async def boom(self: Ledger, msisdn: str) -> dict[str, object]:
        raise RuntimeError(f"boom {TX}")

    monkeypatch.setattr(Ledger, "agent", boom)
    result = run("agent", "show", "--msisdn", AGENT)
    assert result.code == 70 and result.err.count("\n") == 1 and "boom" in result.err
    as_json = run("agent", "show", "--msisdn", AGENT, "--json")
    assert as_json.code == 70 and as_json.json["error"]["code"] == "E_INTERNAL"


def test_every_listed_module_registers_commands() -> None:
    """Each COMMAND_MODULES entry has register(); the contract's command names all exist."""
    parser = cli.build_parser()
    text = parser.format_help()
    for name in ("agent", "recharge", "retry", "reversal", "records", "failed", "invoice",
                 "ledger"):
        assert name in text
    assert all(m.startswith("smsmenu.") for m in cli.COMMAND_MODULES)


@pytest.mark.parametrize("command", [
    pytest.param([str(VENV_BIN / "smsmenu")], id="console-script"),
    pytest.param([sys.executable, "-m", "smsmenu"], id="python-m"),
])
def test_entry_point_help(command: list[str], tmp_path: Path) -> None:
    """The installed entry point runs: `agent show --help` lists the global options."""
    result = subprocess.run([*command, "agent", "show", "--help"], capture_output=True,
                            text=True, timeout=60, cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stderr
    for option in ("--msisdn", "--db", "--config", "--json", "--lang", "--billing-url",
                   "--billing-sim"):
        assert option in result.stdout
    opened = subprocess.run([*command, "agent", "open", "--help"], capture_output=True,
                            text=True, timeout=60, cwd=tmp_path, check=False)
    assert "'-'" in opened.stdout and "without echo" in opened.stdout


def test_console_script_end_to_end(tmp_path: Path) -> None:
    """The console script with the real clock: open, deposit, recharge, verify; no password shown."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSMENU_")}
    env.update(SMSMENU_DB=str(tmp_path / "e2e.db"), SMSMENU_SECRET="cd" * 32)
    script = str(VENV_BIN / "smsmenu")
    steps = [
        ["agent", "open", "--msisdn", AGENT, "--name", "x", "--tx-password", TX,
         "--mgmt-password", MGMT],
        ["agent", "deposit", "--msisdn", AGENT, "--amount", "500"],
        ["recharge", "--msisdn", AGENT, "--kind", "mobile", "--target", CUSTOMER, "--amount",
         "100", "--tx-password", TX, "--billing-sim"],
        ["ledger", "verify"],
    ]
    outputs = []
    for step in steps:
        done = subprocess.run([script, *step, "--json"], capture_output=True, text=True,
                              timeout=60, cwd=tmp_path, env=env, check=False)
        assert done.returncode == 0, done.stderr
        outputs.append(json.loads(done.stdout))
        assert TX not in done.stdout + done.stderr and MGMT not in done.stdout + done.stderr
    assert outputs[2]["charge_fen"] == 9_800 and outputs[3]["ok"] is True
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("e2e.db")) == []
