"""An unknown recharge id is a plain not-found everywhere but a retry (which breaks R-18)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cli_support import AGENT, TX, Cli, isolated

from ledger import Ledger
from smsmenu.core.errors import UnknownRecharge


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    with isolated(tmp_path, monkeypatch) as clock:
        yield Cli(tmp_path, capsys, clock)


@pytest.mark.parametrize("argv", [
    pytest.param(("reversal", "--recharge", "999"), id="reversal"),
    pytest.param(("reversal", "--recharge", "999", "--check"), id="reversal-check"),
    pytest.param(("invoice", "--recharge", "999"), id="invoice"),
    pytest.param(("ledger", "cancel", "--recharge", "999", "--operator", "li"), id="ledger-cancel"),
])
def test_unknown_recharge_cites_no_rule(run: Cli, argv: tuple[str, ...]) -> None:
    """`reversal --recharge 999` and its kin: exit 3, E_NO_RECHARGE, no rule (not R-18)."""
    run.agent()
    refused = run(*argv, "--json")
    assert refused.code == 3
    assert refused.json["error"]["code"] == "E_NO_RECHARGE"
    assert refused.json["error"]["rule"] == ""
    human = run(*argv, "--lang", "en")
    assert human.code == 3 and "No recharge 999" in human.err and "R-" not in human.err


def test_retry_of_an_unknown_recharge_names_the_retry_rule(run: Cli) -> None:
    """A retry of no recharge of the agent's own breaks R-18 and says so (exit 3)."""
    run.agent()
    refused = run("retry", "--msisdn", AGENT, "--recharge", "999", "--tx-password", TX,
                  "--json")
    assert refused.code == 3 and refused.json["error"]["rule"] == "R-18"


async def test_ledger_lookups_of_an_unknown_recharge(ledger: Ledger) -> None:
    """The ledger's own look-ups raise the plain not-found, no rule."""
    for lookup in (ledger.get_recharge(999), ledger.reversal_checks(999),
                   ledger.mark_invoice(999)):
        with pytest.raises(UnknownRecharge) as refused:
            await lookup
        assert refused.value.rule == ""
