"""The one small interface every transport implements, and a test double."""

from __future__ import annotations

import functools
import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType

from ledger.numberplan import NumberPlan
from smsmenu.core.types import Msisdn


@dataclass(frozen=True, slots=True)
class Outbound:
    """One SMS the platform sends: an outbox row on its way to a handset."""

    to: Msisdn
    text: str
    outbox_id: int | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the far end said: its message id (for delivery receipts), if it gave one."""

    message_id: str | None = None


class Gateway(ABC):
    """A transport's sending side. Inbound traffic is handed to an ``InboundHandler``.

    ``send`` returns once the far end accepted the message (e.g. ``submit_sm_resp`` OK) and
    raises ``errors.TransportError`` when it did not; the outbox keeps the message and retries.
    """

    name: str = "gateway"

    @abstractmethod
    async def send(self, message: Outbound) -> SendResult:
        """Hand one message to the far end; return its id once accepted."""

    async def aclose(self) -> None:
        """Stop the transport and release its sockets; idempotent."""

    async def __aenter__(self) -> Gateway:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.aclose()


class MockGateway(Gateway):
    """A gateway that calls ``handler`` instead of a wire, for tests where the wire is not the point."""

    name = "mock"

    def __init__(self, handler: Callable[[Outbound], Awaitable[SendResult] | SendResult]) -> None:
        self._handler = handler
        self.closed = False

    async def send(self, message: Outbound) -> SendResult:
        result = self._handler(message)
        if isinstance(result, SendResult):
            return result
        return await result

    async def aclose(self) -> None:
        self.closed = True


SENDER = re.compile(r"\+?[0-9]{5,20}")
"""A sender address every transport accepts: digits, optionally after one ``+``."""


@functools.cache
def _shipped_plan() -> NumberPlan:
    return NumberPlan.load_default()


def sender_msisdn(raw: str, plan: NumberPlan | None = None) -> Msisdn | None:
    """The number a transport's sender address names, or None when it names no phone.

    The number plan's country codes come off (``+86``, ``0086``, and ``86`` when more than a
    mobile number's digits follow), then a leading ``+``: ``+8618900000001``, ``8618900000001``
    and ``008618900000001`` all give ``18900000001``. Every transport cleans its sender here.
    """
    text = raw.strip()
    if not SENDER.fullmatch(text):
        return None
    plan = plan or _shipped_plan()
    for cc in plan.country_codes:
        if text.startswith(cc) and (cc.startswith("+") or len(text) > plan.mobile_length):
            text = text[len(cc) :]
            break
    return text.removeprefix("+") or None
