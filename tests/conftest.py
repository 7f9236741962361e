"""Shared fixtures: a manual clock, the billing simulator, settings on a temp dir, a ledger."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import structlog

from ledger import Ledger
from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.settings import Settings, load_settings
from smsmenu.states.notices import SmsNotices

AGENT = "18912345678"
TX = "123456"
MGMT = "654321"


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    """A test that runs the CLI configures logging to its captured stderr: undo that after it,
    so no later test logs to a closed stream."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.configure(**saved)
    root.handlers[:], root.level = handlers, level


@pytest.fixture
def clock() -> ManualClock:
    """Business time 2026-11-10 10:00 in Asia/Shanghai, moved only by the test."""
    return ManualClock("2026-11-10T10:00:00")


@pytest.fixture
def billing(clock: ManualClock) -> BillingSimulator:
    return BillingSimulator(clock=clock)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Defaults with the database and secret under the test's temp dir (fsync off: speed), the
    web portal's listener on a free port."""
    base = load_settings(env={})
    return base.replace("ledger", db=str(tmp_path / "ledger.db"),
                        secret_file=str(tmp_path / "secret"), synchronous="OFF").replace(
                            "web", port=0)


@pytest.fixture
async def ledger(settings: Settings, billing: BillingSimulator,
                 clock: ManualClock) -> AsyncIterator[Ledger]:
    async with await Ledger.open(settings, billing, clock, notifier=SmsNotices(), secret=b"k" * 32) as opened:
        yield opened


@pytest.fixture
async def agent(ledger: Ledger) -> dict[str, object]:
    """An open agent with a 500 yuan counter deposit."""
    await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
    await ledger.deposit(key="seed-deposit", msisdn=AGENT, amount_fen=50_000, channel="counter")
    return await ledger.agent(AGENT)
