"""Card mode against a running server: whole operations on the card, headless, in zh and en."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from simulator.load_rig import Rig
from smsmenu.card.push import push_menu
from smsmenu.cli import phone as cli_phone
from smsmenu.core.settings import Settings
from smsmenu.server.simulators import own_server

EXAMPLES = Path(__file__).resolve().parents[2] / "simulator" / "phone" / "examples"
DEMO = "18900000001"


@pytest.fixture
async def rig(settings: Settings) -> AsyncIterator[Rig]:
    """The server as `make run` has it (SMSC simulator, ESME, handset API), on free ports."""
    settings = settings.replace("http", port=0).replace("billing", url="http://127.0.0.1:0")
    async with own_server(settings, "smpp", demo=True) as rig:
        assert rig.smsc is not None
        demo = rig.smsc.handset(DEMO)
        for _ in range(2):  # the demo agent's "opened" and "deposit" notices: before any script
            await demo.receive(timeout=5)
        yield rig


def parse_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli_phone.register(parser.add_subparsers())
    return parser.parse_args(["phone", *argv])


async def play(rig: Rig, script: Path, tmp_path: Path, *extra: str, via: str = "smsc") -> int:
    token = rig.api_token if via == "http" else rig.control_token
    args = parse_args("--card", "--card-dir", str(tmp_path / "cards"), "--script", str(script),
                      "--via", via, "--server", rig.http_url, "--billing-url",
                      rig.billing_url or "", "--timeout", "5", f"--token={token}", *extra)
    return await cli_phone.phone(args)


async def test_card_recharge_resend_balance_password_zh(
        rig: Rig, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The shipped card transcript over SMPP: one recharge charged once though sent twice."""
    code = await play(rig, EXAMPLES / "card_recharge.txt", tmp_path)
    assert code == 0, capsys.readouterr().out
    assert (await rig.ledger.agent(DEMO)).balance_fen == 100_000 - 9_800
    card = (tmp_path / "cards" / f"card-{DEMO}.json").read_text("utf-8")
    assert '"counter": 4' in card  # recharge, balance, password, records (the resend: no new)


