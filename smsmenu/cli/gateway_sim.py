"""Running a gateway simulator standalone (`smsmenu smsc`, `smsmenu ismg`): listen, serve, stop."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from smsmenu.cli.common import ConfigError
from smsmenu.core.tokens import new_smpp_password, new_token


class Simulator(Protocol):
    """What the runner needs of the SMSC or ISMG simulator."""

    @property
    def port(self) -> int: ...
    async def start(self) -> None: ...
    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class Standalone:
    """One simulator to run until SIGINT/SIGTERM, and how to speak of it."""

    name: str
    """As printed: ``SMSC simulator``, ``ISMG simulator``."""
    host: str
    port: int
    details: str
    """The rest of the listening line: service number, redelivery."""
    control_port: int | None
    """Serve the handsets' HTTP API on 127.0.0.1 here (0: any free port; None: not at all)."""
    tokens: Sequence[str]
    """Its Bearer tokens (configured); empty: one new token, printed."""


def accounts_or_new(configured: dict[str, str]) -> tuple[dict[str, str], bool]:
    """The accounts to accept, and whether they were made up here: never a well-known password
    (anyone could log in and take the agents' MO), so a new one, printed once."""
    if configured:
        return configured, False
    return {"smsmenu": new_smpp_password()}, True


async def run_standalone(sim: Simulator, how: Standalone, accounts: dict[str, str],
                         generated: bool, control_app: Callable[[Sequence[str]], web.Application],
                         stats: Callable[[], str]) -> int:
    """Start ``sim``, print where it listens (the accounts; a generated secret in clear, once),
    serve its handsets' API if asked, wait for a signal, stop and print ``stats()``."""
    try:
        await sim.start()
    except OSError as exc:
        raise ConfigError(f"cannot listen on {how.host}:{how.port}: {exc.strerror or exc}") \
            from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner: web.AppRunner | None = None
    try:
        shown = ", ".join(f"{i}:{pw}" if generated else i for i, pw in sorted(accounts.items()))
        print(f"{how.name} listening on {how.host}:{sim.port} (accounts: {shown}; "
              f"{how.details})", flush=True)
        if how.control_port is not None:
            tokens = tuple(how.tokens) or (new_token(),)
            runner = web.AppRunner(control_app(tokens), access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", how.control_port).start()
            print(f"handsets' API on http://127.0.0.1:{runner.addresses[0][1]} (Bearer "
                  f"{tokens[0]})", flush=True)
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if runner is not None:
            await runner.cleanup()
        await sim.aclose()
        print(f"{how.name} stopped ({stats()})", flush=True)
    return 0
