"""The server's SMGP side: the ISMG simulator (``[smgp] simulator``) and our links to an ISMG."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from smsmenu.core.settings import ConfigError, Settings, SmgpSettings
from smsmenu.core.types import Clock, InboundHandler
from smsmenu.gateway.smgp import SmgpGateway
from smsmenu.gateway.smgp_config import SmgpLinkConfig, parse_smgp_url
from smsmenu.gateway.smpp_receive import ReceiptHandler
from smsmenu.server import simulators
from smsmenu.server.smpp import LOCAL

if TYPE_CHECKING:
    from smsmenu.server.simulators import IsmgSimulator

log = structlog.get_logger("server")


@dataclass
class Smgp:
    """What runs of SMGP in a server: the ISMG simulator (if asked for) and our links."""

    settings: SmgpSettings
    gateway: SmgpGateway
    ismg: IsmgSimulator | None = None

    async def start(self) -> None:
        """Begin logging in; wait up to ``login_wait_s`` for the links, then go on regardless."""
        self.gateway.start()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.settings.login_wait_s):
                await self.gateway.wait_bound()
        if not all(link.bound for link in self.gateway.links):
            log.warning("smgp.not_logged_in_yet",
                        links=[link.config.label for link in self.gateway.links])  # fmt: skip

    async def aclose(self) -> None:
        """Exit the links (running steps answer first), then stop the simulator."""
        await self.gateway.aclose()
        if self.ismg is not None:
            await self.ismg.aclose()


def links(settings: SmgpSettings) -> list[SmgpLinkConfig]:
    """The configured links; a malformed URL is a configuration error (naming no secret)."""
    out = []
    for url in settings.links:
        try:
            out.append(parse_smgp_url(url))
        except ValueError as exc:
            raise ConfigError(f"[smgp] links: {url.rpartition('@')[2]}: {exc}") from None
    return out


def aims_at(link: SmgpLinkConfig, host: str, port: int) -> bool:
    """Whether ``link`` goes to the simulator at ``host:port`` (any loopback name is one)."""
    same_host = link.host == host or (link.host in LOCAL and host in LOCAL)
    return same_host and link.port == port


async def prepare(settings: SmgpSettings, handler: InboundHandler, on_receipt: ReceiptHandler,
                  clock: Clock) -> Smgp | None:  # fmt: skip
    """The simulator started (``simulator = true``) and our links built, not yet logging in;
    None when there are no links. The simulator gets an account for each link aimed at it."""
    configured = links(settings)
    if not configured:
        return None
    ismg = None
    if settings.simulator:
        host, port = settings.simulator_host, settings.simulator_port
        ours = [c for c in configured if aims_at(c, host, port)]
        ismg = simulators.ismg_simulator({c.client_id: c.secret for c in ours}, host=host,
                                         port=port, redeliver_after=settings.simulator_redeliver_s)
        try:
            await ismg.start()
        except OSError as exc:
            raise ConfigError(f"the ISMG simulator cannot listen on {host}:{port} "
                              f"({exc.strerror or exc}); set [smgp] simulator = false or "
                              f"another simulator_port") from None  # fmt: skip
        configured = [dataclasses.replace(c, port=ismg.port) if c in ours else c
                      for c in configured]  # fmt: skip
        log.info("ismg.started", address=f"{host}:{ismg.port}", accounts=sorted(ismg.accounts))
    gateway = SmgpGateway(configured, handler, on_receipt=on_receipt, clock=clock)
    return Smgp(settings, gateway, ismg)


def add_options(parser: argparse.ArgumentParser) -> None:
    """``serve``'s SMGP options."""
    parser.add_argument("--smgp", action="append", metavar="URL",
                        help="log in to an ISMG: smgp://CLIENT_ID:SECRET@HOST:PORT?sp=10658&mode=2 "
                             "(repeatable, e.g. one link per mode; replaces [smgp] links; "
                             "'none': no SMGP)")  # fmt: skip


def apply_options(settings: Settings, args: argparse.Namespace) -> Settings:
    """``--smgp`` over the settings (URLs checked here, before anything runs)."""
    if args.smgp:
        settings = settings.replace("smgp", links=tuple(u for u in args.smgp if u != "none"))
        links(settings.smgp)
    return settings
