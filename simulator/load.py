"""Load generator: N agents walking recharge dialogs as fast as answered; throughput, latency, verify."""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.store.inspect import open_agent_recharges
from simulator.load_agents import MGMT, TX, Agent, Tally
from simulator.load_report import figures, percentile, render
from simulator.load_rig import Rig, remote_server
from simulator.load_spawn import spawned_server
from smsmenu.core import refno
from smsmenu.core.health import WAIT_S
from smsmenu.core.settings import Settings, load_settings

DEPOSIT_FEN = 100_000_000
"""Each agent's float: a million yuan, more than any run can spend."""
MAX_AGENTS = 9999
OwnServer = Callable[[Settings, str], AbstractAsyncContextManager[Rig]]
"""A whole server in this process under a rig (``smsmenu.server.simulators.own_server``)."""
"""Agent numbers are 133, four digits of the run, four of the agent."""


@dataclass(frozen=True)
class Progress:
    """A snapshot for the progress line."""

    elapsed: float
    duration: float
    dialogs: int
    mo: int
    errors: int
    resyncs: int = 0


@asynccontextmanager
async def _rig(via: str, server: str | None, settings: Settings | None, failure_rate: float,
               smsc_control: str | None, synchronous: str, spawn: bool,
               ready_wait: float, token: str, own: OwnServer | None) -> AsyncIterator[Rig]:
    if server is not None:
        http = via == "http"
        control = smsc_control or (f"{server.rstrip('/')}/ismg" if via == "smgp" else None)
        async with remote_server(settings or load_settings(), server,
                                 control_url=control, wait=ready_wait,
                                 api_token=token if http else "",
                                 control_token="" if http else token) as rig:
            if not failure_rate:
                yield rig
                return
            before = await _faults(rig, {"failure_rate": failure_rate})
            try:
                yield rig
            finally:  # the server's billing simulator as it was
                await _faults(rig, {"failure_rate": before["failure_rate"]})
        return
    with tempfile.TemporaryDirectory(prefix="smsmenu-load-") as tmp:
        base = settings or load_settings(env={})
        base = (base.replace("ledger", db=str(Path(tmp) / "load.db"),
                             secret_file=str(Path(tmp) / "secret"), synchronous=synchronous)
                .replace("http", port=0).replace("web", port=0)
                .replace("billing", mode="sim", url="http://127.0.0.1:0",
                         sim_failure_rate=failure_rate))
        if spawn:
            async with spawned_server(base, via, Path(tmp)) as rig:
                yield rig
        else:
            if own is None:
                raise ValueError("an in-process server needs own= "
                                 "(smsmenu.server.simulators.own_server)")
            async with own(base, via) as rig:
                yield rig


async def _faults(rig: Rig, faults: dict[str, float]) -> dict[str, Any]:
    """Set the running server's billing simulator dials; the dials as they were before."""
    assert rig.http is not None and rig.billing_url
    async with rig.http.post(f"{rig.billing_url}/faults", json={}) as resp:
        resp.raise_for_status()
        before: dict[str, Any] = await resp.json()
    async with rig.http.post(f"{rig.billing_url}/faults", json=faults) as resp:
        resp.raise_for_status()
    return before


async def fund(rig: Rig, agents: int, prefix: str) -> list[tuple[str, str]]:
    """Open and fund ``agents`` agents; their (number, recharge target) pairs."""
    pairs = [(f"{prefix}{i:04d}", f"1530{i:07d}") for i in range(1, agents + 1)]
    for msisdn, _ in pairs:
        await rig.ledger.open_agent(msisdn=msisdn, name=f"load{msisdn[-4:]}", tx_password=TX,
                                    mgmt_password=MGMT)
        await rig.ledger.deposit(key=f"load-{msisdn}", msisdn=msisdn, amount_fen=DEPOSIT_FEN,
                                 channel="counter")
    return pairs


