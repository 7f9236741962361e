"""ISMG simulator: an SMGP 3.0 server for SPs to log in to, with handsets and faults on demand."""

from __future__ import annotations

import asyncio
import itertools
import random
from types import TracebackType

import structlog

from simulator.ismg_handset import IsmgHandset
from simulator.ismg_mo import IsmgConn, IsmgMoRouter
from simulator.ismg_mt import IsmgFaults, IsmgMtDesk, IsmgStats
from smsmenu.gateway.smgp_codec import Cmd, Status
from smsmenu.gateway.smgp_packets import Bare, Login, LoginResp, Packet, Submit, refusal
from smsmenu.gateway.smgp_report import client_authenticator, server_authenticator
from smsmenu.gateway.smgp_session import SmgpSession
from smsmenu.gateway.smgp_text import UCS2

log = structlog.get_logger(__name__)


class IsmgSimulator:
    """``async with IsmgSimulator({"CLIENT": "secret"}) as ismg:`` then ``ismg.port``, handsets.

    Logins are checked as an ISMG does: the client id must be an account and its MD5
    authenticator must match the account's shared secret and the login's timestamp.
    ``redeliver_after``: seconds to wait for a DeliverResp before delivering again;
    ``active_test_interval``: ActiveTest to each logged-in SP this often (0: never).
    """

    def __init__(self, accounts: dict[str, str], *, host: str = "127.0.0.1", port: int = 0,
                 service: str = "10658", redeliver_after: float = 10.0,
                 retry_delay: float = 0.05, window: int = 16, active_test_interval: float = 30.0,
                 mo_format: int = UCS2) -> None:  # fmt: skip
        self.accounts = dict(accounts)
        self.host, self.port, self.service = host, port, service
        self.window = window
        self.active_test_interval = active_test_interval
        self.mo_format = mo_format
        self.faults = IsmgFaults()
        self.stats = IsmgStats()
        self.conns: list[IsmgConn] = []
        self._handsets: dict[str, IsmgHandset] = {}
        self._workers: list[asyncio.Task[None]] = []
        self._changed = asyncio.Condition()
        ids = itertools.count(random.randrange(10**6))  # MsgIDs differ after a restart too
        self.mt = IsmgMtDesk(self.handset, self.faults, self.stats, ids)
        self.mo = IsmgMoRouter(lambda: self.links, self._changed, self.faults, self.stats,
                               redeliver_after, retry_delay, ids)  # fmt: skip
        self._tests: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None

    @property
    def links(self) -> list[IsmgConn]:
        """Connections logged in and open."""
        return [c for c in self.conns if c.mode >= 0 and not c.session.closed]

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        if self.active_test_interval > 0:
            self._workers.append(asyncio.create_task(self._active_tests()))

    async def __aenter__(self) -> IsmgSimulator:
        await self.start()
        return self

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:  # fmt: skip
        await self.aclose()

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        await self.drop_links()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def handset(self, msisdn: str) -> IsmgHandset:
        """The handset with this number, created (with its MO worker) on first use."""
        if msisdn not in self._handsets:
            phone = self._handsets[msisdn] = IsmgHandset(msisdn, self.service, self.mo_format)
            self._workers.append(asyncio.create_task(self.mo.run(phone)))
        return self._handsets[msisdn]

    async def wait_bound(self, count: int = 1) -> None:
        """Until ``count`` SP connections are logged in."""
        async with self._changed:
            await self._changed.wait_for(lambda: len(self.links) >= count)

    async def drop_links(self) -> None:
        """Fault: cut every SP connection at once (no Exit)."""
        conns = list(self.conns)
        for conn in conns:
            conn.session.close()
        await asyncio.gather(*(c.session.aclose() for c in conns), return_exceptions=True)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        conn = IsmgConn(SmgpSession(reader, writer, lambda s, q, p: self._request(conn, q, p),
                                    window=self.window, name=f"sp {peer}"))  # fmt: skip
        self.conns.append(conn)
        try:
            await conn.session.run()
        finally:
            self.conns.remove(conn)
            await conn.session.aclose()
            await self._notify()

    async def _request(self, conn: IsmgConn, sequence: int, packet: Packet) -> None:
        session = conn.session
        if isinstance(packet, Login):
            await self._login(conn, sequence, packet)
        elif conn.mode < 0:
            session.respond(sequence, refusal(packet.COMMAND, b"", Status.BAD_COMMAND))
            session.close()  # nothing before a login
        elif isinstance(packet, Submit) and conn.sends:
            await self.mt.submit(session, sequence, packet)
        else:
            session.respond(sequence, refusal(packet.COMMAND, b"", Status.BAD_COMMAND))

    async def _login(self, conn: IsmgConn, sequence: int, login: Login) -> None:
        secret = self.accounts.get(login.client_id)
        status = Status.OK
        if conn.mode >= 0:
            status = Status.BAD_COMMAND
        elif secret is None or login.mode not in (0, 1, 2) or login.authenticator != \
                client_authenticator(login.client_id, secret, login.timestamp):  # fmt: skip
            status = Status.BAD_AUTH
        proof = server_authenticator(status, login.authenticator, secret or "")
        conn.session.respond(sequence, LoginResp(status, proof if status == Status.OK else b""))
        if status != Status.OK:
            self.stats.login_failures += 1
            log.info("ismg.login_refused", client_id=login.client_id, status=int(status))
            if conn.mode < 0:
                conn.session.close()
            return
        conn.client_id, conn.mode = login.client_id, login.mode
        self.stats.logins += 1
        await self._notify()

    async def _active_tests(self) -> None:
        """ActiveTest to every logged-in link each interval; one unanswered drops it."""
        while True:
            await asyncio.sleep(self.active_test_interval)
            for conn in self.links:
                task = asyncio.create_task(self._active_test(conn))
                self._tests.add(task)
                task.add_done_callback(self._tests.discard)

    async def _active_test(self, conn: IsmgConn) -> None:
        try:
            await conn.session.request(Bare(Cmd.ACTIVE_TEST))
            self.stats.active_tests_answered += 1
        except TimeoutError:
            log.info("ismg.active_test_unanswered", client_id=conn.client_id)
            conn.session.close()
        except ConnectionError:
            pass


__all__ = ["IsmgFaults", "IsmgHandset", "IsmgSimulator", "IsmgStats"]
