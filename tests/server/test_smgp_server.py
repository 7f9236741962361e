"""SMGP in the whole server: serve --smgp, production and demo checks, and the phone's recharge
transcript over SMGP through the ISMG simulator's handsets (issue 14)."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from simulator.load_rig import Rig
from smsmenu.cli import phone as cli_phone
from smsmenu.core.settings import ConfigError, Settings, load_settings
from smsmenu.gateway.smgp import SmgpGateway
from smsmenu.gateway.smgp_config import SmgpLinkConfig
from smsmenu.server import smgp
from smsmenu.server.modes import apply_demo, demo_banner, production_problems
from smsmenu.server.simulators import own_server

pytestmark = pytest.mark.both_engines

ROOT = str(Path(__file__).resolve().parents[2])
EXAMPLES = Path(ROOT) / "simulator" / "phone" / "examples"


@pytest.fixture
async def rig(settings: Settings) -> AsyncIterator[Rig]:
    """The demo server with SMGP only: the ISMG simulator, our link, its handsets' API."""
    settings = settings.replace("http", port=0).replace("billing", url="http://127.0.0.1:0")
    async with own_server(settings, "smgp", demo=True) as rig:
        assert rig.smsc is not None
        demo = rig.smsc.handset("18900000001")
        for _ in range(2):  # the demo agent's "opened" and "deposit" notices
            await demo.receive(timeout=5)
        yield rig


def phone_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli_phone.register(parser.add_subparsers())
    return parser.parse_args(["phone", *argv])


@pytest.mark.parametrize("prefix", ["/ismg", "/smsc"])
async def test_the_recharge_transcript_plays_over_smgp(rig: Rig, prefix: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """The whole menu, a recharge (money moves, the receipt SMS reaches the customer) and a
    balance query over SMGP, played by the terminal phone through the ISMG's handset API
    (under /ismg, and /smsc when no SMSC simulator runs: the phone's default)."""
    args = phone_args("--script", str(EXAMPLES / "recharge.txt"), "--via", "smsc",
                      "--server", rig.http_url, "--smsc-control", rig.http_url + prefix,
                      "--billing-url", rig.billing_url or "", "--timeout", "5",
                      f"--token={rig.control_token}")  # fmt: skip
    assert await cli_phone.phone(args) == 0, capsys.readouterr().out
    assert "ok, 8 messages sent, 9 replies matched" in capsys.readouterr().out
    agent = await rig.ledger.agent("18900000001")
    assert agent.balance_fen == 100_000 - 9_800  # 100 yuan at 2% commission, charged once
    assert not any((await rig.ledger.verify()).values())


async def test_the_ismg_handset_api_wants_its_token(rig: Rig) -> None:
    """The ISMG simulator's handsets answer 401 without the Bearer token."""
    async with aiohttp.ClientSession() as http, \
            http.get(f"{rig.http_url}/ismg/handsets/18900000001/inbox") as resp:  # fmt: skip
        assert resp.status == 401


def test_an_smgp_link_is_a_transport_and_its_simulator_demo_only() -> None:
    """Production: an [smgp] link counts as the message transport; the ISMG simulator is
    refused; a demo listens on loopback only."""
    base = load_settings(env={}).replace("billing", url="https://boss.example")
    assert any("a message transport" in p for p in production_problems(base))
    linked = base.replace("smgp", links=("smgp://SP01:pw@ismg.example:8890?sp=10658",))
    assert production_problems(linked) == []
    simulated = linked.replace("smgp", simulator=True)
    assert any("[smgp] simulator = false" in p for p in production_problems(simulated))
    public = load_settings(env={}, demo=True).replace("smgp", simulator_host="0.0.0.0")
    with pytest.raises(ConfigError, match=r"\[smgp\] simulator_host"):
        apply_demo(public)


def test_serve_smgp_option_replaces_the_links_and_names_no_secret() -> None:
    """``--smgp URL`` (repeatable, 'none') is checked before anything runs; an error shows
    the address, never the secret."""
    parser = argparse.ArgumentParser()
    smgp.add_options(parser)
    settings = load_settings(env={})
    url = "smgp://SP01:pw@127.0.0.1:8890?sp=10658&mode=2"
    got = smgp.apply_options(settings, parser.parse_args(["--smgp", url, "--smgp", "none"]))
    assert got.smgp.links == (url,)
    with pytest.raises(ConfigError) as caught:
        smgp.apply_options(settings, parser.parse_args(["--smgp", "smgp://SP01:hunter2@h?x=1"]))
    assert "hunter2" not in str(caught.value) and "h?x=1" in str(caught.value)


async def test_ismg_command_runs_until_interrupted(tmp_path: Path) -> None:
    """`smsmenu ismg --port 0 --control-port 0` prints where it listens and its handsets' API,
    takes a login, stops cleanly on SIGINT."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smsmenu", "ismg", "--port", "0", "--account", "SP01:pw",
        "--control-port", "0", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": ROOT},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        assert "ISMG simulator listening on 127.0.0.1:" in line and "SP01" in line
        port = int(line.split("127.0.0.1:")[1].split()[0])
        api = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode()
        assert "handsets' API on http://127.0.0.1:" in api and "Bearer" in api
        gateway = SmgpGateway(SmgpLinkConfig("SP01", "pw", "127.0.0.1", port))
        gateway.start()
        await asyncio.wait_for(gateway.wait_bound(), 5)
        await gateway.aclose()
        proc.send_signal(signal.SIGINT)
        out, _err = await asyncio.wait_for(proc.communicate(), 10)
        assert proc.returncode == 0 and "stopped (1 logins" in out.decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def test_demo_gives_a_link_to_the_ismg_simulator_the_generated_secret(tmp_path: Path) -> None:
    """Demo mode with ``[smgp] simulator``: a link aimed at it without a secret gets the
    generated one (as an SMPP bind does), and the banner names the account."""
    demo = load_settings(env={}, demo=True).replace(
        "ledger", secret_file=str(tmp_path / "secret")).replace(
        "smgp", simulator=True, links=("smgp://smsmenu@127.0.0.1:8890?sp=10658",
                                       "smgp://other:mine@ismg.example:8890?sp=1"))  # fmt: skip
    settings, kept = apply_demo(demo)
    assert settings.smgp.links == (f"smgp://smsmenu:{kept.smpp_password}@127.0.0.1:8890?sp=10658",
                                   "smgp://other:mine@ismg.example:8890?sp=1")
    banner = demo_banner(settings, kept)
    assert f"ISMG simulator account   smsmenu:{kept.smpp_password}   (SMGP" in banner
    assert "mine" not in banner
