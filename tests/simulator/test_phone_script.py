"""The phone's scripted mode (transcripts played headless through the CLI) and its recordings."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from simulator.load_rig import Rig
from simulator.phone.model import PhoneModel
from simulator.smsc_handset import Received
from simulator.transcript import parse
from smsmenu.cli import phone as cli_phone
from smsmenu.core.settings import Settings
from smsmenu.core.tokens import DEMO_FILE
from smsmenu.server.simulators import own_server

EXAMPLES = Path(__file__).resolve().parents[2] / "simulator" / "phone" / "examples"


@pytest.fixture
async def rig(settings: Settings) -> AsyncIterator[Rig]:
    """The server as `make run` has it (SMSC simulator, ESME, handset API), on free ports."""
    settings = settings.replace("http", port=0).replace("billing", url="http://127.0.0.1:0")
    async with own_server(settings, "smpp", demo=True) as rig:
        assert rig.smsc is not None
        demo = rig.smsc.handset("18900000001")
        for _ in range(2):  # the demo agent's "opened" and "deposit" notices: before any script
            await demo.receive(timeout=5)
        yield rig


def parse_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli_phone.register(parser.add_subparsers())
    return parser.parse_args(["phone", *argv])


async def play(rig: Rig, script: Path, via: str) -> int:
    token = rig.api_token if via == "http" else rig.control_token
    args = parse_args("--script", str(script), "--via", via, "--server", rig.http_url,
                      "--billing-url", rig.billing_url or "", "--timeout", "5", f"--token={token}")
    return await cli_phone.phone(args)


@pytest.mark.parametrize("via", ["http", "smsc"])
async def test_example_recharge_plays_clean(rig: Rig, via: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """The shipped recharge transcript passes over HTTP and over SMPP (exit 0)."""
    assert await play(rig, EXAMPLES / "recharge.txt", via) == 0
    assert "ok, 8 messages sent, 9 replies matched" in capsys.readouterr().out


async def test_example_retry_with_billing_directive(rig: Rig,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """``! billing fail 1`` reaches the billing simulator; the retry by id then succeeds."""
    assert await play(rig, EXAMPLES / "retry.txt", "smsc") == 0, capsys.readouterr().out
    assert (await rig.ledger.agent("18900000001")).balance_fen == 100_000 - 4_900


async def test_mismatch_prints_a_diff_and_exits_1(rig: Rig, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A wrong expectation stops the run at its line with expected, got and a diff."""
    script = tmp_path / "wrong.txt"
    script.write_text("@agent 18900000001\n> 1\n< 充值\n< 1固定电话\n< 2手机\n", "utf-8")
    assert await play(rig, script, "http") == 1
    out = capsys.readouterr().out
    assert "MISMATCH line 3: reply differs" in out
    assert "--- expected\n< 充值\n< 1固定电话\n< 2手机" in out
    assert "+++ got\n< 充值\n< 1固定电话\n< 2C网手机" in out
    assert "- < 2手机\n+ < 2C网手机" in out


async def test_unknown_directive_and_unreachable_server(rig: Rig, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """A directive no server can play, or no server at all, exits 2 with the reason."""
    script = tmp_path / "clock.txt"
    script.write_text("@agent 18900000001\n! clock +181s\n", "utf-8")
    assert await play(rig, script, "http") == 2
    assert "cannot be played against a server" in capsys.readouterr().out
    args = parse_args("--script", str(script), "--via", "http", "--server", "http://127.0.0.1:9",
                      "--wait", "0")
    assert await cli_phone.phone(args) == 2
    assert "cannot reach http://127.0.0.1:9/healthz" in capsys.readouterr().out


def test_recording_generalises_times_and_references() -> None:
    """A recorded session replays: times and references become ``{}``; typed numbers are watched."""
    model = PhoneModel("18900000001")
    at = dt.datetime(2026, 11, 10, 2, tzinfo=dt.UTC)
    assert model.sent("18900000001", "CZ*2*15300002222*100*135790") == ["15300002222"]
    assert not model.handsets["15300002222"].shown
    model.arrived("18900000001", Received("10658", "充值成功 余额902.00元 单号0000000583", at))
    model.arrived("15300002222", Received("10658", "您的手机于11-10 10:00成功充值{x}", at))
    assert model.handsets["15300002222"].shown and model.handsets["15300002222"].unread == 1
    text = model.transcript()
    assert text == ("@agent 18900000001\n\n> CZ*2*15300002222*100*135790\n"
                    "< 充值成功 余额902.00元 单号{}\n"
                    "<@15300002222 您的手机于{}成功充值{{x}}\n")
    assert [s.op for s in parse(text).steps] == ["send", "expect", "expect"]


@pytest.mark.parametrize("via", ["http", "smsc"])
async def test_without_token_the_phone_reads_the_demo_tokens(
        rig: Rig, tmp_path: Path, via: str, capsys: pytest.CaptureFixture[str]) -> None:
    """No --token: the ones `make run` kept beside [ledger] secret_file (demo-tokens.json)."""
    (tmp_path / "var").mkdir()
    kept = {"api": rig.api_token, "ussd": "u", "kannel": "k", "smsc": rig.control_token,
            "smpp_password": "p"}
    (tmp_path / "var" / DEMO_FILE).write_text(json.dumps(kept), "utf-8")
    config = tmp_path / "phone.toml"
    config.write_text(f'[ledger]\nsecret_file = "{tmp_path / "var" / "secret"}"\n', "utf-8")
    args = parse_args("--script", str(EXAMPLES / "recharge.txt"), "--via", via, "--server",
                      rig.http_url, "--config", str(config), "--timeout", "5")
    assert await cli_phone.phone(args) == 0, capsys.readouterr().out


async def test_a_wrong_token_is_named(rig: Rig, capsys: pytest.CaptureFixture[str]) -> None:
    """--via smsc with a token the handsets' API refuses: exit 2 saying which token to give."""
    args = parse_args("--script", str(EXAMPLES / "recharge.txt"), "--via", "smsc", "--server",
                      rig.http_url, "--token", "wrong-token-0123456789")
    assert await cli_phone.phone(args) == 2
    assert "answered 401: give the SMSC simulator's token with --token" in capsys.readouterr().out


def test_idle_screen_names_the_key_that_opens_the_menu() -> None:
    """Issue 13: the idle hint says 00 (the main menu from anywhere), not 1 (which is 充值)."""
    idle = PhoneModel("18900000001").screen()
    assert idle == "空中充值\n发送 00 打开菜单"
