"""The one small interface every transport implements, and a test double."""

from __future__ import annotations

import functools
import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType

from ledger.numberplan import NumberPlan
from smsmenu.core.errors import TransportError
from smsmenu.core.types import Health, Inbound, LinkHealth, Msisdn, Reply

__all__ = ["Health", "LinkHealth"]  # re-exported: transports build them


class SenderBusy(TransportError):
    """The handler refused a message at once: too many of its number wait already (SMPP
    answers ESME_RX_T_APPN and the SMSC delivers it again later; HTTP answers 503)."""

    http_status = 503


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the far end said: its message id (for delivery receipts), if it gave one."""

    message_id: str | None = None


class Gateway(ABC):
    """A transport's sending side. Inbound traffic is handed to an ``InboundHandler``.

    ``send`` returns once the far end accepted the message (e.g. ``submit_sm_resp`` OK) and
    raises ``errors.TransportError`` when it did not; the outbox keeps the message and retries.
    ``bound``: whether it can send now (the outbox drain skips a gateway that is not, and
    ``/healthz`` says so); a transport with no connection to keep (an HTTP client) is always
    bound. ``health`` describes it for ``/metrics``.
    """

    name: str = "gateway"

    @property
    def bound(self) -> bool:
        """Whether ``send`` can go out now."""
        return True

    def health(self) -> Health:
        """The state ``/metrics`` and operators see; by default just ``bound``."""
        return Health(self.bound)

    @abstractmethod
    async def send(self, message: Reply) -> SendResult:
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

    def __init__(self, handler: Callable[[Reply], Awaitable[SendResult] | SendResult]) -> None:
        self._handler = handler
        self.closed = False

    async def send(self, message: Reply) -> SendResult:
        result = self._handler(message)
        if isinstance(result, SendResult):
            return result
        return await result

    async def aclose(self) -> None:
        self.closed = True


@dataclass(frozen=True, slots=True)
class Answered:
    """An ``Answer`` made of its parts (what ``FunctionHandler`` returns)."""

    replies: list[Reply]
    final: bool = False
    replayed: bool = False


class FunctionHandler:
    """An ``InboundHandler`` around a function (tests, benchmarks): senders cleaned by
    ``sender_msisdn`` with ``plan``; the function's replies are the answer."""

    def __init__(self, function: Callable[[Inbound], Awaitable[list[Reply]]],
                 plan: NumberPlan | None = None) -> None:
        self.function = function
        self.plan = plan

    def sender(self, raw: str) -> Msisdn | None:
        return sender_msisdn(raw, self.plan)

    async def __call__(self, msg: Inbound) -> Answered:
        return Answered(await self.function(msg))


SENDER = re.compile(r"\+?[0-9]{5,20}")
"""A sender address every transport accepts: digits, optionally after one ``+``."""


@functools.cache
def _shipped_plan() -> NumberPlan:
    return NumberPlan.load_default()


def sender_msisdn(raw: str, plan: NumberPlan | None = None) -> Msisdn | None:
    """The number a transport's sender address names, or None when it names no phone.

    The number plan's country codes come off (``+86``, ``0086``, and ``86`` when more than a
    mobile number's digits follow), then a leading ``+``: ``+8618900000001``, ``8618900000001``
    and ``008618900000001`` all give ``18900000001``. Every transport cleans its sender here,
    through its handler's ``sender`` (``InboundHandler``), which owns the plan.
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
