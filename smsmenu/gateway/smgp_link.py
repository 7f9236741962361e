"""One SMGP login that keeps itself up: MD5 login, ActiveTest, back-off with jitter, Exit."""

from __future__ import annotations

import asyncio
import datetime as dt
import random

import structlog

from smsmenu.gateway.link import Link
from smsmenu.gateway.smgp_codec import Cmd, Status, status_text
from smsmenu.gateway.smgp_config import SmgpLinkConfig
from smsmenu.gateway.smgp_packets import Bare, Login, LoginResp
from smsmenu.gateway.smgp_report import client_authenticator, server_authenticator, timestamp
from smsmenu.gateway.smgp_session import InlineHandler, RequestHandler, SmgpSession

log = structlog.get_logger(__name__)


class LoginRefused(ConnectionError):
    """The ISMG answered the Login with an error status."""

    def __init__(self, status: int) -> None:
        super().__init__(f"login refused: {status_text(status)}")
        self.status = status


class SmgpLink(Link[SmgpLinkConfig, SmgpSession]):
    """``start()`` connects in the background; ``session`` is set while logged in."""

    protocol = "smgp"

    def __init__(self, config: SmgpLinkConfig, on_request: RequestHandler,
                 rng: random.Random | None = None, *, inline: InlineHandler | None = None
                 ) -> None:  # fmt: skip
        super().__init__(config, rng)
        self._on_request = on_request
        self._inline = inline

    @property
    def logins(self) -> int:
        """Logins that succeeded."""
        return self.ups

    async def _connect_and_serve(self) -> None:
        c = self.config
        reader, writer = await asyncio.wait_for(asyncio.open_connection(c.host, c.port),
                                                c.connect_timeout)  # fmt: skip
        session = SmgpSession(reader, writer, self._on_request, window=c.window,
                              response_timeout=c.response_timeout, name=c.label, tasks=self.tasks,
                              handlers=c.inbound_window, inline=self._inline)  # fmt: skip
        runner = asyncio.create_task(session.run())
        keepalive: asyncio.Task[None] | None = None
        try:
            stamp = timestamp(dt.datetime.now(dt.UTC).astimezone())
            mine = client_authenticator(c.client_id, c.secret, stamp)
            resp = await session.request(Login(c.client_id, mine, c.mode, stamp))
            if not isinstance(resp, LoginResp) or resp.status != Status.OK:
                raise LoginRefused(resp.status if isinstance(resp, LoginResp) else -1)
            if resp.authenticator.strip(b"\0") and \
                    resp.authenticator != server_authenticator(resp.status, mine, c.secret):
                log.warning("smgp.server_authenticator_mismatch", link=c.label)  # fmt: skip
            self._went_up(session)
            log.info("smgp.logged_in", link=c.label)
            keepalive = asyncio.create_task(self._keepalive(session))
            await runner
        finally:
            self._went_down()
            tasks = [runner] if keepalive is None else [runner, keepalive]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await session.aclose()

    async def _keepalive(self, session: SmgpSession) -> None:
        """ActiveTest when the ISMG was quiet for an interval; after ``active_test_retries``
        unanswered in a row the link is dropped (and made again)."""
        c, loop = self.config, asyncio.get_running_loop()
        missed = 0
        while not session.closed:
            quiet = loop.time() - session.last_heard
            if quiet < c.active_test_interval:
                await asyncio.sleep(c.active_test_interval - quiet)
                continue
            try:
                await session.request(Bare(Cmd.ACTIVE_TEST))
                missed = 0
            except TimeoutError:
                missed += 1
                log.warning("smgp.active_test_unanswered", link=c.label, missed=missed)
                if missed >= c.active_test_retries:
                    session.close()
            except ConnectionError:
                return

    async def _goodbye(self, session: SmgpSession, grace: float) -> None:
        await session.exit(grace)
