"""The server's SMPP side: [smpp] settings, running(smpp=True) with its simulator, `smsmenu smsc`."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from simulator.smsc import SmscSimulator
from simulator.smsc_http import RemoteHandset
from smsmenu.cli.common import ConfigError
from smsmenu.core.settings import Settings, describe, load_settings
from smsmenu.gateway.smpp import SmppGateway
from smsmenu.gateway.smpp_config import SmppBind
from smsmenu.server.main import running
from smsmenu.server.smpp import apply_options

pytestmark = pytest.mark.both_engines

DEMO = "18900000001"
TOKEN = "smsc-token-0123456789"
ROOT = str(Path(__file__).resolve().parents[2])


def test_smpp_settings_default_to_nothing_and_demo_to_the_local_simulator() -> None:
    """No bind and no simulator by default; demo mode: one bind to 127.0.0.1:2775 naming no
    password (demo mode generates it), the simulator on; no vendor TLV."""
    smpp = load_settings(env={}).smpp
    assert (smpp.binds, smpp.simulator, smpp.simulator_token, smpp.message_id_tlv) == (
        (), False, (), 0)
    demo = load_settings(env={}, demo=True).smpp
    assert demo.binds == ("smpp://smsmenu@127.0.0.1:2775?source_addr=10658",)
    assert (demo.simulator, demo.simulator_port) == (True, 2775)


def test_bind_lists_come_from_toml_or_a_comma_separated_variable(tmp_path: Path) -> None:
    """A TOML list or string; SMSMENU_SMPP_BINDS splits on commas ("" is none); TLV in hex."""
    config = tmp_path / "s.toml"
    config.write_text('[smpp]\nbinds = ["smpp://a:b@h1:1", "smpp://c:d@h2:2"]\n', "utf-8")
    assert load_settings(config, env={}).smpp.binds == ("smpp://a:b@h1:1", "smpp://c:d@h2:2")
    env = {"SMSMENU_SMPP_BINDS": " smpp://a:b@h:1 ,smpp://c:d@h:2,", "SMSMENU_SMPP_MESSAGE_ID_TLV":
           "0x1401", "SMSMENU_SMPP_SIMULATOR": "false"}  # fmt: skip
    smpp = load_settings(env=env).smpp
    assert (smpp.binds, smpp.message_id_tlv, smpp.simulator) == (
        ("smpp://a:b@h:1", "smpp://c:d@h:2"), 0x1401, False)
    assert load_settings(env={"SMSMENU_SMPP_BINDS": ""}).smpp.binds == ()
    config.write_text("[smpp]\nbinds = [1, 2]\n", "utf-8")
    with pytest.raises(ValueError, match="list of strings"):
        load_settings(config, env={})
    assert "SMSMENU_SMPP_BINDS" in describe() and "[kannel] sendsms_url" in describe()


def test_serve_smpp_option_replaces_the_binds() -> None:
    """--smpp (repeatable) replaces [smpp] binds, 'none' empties them; a bad URL is refused."""
    base = load_settings(env={})
    args = argparse.Namespace(smpp=["smpp://x:y@smsc.example:2776", "smpp://z:w@h"], no_smsc=True)
    settings = apply_options(base, args)
    assert settings.smpp.binds == ("smpp://x:y@smsc.example:2776", "smpp://z:w@h")
    assert not settings.smpp.simulator
    none = apply_options(base, argparse.Namespace(smpp=["none"], no_smsc=False))
    assert none.smpp.binds == ()
    with pytest.raises(ConfigError, match=r"smsc\.example") as caught:
        apply_options(base, argparse.Namespace(smpp=["http://x:pw@smsc.example"], no_smsc=False))
    assert "pw" not in str(caught.value)


@pytest.fixture
def server_settings(settings: Settings) -> Settings:
    """Every port free: HTTP, billing, the SMSC simulator and the bind that follows it."""
    return (settings.replace("http", port=0).replace("billing", url="http://127.0.0.1:0")
            .replace("smpp", simulator=True, simulator_port=0, simulator_token=(TOKEN,),
                     binds=("smpp://smsmenu:pw123456@127.0.0.1:0?source_addr=10658",)))


async def test_running_without_smpp_starts_no_simulator(server_settings: Settings) -> None:
    """running() leaves SMPP off unless asked (tests of the rest need no port 2775)."""
    async with running(server_settings, demo=True) as run:
        assert run.smpp is None and run.gateways == []


async def test_running_with_smpp_serves_a_dialog_through_its_simulator(
    server_settings: Settings,
) -> None:
    """Simulator on a free port, ESME bound before serving, /healthz and /smsc, unbind at exit."""
    async with running(server_settings, demo=True, smpp=True) as run:
        assert run.smpp is not None and run.smpp.smsc is not None
        smsc = run.smpp.smsc
        assert run.smpp.gateway.bound and [c.system_id for c in smsc.binds] == ["smsmenu"]
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{run.http_url}/healthz") as resp:
                assert (await resp.json())["gateways"] == {"smpp": True}
            phone = RemoteHandset(f"{run.http_url}/smsc", DEMO, http=http, token=TOKEN)
            await phone.send("YE*135790", wait=True)
            texts: list[str] = []
            while not any("充值账户余额" in t for t in texts):
                texts += [m.text for m in await phone.poll(timeout=5)]
        assert any("充值账户余额1000.00元" in t for t in texts), texts
    assert not smsc.binds and not run.smpp.gateway.bound


async def test_a_busy_simulator_port_is_a_configuration_error(server_settings: Settings) -> None:
    """The simulator's port taken: a clear ConfigError naming the setting, nothing left running."""
    async with SmscSimulator({}) as other:
        busy = server_settings.replace("smpp", simulator_port=other.port)
        with pytest.raises(ConfigError, match="simulator_port"):
            async with running(busy, smpp=True):
                pass


async def test_smsc_command_runs_until_interrupted(tmp_path: Path) -> None:
    """`smsmenu smsc --port 0` prints where it listens, takes a bind, stops cleanly on SIGINT."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smsmenu", "smsc", "--port", "0", "--account", "tester:pw",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": ROOT},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        assert "listening on 127.0.0.1:" in line and "tester" in line
        port = int(line.split("127.0.0.1:")[1].split()[0])
        gateway = SmppGateway(SmppBind("tester", "pw", "127.0.0.1", port))
        gateway.start()
        await asyncio.wait_for(gateway.wait_bound(), 5)
        await gateway.aclose()
        proc.send_signal(signal.SIGINT)
        out, _err = await asyncio.wait_for(proc.communicate(), 10)
        assert proc.returncode == 0 and "stopped (1 binds" in out.decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
