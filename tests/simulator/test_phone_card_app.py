"""The Textual phone in card mode, driven by its pilot: the card's screens, hidden PIN, hex, record."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from test_phone import AGENT, TX, dial, until
from textual.widgets import Input

from simulator.load_rig import Rig
from simulator.phone.app import PhoneApp
from simulator.phone.card_mode import CardHandset, CardSetup
from simulator.phone.lines import make_line
from simulator.phone.widgets import HexPane
from simulator.transcript import parse
from smsmenu.core.settings import Settings
from smsmenu.server.simulators import own_server


@pytest.fixture
async def rig(settings: Settings) -> AsyncIterator[Rig]:
    settings = settings.replace("http", port=0).replace("billing", url="http://127.0.0.1:0")
    async with own_server(settings, "smpp", demo=True) as rig:
        yield rig


async def test_a_balance_query_on_the_card(rig: Rig, tmp_path: Path) -> None:
    """Main menu on screen; 3 → 1 asks the PIN hidden; the card sends YE and the answer lands
    in the inbox; Esc backs out of a menu; F5 shows the hex; the recording is card mode's."""
    record = tmp_path / "card.txt"
    make = functools.partial(make_line, "smsc", server=rig.http_url, control=rig.control_url,
                             token=rig.control_token)
    card = CardHandset(AGENT, CardSetup(None))
    app = PhoneApp(make, AGENT, record=record, card=card)
    async with app.run_test(size=(124, 40)) as pilot:
        assert app.model.screen(AGENT).startswith("空中充值\n1充值")
        assert "card 898600000001" in app.sub_title
        await dial(pilot, app, "3", "1余额查询")
        await pilot.press("escape")
        assert app.model.screen(AGENT).endswith("[选择] [退出]")
        await dial(pilot, app, "3", "1余额查询")
        await dial(pilot, app, "1", "交易密码")
        assert app.query_one("#entry", Input).password
        assert not app.query_one(HexPane).display
        await pilot.press("f5")
        assert app.query_one(HexPane).display
        await dial(pilot, app, TX, "正在发送…")
        assert not app.query_one("#entry", Input).password
        await until(pilot, lambda: any("充值账户余额" in m.text
                                       for m in app.model.handsets[AGENT].inbox))
    assert any("D3 07 82 02 01 81 90 01 03" in line for line in card.log)
    script = parse(record.read_text("utf-8"))
    assert script.headers["mode"] == "card"
    assert [s.text for s in script.steps if s.op == "send"] == ["3", "back", "3", "1", TX]
    replies = [s.text for s in script.steps if s.op == "expect"]
    assert replies[-2:] == ["正在发送…", "充值账户余额1000.00元，可用1000.00元。"]
