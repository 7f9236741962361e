"""Menu-engine fixtures: a restartable rig (ledger + engine on one file) with an open agent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from states_support import MakeRig, Rig

from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.settings import Settings


@pytest.fixture
async def make_rig(settings: Settings, billing: BillingSimulator, clock: ManualClock,
                   tmp_path: Path) -> AsyncIterator[MakeRig]:
    """``await make_rig(lang="en")``: a rig with the agent open (500 yuan); closed after the test.

    With ``name`` the rig is a world of its own (database ``name``.db, clock, billing), so one
    test can run several; without, it uses the ``settings``, ``billing`` and ``clock`` fixtures.
    """
    rigs: list[Rig] = []

    async def make(lang: str = "zh", agent: bool = True, name: str | None = None) -> Rig:
        if name is None:
            rig = Rig(settings, billing, clock, lang)
        else:
            own = ManualClock(clock.now())
            rig = Rig(settings.replace("ledger", db=str(tmp_path / f"{name}.db")),
                      BillingSimulator(clock=own), own, lang)
        rigs.append(await rig.open())
        if agent:
            await rig.open_agent()
        return rig

    yield make
    for rig in rigs:
        await rig.aclose()


@pytest.fixture
async def rig(make_rig: MakeRig) -> Rig:
    """A zh rig with the agent 18912345678 (passwords 123456 / 654321, 500 yuan deposit)."""
    return await make_rig()
