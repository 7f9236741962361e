"""Readiness: may the server take traffic? Start-up recovery done, storage writable, parts up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ledger import Ledger
from ledger.store import health
from smsmenu.core.errors import SmsmenuError
from smsmenu.core.health import Report, why_not
from smsmenu.gateway.base import Gateway

"""What ``/healthz`` answers: ok, ready, ledger, storage, recovered, gateways (and why not)."""


@dataclass
class Readiness:
    """The server's start-up state, injected into the HTTP app (``app.READINESS``).

    ``recovered`` turns true once start-up recovery has run and the server is serving; storage
    is probed at each ask by one tiny durable write through the writer (``probe_timeout_s``),
    shared by concurrent asks.
    """

    recovered: bool = False
    probe_timeout_s: float = 2.0
    _probe: asyncio.Task[str | None] | None = field(default=None, repr=False)

    async def storage(self, ledger: Ledger) -> str | None:
        """Why the database cannot be written now (a failed probe, a failing last commit); or None."""
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(ledger.writer.probe(self.probe_timeout_s))
        problem = await asyncio.shield(self._probe)
        failure = ledger.writer.failure
        if problem is None and failure is not None:
            problem = f"{failure.error} (since {failure.since_iso})"
        return problem


async def report(ledger: Ledger, readiness: Readiness, gateways: Sequence[Gateway]) -> Report:
    """Ready: recovered, the ledger answers reads and storage takes writes; ok: ready and every
    gateway bound."""
    try:
        await ledger.read(health.ping())
        answers = True
    except SmsmenuError:
        answers = False
    problem = await readiness.storage(ledger)
    bound = {g.name: g.bound for g in gateways}
    ready = readiness.recovered and answers and problem is None
    body: Report = {"ok": ready and all(bound.values()), "ready": ready, "ledger": answers,
                    "storage": "ok" if problem is None else "failing",
                    "recovered": readiness.recovered, "gateways": bound}
    if problem is not None:
        body["storage_error"] = problem
    return body


async def wait_ready(ledger: Ledger, readiness: Readiness, gateways: Sequence[Gateway], *,
                     every: float = 0.5, waiting: Callable[[str], None] | None = None) -> Report:
    """Ask until ready (gateways may still be binding); ``waiting`` hears why, once per reason."""
    said = ""
    while not (body := await report(ledger, readiness, gateways))["ready"]:
        reason = why_not(body)
        if waiting is not None and reason != said:
            waiting(reason)
            said = reason
        await asyncio.sleep(every)
    return body
