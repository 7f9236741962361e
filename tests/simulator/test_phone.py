"""The Textual phone driven headless by its pilot against an in-process server, over SMPP."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from simulator.load_rig import Rig
from simulator.phone.app import PhoneApp
from simulator.phone.lines import make_line
from simulator.transcript import parse
from smsmenu.core.settings import Settings
from smsmenu.server.simulators import own_server

AGENT, TX, CUSTOMER = "18900000001", "135790", "15300001111"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture
async def rig(settings: Settings) -> AsyncIterator[Rig]:
    """The server with its SMSC simulator, ESME and handset API, free ports, the demo agent."""
    settings = settings.replace("http", port=0).replace("billing", url="http://127.0.0.1:0")
    async with own_server(settings, "smpp", demo=True) as rig:
        yield rig


def phone(rig: Rig, via: str = "smsc", record: Path | None = None) -> PhoneApp:
    token = rig.api_token if via == "http" else rig.control_token
    make = functools.partial(make_line, via, server=rig.http_url, control=rig.control_url,
                             token=token)
    return PhoneApp(make, AGENT, record=record, via=via)


async def until(pilot: Pilot[int], check: Callable[[], bool], limit: float = 10.0) -> None:
    for _ in range(int(limit / 0.02)):
        if check():
            return
        await pilot.pause(0.02)
    raise AssertionError("the phone did not get there in time")


def screen(app: PhoneApp) -> str:
    return str(app.query_one("#display", Static).render())


async def dial(pilot: Pilot[int], app: PhoneApp, text: str, expect: str) -> None:
    """Type ``text`` (long ones pasted), Enter, and wait for the screen to show ``expect``."""
    if len(text) > 3:
        app.query_one("#entry", Input).value = text
        await pilot.press("enter")
    else:
        await pilot.press(*text, "enter")
    await until(pilot, lambda: expect in app.model.screen(AGENT))


async def recharge(pilot: Pilot[int], app: PhoneApp, receipt: str) -> None:
    await pilot.click("#key-1")
    await pilot.click("#send")
    await until(pilot, lambda: "1固定电话" in app.model.screen(AGENT))
    await dial(pilot, app, "2", "C网手机号码")
    await dial(pilot, app, CUSTOMER, "请输入金额")
    await dial(pilot, app, "100", "请核对")
    await dial(pilot, app, "1", "请输入交易密码")
    await dial(pilot, app, TX, receipt)


async def test_complete_recharge_on_the_keypad(rig: Rig, tmp_path: Path) -> None:
    """Keys and keyboard walk a recharge; the customer's handset shows up with its notice."""
    record = tmp_path / "session.txt"
    app = phone(rig, record=record)
    async with app.run_test(size=(124, 34)) as pilot:
        await until(pilot, lambda: "已开通" in "".join(m.text for m in
                                                      app.model.handsets[AGENT].inbox))
        await recharge(pilot, app, "充值成功")
        assert "单号" in screen(app)
        await until(pilot, lambda: app.model.handsets.get(CUSTOMER) is not None
                    and app.model.handsets[CUSTOMER].shown and bool(app.query(f"#hs-{CUSTOMER}")))
        assert app.model.handsets[CUSTOMER].unread == 1
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        app.save_screenshot("phone-agent.svg", str(SCREENSHOTS))
        await pilot.click(f"#hs-{CUSTOMER}")
        await pilot.pause()
        assert app.model.current == CUSTOMER and "成功充值100.00元" in screen(app)
        assert app.model.handsets[CUSTOMER].unread == 0
        app.save_screenshot("phone-customer.svg", str(SCREENSHOTS))
    script = parse(record.read_text("utf-8"))
    assert [s.text for s in script.steps if s.op == "send"] == ["1", "2", CUSTOMER, "100", "1",
                                                                TX]
    notices = [s for s in script.steps if s.op == "expect" and s.number == CUSTOMER]
    assert len(notices) == 1 and "于{}成功充值" in notices[0].text
    assert (SCREENSHOTS / "phone-agent.svg").stat().st_size > 10_000


async def test_failed_recharge_then_retry(rig: Rig) -> None:
    """Billing fails the first credit; 2 → 1 → 1 → password retries it and it succeeds."""
    assert rig.billing is not None
    rig.billing.fail_next(1)
    app = phone(rig)
    async with app.run_test(size=(124, 34)) as pilot:
        await recharge(pilot, app, "充值失败")
        await dial(pilot, app, "2", "1重复充值")
        await dial(pilot, app, "1", f"1.手机{CUSTOMER} 100.00元")
        await dial(pilot, app, "1", "请输入交易密码")
        await dial(pilot, app, TX, "充值成功")
        balance = await rig.ledger.agent(AGENT)
    assert balance.balance_fen == 100_000 - 9_800


async def test_handsets_switch_and_http_mode(rig: Rig) -> None:
    """Over HTTP a customer added by hand is on the rack; ctrl+n cycles; clear empties the line."""
    app = phone(rig, via="http")
    async with app.run_test(size=(124, 34)) as pilot:
        await pilot.click("#add")
        app.query_one("#add", Input).value = "15300002222"
        await pilot.press("enter")
        assert app.model.current == "15300002222"
        await pilot.press("ctrl+n")
        assert app.model.current == AGENT
        await pilot.click("#key-9")
        await pilot.click("#key-star")
        assert app.query_one("#entry", Input).value == "9*"
        await pilot.click("#clear")
        assert app.query_one("#entry", Input).value == ""
        await dial(pilot, app, "YE*135790", "充值账户余额1000.00元")


class _QuietLine:
    """A line that connects nowhere: enough for what the phone does without a server."""

    errors: list[str] = []

    def watch(self, msisdn: str) -> None: ...

    async def send(self, msisdn: str, text: str) -> None: ...

    async def aclose(self) -> None: ...


async def test_screenshot_command_saves_an_svg(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 13: the palette's "Screenshot" saves an SVG under var/screenshots/ (made if
    missing) and says where, instead of failing on a missing ~/Downloads."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "no-such-home"))
    app = PhoneApp(lambda deliver: _QuietLine(), AGENT)
    async with app.run_test(size=(120, 40)) as pilot:
        command, = (c for c in app.get_system_commands(app.screen) if c.title == "Screenshot")
        command.callback()  # as the palette runs it (after a 0.1 s timer)
        await pilot.pause(0.4)
        saved = list((tmp_path / "var" / "screenshots").glob("*.svg"))
        assert len(saved) == 1 and "<svg" in saved[0].read_text("utf-8")
        assert [(n.title, n.severity) for n in app._notifications] == [("Screenshot",
                                                                           "information")]


async def test_f6_makes_the_next_recharge_fail(rig: Rig) -> None:
    """F6 asks the billing simulator to refuse the next credit: the next recharge fails (its
    failure notice on screen, the refusal used up); without a billing URL F6 says what to pass."""
    assert rig.billing is not None and rig.billing_url
    token = rig.control_token
    make = functools.partial(make_line, "smsc", server=rig.http_url, control=rig.control_url,
                             token=token)
    app = PhoneApp(make, AGENT, billing_url=rig.billing_url)
    async with app.run_test(size=(124, 34)) as pilot:
        await pilot.press("f6")
        await until(pilot, lambda: rig.billing is not None and rig.billing._fail_next == 1)
        await recharge(pilot, app, "充值失败")
        assert rig.billing._fail_next == 0
    lone = PhoneApp(make, AGENT)
    async with lone.run_test(size=(124, 34)) as pilot:
        await pilot.press("f6")
        await pilot.pause()
        assert any("--billing-url" in str(n.message) for n in lone._notifications)
