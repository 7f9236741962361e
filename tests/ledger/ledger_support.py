"""Constants and small helpers shared by the ledger tests (a plain module, not collected)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ledger import Ledger
from ledger.api import RechargeRequest
from smsmenu.core.types import TargetKind

AGENT = "18912345678"
"""The ``agent`` fixture's number (same as tests/conftest.py)."""
TX = "123456"
MGMT = "654321"
CUSTOMER = "18900001111"
"""A CDMA mobile customer."""
LANDLINE = "02787654321"
"""A Wuhan landline customer (area code first, R-14)."""

Rows = list[tuple[Any, ...]]
Sql = Callable[..., Awaitable[Rows]]


async def recharge(ledger: Ledger, key: str, amount_fen: int = 10_000, *,
                   kind: TargetKind = TargetKind.MOBILE, target: str = CUSTOMER,
                   msisdn: str = AGENT, tx_password: str = TX, **kw: Any) -> dict[str, Any]:
    """One recharge with the usual defaults (100 yuan to a mobile customer)."""
    return await ledger.recharge(RechargeRequest(
            key=key, msisdn=msisdn, kind=kind, target=target, amount_fen=amount_fen,
            tx_password=tx_password, **kw))


async def available(ledger: Ledger, msisdn: str = AGENT) -> int:
    return int((await ledger.agent(msisdn)).available_fen)


def clean(breaches: dict[str, list[str]]) -> bool:
    """True when ``verify()`` found no breach at all."""
    return all(not lines for lines in breaches.values())