async def test_card_retry_zh(rig: Rig, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    """The shipped retry transcript: billing refuses, the card retries by id (R-18)."""
    assert await play(rig, EXAMPLES / "card_retry.txt", tmp_path) == 0, capsys.readouterr().out
    assert (await rig.ledger.agent(DEMO)).balance_fen == 100_000 - 4_900


EN_AGENT = "18900000002"
EN_SCRIPT = f"""\
# An English agent's card (menu in English): a recharge that billing refuses, retried by its
# id from the card's Exceptions menu; then the management password changed from the card.
@agent {EN_AGENT}
@mode card

> 1
< Recharge
< 1Landline
< 2CDMA mobile
< 3PHS
< 4Broadband
< [Select] [Back]

> 2
< CDMA mobile number
< [OK] [Back]

> 15300003333
< Amount (10-1000 yuan)
< [OK] [Back]

> 5
< Enter 2-4 digits
< Amount (10-1000 yuan)
< [OK] [Back]

> 50
< Notice number (optional)
< [OK] [Back]

>
< Transaction password
< [OK] [Back]

! billing fail 1
> 135790
< Sending…

< Recharge {{id}} of mobile 15300003333 50.00 yuan failed: declined by billing. {{}}
< 0 main menu

> 2
< Exceptions
< 1Retry a recharge
< 2Send last command again
< [Select] [Back]

> 1
< ID of the failed recharge
< [OK] [Back]

> {{id}}
< Transaction password
< [OK] [Back]

> 135790
< Sending…

< Recharged mobile 15300003333 50.00 yuan, commission 1.00, charged 49.00, balance {{}}, no. {{}}
< 0 main menu
<@15300003333 【中国电信】您的手机15300003333于{{}}成功充值50.00元。

> 4
< Business
< 1Change management password
< [Select] [Back]

> 1
< Old management password
< [OK] [Back]

> 246800
< New management password (6 digits)
< [OK] [Back]

> 111111
< New management password again
< [OK] [Back]

> 111111
< Sending…

< [Air recharge] Your management password was changed. If this was not you, call 10000.

> 3
< Account
< 1Balance
< 2Change transaction password
< 3Recent recharges
< [Select] [Back]

> 1
< Transaction password
< [OK] [Back]

> 135790
< Sending…

< Deposit balance 951.00 yuan, available 951.00 yuan.

> exit
< Air recharge
< 1Recharge
< 2Exceptions
< 3Account
< 4Business
< [Select] [Exit]
"""


@pytest.mark.parametrize("via", ["smsc", "http"])
async def test_card_retry_and_management_password_en(
        rig: Rig, tmp_path: Path, via: str, capsys: pytest.CaptureFixture[str]) -> None:
    """An English card and agent: a refused recharge retried by id, the management password
    changed, the balance (R-18, R-21), over SMPP and over HTTP, the exchanges printed as hex."""
    await rig.ledger.open_agent(msisdn=EN_AGENT, name="Wang", tx_password="135790",
                                mgmt_password="246800", lang="en")
    await rig.ledger.deposit(key="seed-en", msisdn=EN_AGENT, amount_fen=100_000,
                             channel="counter")
    assert rig.smsc is not None
    for _ in range(2):  # its "opened" and "deposit" notices, before the script
        await rig.smsc.handset(EN_AGENT).receive(timeout=5)
    script = tmp_path / "en.txt"
    script.write_text(EN_SCRIPT, "utf-8")
    code = await play(rig, script, tmp_path, "--card-lang", "en", "--hex", via=via)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "ok, 20 messages sent, 25 replies matched" in out
    assert ">card ENVELOPE MENU SELECTION: D3 07 82 02 01 81 90 01 01" in out
    assert "card> proactive command: D0" in out
    assert "31 33 35 37 39 30" not in out and "8D 07 04 2A 2A 2A 2A 2A 2A" in out  # PIN masked
    assert (await rig.ledger.agent(EN_AGENT)).balance_fen == 100_000 - 4_900
    await rig.ledger.check_password(EN_AGENT, "mgmt", "111111")


async def test_a_menu_transcript_is_not_played_in_card_mode(
        rig: Rig, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The modes do not mix: a menu-by-SMS transcript with --card exits 2 saying so."""
    assert await play(rig, EXAMPLES / "recharge.txt", tmp_path) == 2
    assert "without --card" in capsys.readouterr().out


async def test_push_menu_reaches_the_card_through_the_server_once(
        rig: Rig, tmp_path: Path, settings: Settings) -> None:
    """An update queued on the server box goes out by the outbox and SMPP to the card, which
    applies it; the same packet again is refused (its counter is not above the card's)."""
    from simulator.phone.card_mode import CardHandset, CardSetup, card_id, server_card_key
    from simulator.phone.lines import make_line
    from simulator.smsc_handset import Received
    from smsmenu.core import ota

    key = ota.card_key(rig.ledger.env.secret, card_id(DEMO))
    assert server_card_key(settings, card_id(DEMO)) == key  # the phone on the server box
    card = CardHandset(DEMO, CardSetup(tmp_path, key=key))
    updates: list[str] = []
    texts: list[str] = []

    def deliver(msisdn: str, message: Received) -> None:
        texts.append(message.text)
        if (what := card.download(message.text)) is not None:
            updates.append(what)

    line = make_line("smsc", deliver, rig.http_url, rig.control_url, history=False,
                     token=rig.control_token)
    try:
        line.watch(DEMO)
        card.press("3"), card.press("1")
        sms = card.press("135790").sms
        assert sms is not None and sms.text.startswith(f"YE*135790#UTK{card_id(DEMO)}-1")
        await line.send(DEMO, sms.text)  # the server now knows the card on this number
        for _ in range(250):
            if texts:
                break
            await asyncio.sleep(0.02)
        pushed = await rig.ledger.transaction(lambda conn, env, now: push_menu(
            conn, env, now, msisdn=DEMO, card=None, patch='[node.recharge]\ntext = "充值缴费"\n'))
        assert (pushed.card, pushed.counter) == (card_id(DEMO), 1)
        for _ in range(250):
            if updates:
                break
            await asyncio.sleep(0.02)
    finally:
        await line.aclose()
    assert updates == ["card menu updated"]
    assert card.terminal.idle_screen().splitlines()[1] == "1充值缴费"
    packet = next(t for t in texts if t.startswith(ota.ARMOR))
    assert card.download(packet) == "card refused an update: CNTR_LOW"
    assert card.terminal.applet.state.ota_counter == 1