async def run_load(*, agents: int = 10, duration: float = 10.0, via: str = "smpp",
                   billing_failure_rate: float = 0.0, server: str | None = None,
                   settings: Settings | None = None, smsc_control: str | None = None,
                   synchronous: str = "FULL", reply_timeout: float = 10.0, balance_every: int = 5,
                   spawn: bool = False, ready_wait: float = WAIT_S, token: str = "",
                   progress: Callable[[Progress], None] | None = None,
                   own: OwnServer | None = None) -> dict[str, Any]:
    """Run the load (1 to ``MAX_AGENTS`` agents); the figures, ``money`` and ``verify`` (breaches).

    Without ``server`` it starts its own server on a temp database (``synchronous`` FULL:
    durable, as in production): in this process, or with ``spawn`` in a child process bound
    over SMPP to an SMSC simulator in this one. With ``server`` it funds agents in that
    server's database (``settings``) and drives it over HTTP or its SMSC control API, once its
    ``/healthz`` answers 200 (``health.NotReady`` after ``ready_wait`` s), with ``token``:
    its ``[api] token`` (``via`` http) or its SMSC handset API's token (smpp). An own server
    gets fresh tokens. An in-process server is ``own(settings, via)`` (the caller's: the
    simulators import no server code).
    """
    if not 1 <= agents <= MAX_AGENTS:
        raise ValueError(f"agents must be 1 to {MAX_AGENTS}")
    async with _rig(via, server, settings, billing_failure_rate, smsc_control,
                    synchronous, spawn, ready_wait, token, own) as rig:
        prefix = f"133{random.randrange(1, 10_000) if server else 0:04d}"  # + 4 digits
        pairs = await fund(rig, agents, prefix)
        tally = Tally()
        line = rig.line(via, reply_timeout)
        walkers = [Agent(m, t, line.step, tally, late=line.late, balance_every=balance_every,
                         quiet=min(0.3, reply_timeout)) for m, t in pairs]
        start = time.perf_counter()
        deadline = start + duration
        tasks = [asyncio.create_task(w.run(deadline)) for w in walkers]
        while not all(t.done() for t in tasks):
            await asyncio.wait(tasks, timeout=0.5)
            if progress is not None:
                progress(Progress(time.perf_counter() - start, duration,
                                  sum(tally.dialogs.values()), tally.mo,
                                  sum(tally.errors.values()), tally.resyncs))
        for task in tasks:
            task.result()
        elapsed = time.perf_counter() - start
        money = await reconcile(rig, pairs, tally)
        breaches = {k: v for k, v in (await rig.ledger.verify()).items() if v}
    return figures(agents, via, elapsed, tally, money, breaches)


async def reconcile(rig: Rig, pairs: list[tuple[str, str]], tally: Tally) -> dict[str, Any]:
    """The money by the ledger's records, checked against the receipts the agents received.

    ``ok``: what left the agents' balances is exactly the charge (amount less commission, R-16)
    of the recharges the ledger shows succeeded, and every success receipt received names one
    of them. A succeeded recharge whose receipt never arrived is ``unconfirmed``, not an error.
    """
    debited = charged = received = succeeded = matched_fen = pending = 0
    unmatched: list[str] = []
    for msisdn, _ in pairs:
        view = await rig.ledger.agent(msisdn)
        debited += DEPOSIT_FEN - view.balance_fen
        rows = await rig.ledger.read(open_agent_recharges(msisdn))
        done = {refno.quote(r.id): r.amount_fen - r.commission_fen for r in rows
                if r.status == "succeeded"}
        pending += sum(1 for r in rows if r.status == "pending")
        receipts = tally.receipts.get(msisdn, set())
        succeeded, charged = succeeded + len(done), charged + sum(done.values())
        received += len(receipts)
        matched_fen += sum(done[ref] for ref in receipts if ref in done)
        unmatched += sorted(ref for ref in receipts if ref not in done)
    return {"debited_fen": debited, "ledger_fen": charged, "receipts_fen": matched_fen,
            "recharges_succeeded": succeeded, "receipts": received,
            "unconfirmed": succeeded - (received - len(unmatched)), "pending": pending,
            "unmatched_receipts": unmatched, "ok": debited == charged and not unmatched}


__all__ = ["Progress", "percentile", "render", "run_load"]
