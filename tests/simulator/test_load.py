"""The load generator: short runs over HTTP and SMPP with consistent counts, money and verify."""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from simulator.load import percentile, render, run_load
from simulator.load_agents import STEPS
from simulator.load_rig import Rig
from smsmenu.cli import load as cli_load
from smsmenu.core.settings import Settings
from smsmenu.server.simulators import own_server

CHARGE_FEN = 9_800
"""100 yuan at the default 2% commission (R-16)."""


def check_consistent(result: dict[str, Any], agents: int) -> None:
    """Every MO belongs to a finished dialog, and the money moved is what the receipts say."""
    assert result["ok"], render(result)
    assert result["errors"] == {} and result["resyncs"] == 0 and result["late_replies"] == 0
    assert result["verify"] == {"ok": True, "breaches": {}}
    kinds = result["dialogs_by_kind"]
    assert result["mo"] == result["dialog_mo"] == sum(STEPS[k] * n for k, n in kinds.items())
    assert result["dialogs"] == sum(kinds.values()) >= agents
    outcomes = result["outcomes"]
    assert kinds["recharge"] == outcomes.get("recharge_ok", 0) + outcomes.get("recharge_failed", 0)
    assert kinds.get("retry", 0) == outcomes.get("retry_ok", 0) + outcomes.get("retry_failed", 0)
    succeeded = outcomes.get("recharge_ok", 0) + outcomes.get("retry_ok", 0)
    money = result["money"]
    assert money["debited_fen"] == money["ledger_fen"] == money["receipts_fen"] == (
        succeeded * CHARGE_FEN)
    assert money["recharges_succeeded"] == money["receipts"] == succeeded
    assert money["unconfirmed"] == 0 and money["unmatched_receipts"] == []
    lat = result["latency_ms"]
    assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]


@pytest.mark.parametrize("via", ["http", "smpp", "smgp"])
async def test_short_run_is_consistent(via: str) -> None:
    """3 agents for 1.5 s with 30% billing failures: retries happen, the books balance."""
    result = await run_load(agents=3, duration=1.5, via=via, billing_failure_rate=0.3,
                            synchronous="OFF", balance_every=3, own=own_server)
    check_consistent(result, 3)
    assert result["via"] == via and result["agents"] == 3
    assert result["outcomes"]["recharge_failed"] > 0 and result["dialogs_by_kind"]["retry"] > 0
    assert result["dialogs_by_kind"]["balance"] > 0
    assert result["mo_per_s"] > 50


async def test_spawned_server_over_smpp() -> None:
    """``spawn``: the server in a child process bound to this process's SMSC simulator."""
    result = await run_load(agents=2, duration=1.0, via="smpp", spawn=True, synchronous="OFF",
                            billing_failure_rate=0.2)
    check_consistent(result, 2)


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[tuple[Rig, Settings]]:
    """A running server (with SMPP and the handset API) and the settings naming its database."""
    settings = settings.replace("http", port=0).replace("billing", url="http://127.0.0.1:0")
    async with own_server(settings, "smpp") as rig:
        yield rig, settings.replace("billing", url=rig.billing_url or "")


@pytest.mark.parametrize("via", ["http", "smpp"])
async def test_load_against_a_running_server(server: tuple[Rig, Settings], via: str) -> None:
    """``server=``: agents funded in its database, driven over HTTP or its SMSC handset API."""
    rig, settings = server
    token = rig.api_token if via == "http" else rig.control_token
    result = await run_load(agents=2, duration=1.0, via=via, server=rig.http_url,
                            settings=settings, billing_failure_rate=0.2, token=token)
    check_consistent(result, 2)
    assert rig.billing is not None and rig.billing.failure_rate == 0.0  # put back as it was
    assert rig.smsc is not None
    if via == "smpp":
        assert rig.smsc.stats.mo_attempts >= result["mo"]


async def test_cli_writes_json_and_exits_0(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """`smsmenu load --json FILE` prints the summary and writes the same figures as JSON."""
    parser = argparse.ArgumentParser()
    cli_load.register(parser.add_subparsers())
    out = tmp_path / "load.json"
    args = parser.parse_args(["load", "--agents", "2", "--duration", "0.5", "--via", "http",
                              "--synchronous", "OFF", "--json", str(out)])
    assert await cli_load.load_command(args) == 0
    printed = capsys.readouterr()
    data = json.loads(out.read_text("utf-8"))
    assert data["ok"] and data["agents"] == 2
    assert "ledger verify: OK" in printed.out and f"MO        {data['mo']}" in printed.out
    assert "dialogs" in printed.err  # the progress line


def test_percentile_nearest_rank() -> None:
    """Quantiles in ms by nearest rank; an empty run reports 0."""
    values = [i / 1000 for i in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.99), percentile(values, 1.0)) == (
        50.0, 99.0, 100.0)
    assert percentile([], 0.5) == 0.0 and percentile([0.002], 0.99) == 2.0
