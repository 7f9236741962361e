"""Per-sender bound on held MO: at most ``PER_SOURCE`` deliver_sm of one handset at a time."""

from __future__ import annotations

PER_SOURCE = 8
"""deliver_sm of one sender held at once (one at the handler, the rest waiting their turn)."""


class SenderQueues:
    """Counts the deliver_sm of each source held (admitted and not yet answered).

    ``admit(source)`` is False when ``per_source`` of that source are already held: the caller
    answers ESME_RX_T_APPN and the SMSC delivers it again later. Otherwise the caller holds one
    until ``leave(source)``. The order within a source is kept by the handler (the engine's
    per-agent turn, taken in the order the receiver calls it), not here: one place orders an
    agent's messages, whatever their channel.
    """

    def __init__(self, per_source: int = PER_SOURCE) -> None:
        self.per_source = per_source
        self._held: dict[str, int] = {}

    def __len__(self) -> int:
        """Sources with a message held."""
        return len(self._held)

    def admit(self, source: str) -> bool:
        held = self._held.get(source, 0)
        if held >= self.per_source:
            return False
        self._held[source] = held + 1
        return True

    def leave(self, source: str) -> None:
        held = self._held[source]
        if held <= 1:
            del self._held[source]
        else:
            self._held[source] = held - 1
