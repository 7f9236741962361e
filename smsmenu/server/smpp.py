"""The server's SMPP side: the SMSC simulator (``[smpp] simulator``) and our ESME's binds."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from smsmenu.core.settings import ConfigError, Settings, SmppSettings
from smsmenu.core.types import Clock, InboundHandler
from smsmenu.gateway.smpp import SmppGateway
from smsmenu.gateway.smpp_config import SmppBind, parse_smpp_url
from smsmenu.gateway.smpp_receive import ReceiptHandler
from smsmenu.server import simulators

if TYPE_CHECKING:
    from smsmenu.server.simulators import SmscSimulator

log = structlog.get_logger("server")
LOCAL = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


@dataclass
class Smpp:
    """What runs of SMPP in a server: the simulator (if asked for) and our ESME."""

    settings: SmppSettings
    gateway: SmppGateway
    smsc: SmscSimulator | None = None

    async def start(self) -> None:
        """Begin binding; wait up to ``bind_wait_s`` for a first bind, then go on regardless."""
        self.gateway.start()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.settings.bind_wait_s):
                await self.gateway.wait_bound()
        if not self.gateway.bound:
            log.warning("smpp.not_bound_yet", binds=[link.bind.label for link in self.gateway.links])

    async def aclose(self) -> None:
        """Unbind (running steps answer first), then stop the simulator."""
        await self.gateway.aclose()
        if self.smsc is not None:
            await self.smsc.aclose()


def binds(settings: SmppSettings) -> list[SmppBind]:
    """The configured binds; a malformed URL is a configuration error (it names no password)."""
    out = []
    for url in settings.binds:
        try:
            out.append(parse_smpp_url(url))
        except ValueError as exc:
            raise ConfigError(f"[smpp] binds: {url.rpartition('@')[2]}: {exc}") from None
    return out


def aims_at(bind: SmppBind, host: str, port: int) -> bool:
    """Whether ``bind`` goes to the simulator at ``host:port`` (any loopback name is one)."""
    same_host = bind.host == host or (bind.host in LOCAL and host in LOCAL)
    return same_host and bind.port == port


async def prepare(settings: SmppSettings, handler: InboundHandler, on_receipt: ReceiptHandler,
                  clock: Clock) -> Smpp | None:  # fmt: skip
    """The simulator started (``simulator = true``) and our ESME built, not yet binding.

    The simulator gets an account for each bind aimed at its address; with ``simulator_port``
    0 it listens on a free port and binds naming port 0 follow it. None when there are no binds.
    """
    configured = binds(settings)
    if not configured:
        return None
    smsc = None
    if settings.simulator:
        host, port = settings.simulator_host, settings.simulator_port
        ours = [b for b in configured if aims_at(b, host, port)]
        smsc = simulators.smsc_simulator({b.system_id: b.password for b in ours}, host=host,
                                         port=port, redeliver_after=settings.simulator_redeliver_s)
        try:
            await smsc.start()
        except OSError as exc:
            raise ConfigError(f"the SMSC simulator cannot listen on {host}:{port} "
                              f"({exc.strerror or exc}); set [smpp] simulator = false or "
                              f"another simulator_port") from None  # fmt: skip
        configured = [dataclasses.replace(b, port=smsc.port) if b in ours else b
                      for b in configured]  # fmt: skip
        log.info("smsc.started", address=f"{host}:{smsc.port}", accounts=sorted(smsc.accounts))
    gateway = SmppGateway(configured, handler, on_receipt=on_receipt, clock=clock,
                          message_id_tlv=settings.message_id_tlv or None)  # fmt: skip
    return Smpp(settings, gateway, smsc)


def add_options(parser: argparse.ArgumentParser) -> None:
    """``serve``'s SMPP options."""
    parser.add_argument("--smpp", action="append", metavar="URL",
                        help="bind to smpp://SYSTEM_ID:PASSWORD@HOST:PORT (repeatable; replaces "
                             "[smpp] binds; 'none': no SMPP)")  # fmt: skip
    parser.add_argument("--no-smsc", action="store_true",
                        help="do not run the SMSC simulator ([smpp] simulator = false)")


def apply_options(settings: Settings, args: argparse.Namespace) -> Settings:
    """``--smpp`` and ``--no-smsc`` over the settings (URLs checked here, before anything runs)."""
    if args.smpp:
        settings = settings.replace("smpp", binds=tuple(u for u in args.smpp if u != "none"))
        binds(settings.smpp)
    if args.no_smsc:
        settings = settings.replace("smpp", simulator=False)
    return settings
