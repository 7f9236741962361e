"""`recover.done` is logged (info) only for a round that settled something, not every 30 s."""

from __future__ import annotations

from typing import Any

import pytest
import structlog
from ledger_support import AGENT, CUSTOMER, TX

from ledger import Ledger, recharge
from ledger.api import RechargeRequest
from simulator.billing import BillingSimulator
from smsmenu.core.types import TargetKind

pytestmark = pytest.mark.both_engines


def _done(logs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The ``recover.done`` lines: (level, counts)."""
    return [(e["log_level"], {k: e[k] for k in ("posted", "voided", "kept")})
            for e in logs if e["event"] == "recover.done"]


async def test_an_idle_round_logs_nothing(agent: dict[str, Any], ledger: Ledger) -> None:
    """Nothing pending: no ``recover.done`` line at all."""
    with structlog.testing.capture_logs() as logs:
        assert await ledger.recover() == {"posted": 0, "voided": 0, "kept": 0}
    assert _done(logs) == []


async def test_a_round_that_only_kept_logs_at_debug(agent: dict[str, Any], ledger: Ledger,
                                                    billing: BillingSimulator) -> None:
    """BOSS still silent: the reservation is kept and the line is debug, not info; the round
    that settles it logs at info."""
    await ledger.op(recharge.begin, request=RechargeRequest(
        key="r1", msisdn=AGENT, kind=TargetKind.MOBILE, target=CUSTOMER, amount_fen=10_000,
        tx_password=TX))
    billing.down = True
    with structlog.testing.capture_logs() as logs:
        await ledger.recover()
        await ledger.recover()
    assert [level for level, _ in _done(logs)] in ([], ["debug", "debug"])
    billing.down = False
    with structlog.testing.capture_logs() as logs:
        await ledger.recover()
    assert _done(logs) == [("info", {"posted": 1, "voided": 0, "kept": 0})]
