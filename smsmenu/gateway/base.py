"""The one small interface every transport implements, and a test double."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType

from smsmenu.types import Msisdn


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
