"""The demo operator's random password is printed once, with the command that sets a new one."""

from __future__ import annotations

import pytest

from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.settings import Settings
from smsmenu.server.main import running


async def test_the_demo_operator_line_says_how_to_reset_it(
        settings: Settings, clock: ManualClock, billing: BillingSimulator,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """First start: the admin password and `smsmenu operator reset-password admin`; a second
    start prints neither (the password is never shown again)."""
    monkeypatch.delenv("SMSMENU_WEB_OPERATOR", raising=False)
    settings = settings.replace("http", port=0).replace("billing", url="http://127.0.0.1:0")
    async with running(settings, clock=clock, billing=billing, demo=True):
        pass
    out = capsys.readouterr().out
    assert "demo operator: admin (supervisor)  password " in out
    assert "smsmenu operator reset-password admin" in out
    async with running(settings, clock=clock, billing=billing, demo=True):
        pass
    again = capsys.readouterr().out
    assert "demo operator" not in again and "reset-password" not in again
