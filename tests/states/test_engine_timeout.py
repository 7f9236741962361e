"""The idle timeout (``[menu] idle_timeout_s``, 180 s): exactly at it the dialog goes on, after it
the agent is told the session expired and gets the main menu."""

from __future__ import annotations

import pytest
from states_support import AGENT, Rig

from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.settings import Settings

pytestmark = pytest.mark.both_engines

EXPIRED = "会话已超时，请重新选择。\n空中充值\n1充值\n2异常处理\n3账户管理\n4业务管理"


@pytest.mark.parametrize(("setting", "idle", "expired"), [
    pytest.param(None, 180, False, id="default-180s-at-180s"),
    pytest.param(None, 181, True, id="default-180s-at-181s"),
    pytest.param(60, 60, False, id="setting-60s-at-60s"),
    pytest.param(60, 61, True, id="setting-60s-at-61s"),
])
async def test_idle_timeout_boundary(settings: Settings, billing: BillingSimulator,
                                     clock: ManualClock, setting: int | None, idle: int,
                                     expired: bool) -> None:
    """Idle for exactly the timeout: the amount is taken; one second more: expired, nothing kept."""
    if setting is not None:
        settings = settings.replace("menu", idle_timeout_s=setting)
    assert settings.menu.idle_timeout_s == (setting or 180)
    rig = await Rig(settings, billing, clock).open()
    try:
        await rig.open_agent()
        for text in ["1", "2", "18012345678"]:
            await rig.send(AGENT, text)
        clock.advance(seconds=idle)
        reply = (await rig.send(AGENT, "50"))[0][1]
        assert (reply == EXPIRED) is expired
        assert reply.startswith("请核对") is not expired
        if expired:  # the dialog is gone: "1" starts a new one, it does not confirm anything
            assert (await rig.send(AGENT, "1"))[0][1].startswith("充值\n1固定电话")
    finally:
        await rig.aclose()


async def test_the_timeout_counts_from_the_last_message(rig: Rig, clock: ManualClock) -> None:
    """Each message restarts the clock: 170 s between every step never expires."""
    for text in ["1", "2", "18012345678", "50", "1"]:
        clock.advance(seconds=170)
        assert not (await rig.send(AGENT, text))[0][1].startswith("会话已超时")
    clock.advance(seconds=170)
    assert (await rig.send(AGENT, "123456"))[0][1].startswith("充值成功")


async def test_at_the_main_menu_there_is_nothing_to_expire(rig: Rig, clock: ManualClock) -> None:
    """A day later at the main menu, a key press just works (no expired notice)."""
    await rig.send(AGENT, "00")
    clock.advance(days=1)
    assert (await rig.send(AGENT, "3"))[0][1].startswith("账户管理")


async def test_a_restart_during_the_idle_time_still_expires_the_session(
        rig: Rig, clock: ManualClock) -> None:
    """The last step's time is stored: a restart does not reset the idle clock."""
    for text in ["1", "2"]:
        await rig.send(AGENT, text)
    clock.advance(seconds=100)
    await rig.restart()
    clock.advance(seconds=100)
    assert (await rig.send(AGENT, "18012345678"))[0][1] == EXPIRED
