"""The simulators (BOSS, SMSC, ISMG, bank, phone, load) as the server and the testers' commands use them.

The only module of ``smsmenu`` that imports ``simulator``, and only inside these functions: a
production ``serve`` never loads a simulator module (``tests/core/test_layers.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from smsmenu.core.settings import Settings
from smsmenu.core.types import Billing, Clock

if TYPE_CHECKING:
    from simulator.billing import BillingSimulator as BillingSimulator
    from simulator.billing_store import BooksFile
    from simulator.ismg import IsmgSimulator as IsmgSimulator
    from simulator.load import Progress as Progress
    from simulator.load_rig import Rig
    from simulator.smsc import SmscSimulator as SmscSimulator


def billing_simulator(*, clock: Clock | None = None, latency: float = 0.0,
                      failure_rate: float = 0.0, timeout_rate: float = 0.0,
                      timeout_applies: float = 0.5, seed: int | None = 0) -> BillingSimulator:
    """A simulated BOSS in this process."""
    from simulator.billing import BillingSimulator

    return BillingSimulator(clock=clock, latency=latency, failure_rate=failure_rate,
                            timeout_rate=timeout_rate, timeout_applies=timeout_applies, seed=seed)


def simulated(billing: Billing) -> BillingSimulator | None:
    """``billing`` when it is the simulator (served over HTTP beside the server), else None."""
    if type(billing).__module__ != "simulator.billing":
        return None
    from simulator.billing import BillingSimulator

    return billing if isinstance(billing, BillingSimulator) else None


def billing_app(sim: BillingSimulator) -> web.Application:
    """The simulated BOSS's HTTP API (the protocol of ``smsmenu.core.billing_wire``)."""
    from simulator.billing_http import billing_app as app

    return app(sim)


def books_file(path: str) -> BooksFile:
    """The simulated BOSS's books on disk (``billing-sim --state``)."""
    from simulator.billing_store import BooksFile
    from simulator.ismg import IsmgSimulator as IsmgSimulator

    return BooksFile(path)


def smsc_simulator(accounts: dict[str, str], *, host: str = "127.0.0.1", port: int = 0,
                   service: str = "10658", redeliver_after: float = 30.0) -> SmscSimulator:
    """A simulated SMSC (SMPP server, handsets) for these ESME accounts; not yet started."""
    from simulator.smsc import SmscSimulator as SmscSimulator

    return SmscSimulator(accounts, host=host, port=port, service=service,
                         redeliver_after=redeliver_after)


def smsc_control_app(smsc: SmscSimulator, *, tokens: Sequence[str]) -> web.Application:
    """The handsets' HTTP API of an SMSC simulator (Bearer ``tokens``)."""
    from simulator.smsc_http import smsc_control_app as app

    return app(smsc, tokens=tokens)


def bank_app(key: bytes) -> web.Application:
    """The simulated bank of the portal's online top-up (demo mode only)."""
    from simulator.bank import bank_app as app

    return app(key)


@dataclass(frozen=True)
class PhoneCard:
    """Card mode's options (``smsmenu phone --card``): where cards are kept (None: not kept),
    a new card's menu language and OTA key (hex; None: derived from the server's secret in
    ``settings`` when readable), and whether every card exchange is shown as hex."""

    folder: str | None
    lang: str = "zh"
    key: str | None = None
    settings: Settings | None = None
    show_hex: bool = False


async def phone(*, via: str, server: str, control: str | None, token: str, msisdn: str,
                script: str | None, reply_wait: float, billing_url: str | None,
                record: str | None, card: PhoneCard | None = None) -> int:
    """The terminal phone (interactive), or ``script`` played headless: its exit code.

    ``card``: card mode (the agent's handset runs the 空中充值 UTK card)."""
    from simulator.phone.card_mode import CardSetup
    from simulator.phone.run import run_phone

    setup = None if card is None else CardSetup(
        Path(card.folder) if card.folder else None, card.lang,
        bytes.fromhex(card.key) if card.key else None, card.settings)
    return await run_phone(via=via, server=server, control=control, token=token, msisdn=msisdn,
                           script=Path(script) if script else None, reply_wait=reply_wait,
                           billing_url=billing_url, record=Path(record) if record else None,
                           card=setup, show_hex=bool(card and card.show_hex))


def max_load_agents() -> int:
    """How many agents ``smsmenu load`` may walk at once."""
    from simulator.load import MAX_AGENTS

    return MAX_AGENTS


async def load(*, agents: int, duration: float, via: str, billing_failure_rate: float,
               server: str | None, settings: Settings | None, smsc_control: str | None,
               synchronous: str, reply_timeout: float, spawn: bool, ready_wait: float, token: str,
               progress: Callable[[Progress], None] | None) -> dict[str, Any]:
    """``simulator.load.run_load``, with this process's own server (``running()``) available."""
    from simulator.load import run_load

    return await run_load(agents=agents, duration=duration, via=via,
                          billing_failure_rate=billing_failure_rate, server=server,
                          settings=settings, smsc_control=smsc_control, synchronous=synchronous,
                          reply_timeout=reply_timeout, spawn=spawn, ready_wait=ready_wait,
                          token=token, progress=progress, own=own_server)


def load_table(result: dict[str, Any]) -> str:
    """The load run's figures as a table."""
    from simulator.load import render

    return render(result)


def own_server(settings: Settings, via: str, *, window: int | None = None,
               demo: bool = False) -> AbstractAsyncContextManager[Rig]:
    """The whole server in this process under a load rig (``simulator.load_rig.own_server``)."""
    from simulator.load_rig import own_server as rig
    from smsmenu.server.main import running

    return rig(running, settings, via, window=window, demo=demo)



def ismg_simulator(accounts: dict[str, str], *, host: str = "127.0.0.1", port: int = 0,
                   service: str = "10658", redeliver_after: float = 30.0) -> IsmgSimulator:
    """A simulated ISMG (SMGP server, handsets) for these SP accounts; not yet started."""
    from simulator.ismg import IsmgSimulator as IsmgSimulator

    return IsmgSimulator(accounts, host=host, port=port, service=service,
                         redeliver_after=redeliver_after)


def ismg_control_app(ismg: IsmgSimulator, *, tokens: Sequence[str]) -> web.Application:
    """The handsets' HTTP API of an ISMG simulator (the SMSC simulator's routes, Bearer ``tokens``)."""
    from simulator.smsc_http import smsc_control_app as app

    return app(ismg, tokens=tokens)
