"""The ledger core: one async object that runs each operation as one transaction."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, Self, TypeVar

import aiosqlite
import structlog

from ledger import admin, agents, credentials, recharge, reversal
from ledger.api import (
    AgentInfo,
    AgentOpened,
    Closed,
    Deposit,
    DepositChannel,
    MsisdnChange,
    PasswordChange,
    Recharge,
)
from ledger.audit import SYSTEM, Actor
from ledger.context import Env, Rules
from ledger.events import Notifier
from ledger.numberplan import NumberPlan
from ledger.passwords import load_secret
from ledger.store import engine, queries, schema
from ledger.store.pg import PgReader
from ledger.store.pg_writer import PgWriter
from ledger.store.writer import Writer
from ledger.verify import invariants
from smsmenu.core.clock import iso
from smsmenu.core.settings import Settings
from smsmenu.core.types import Billing, Clock

T = TypeVar("T")
log = structlog.get_logger("ledger")


class LedgerCore:
    """The operations that need no billing, and the plumbing (writer, reader, clock)."""

    def __init__(self, writer: Writer, reader: queries.Reader, env: Env, billing: Billing,
                 clock: Clock) -> None:
        self.writer = writer
        self.reader = reader
        self.env = env
        self.billing = billing
        self.clock = clock
        self.inflight: set[str] = set()
        """References this process is asking BOSS about right now (the follow-up skips them)."""
        self.unrecorded: set[str] = set()
        """References whose billing answer could not be recorded (storage failing): the
        follow-up takes them at its next round."""

    @classmethod
    async def open(cls, settings: Settings, billing: Billing, clock: Clock, *,
                   notifier: Notifier, secret: bytes | None = None,
                   plan: NumberPlan | None = None) -> Self:
        """Open (creating if needed) the database named in ``settings``; start the writer.

        ``notifier``: renders and queues what the operations tell (``ledger.events``) in
        their transactions; the ledger holds no words. ``secret``: the password key; without
        it, the secret file's (created if missing).

        ``[ledger] db`` is a SQLite path or a PostgreSQL URL (``ledger.store.engine``). On
        SQLite the writer first brings the schema to this code's version
        (``ledger.store.schema.create``: the migrations); on PostgreSQL it refuses an older
        schema (``migrations.SchemaTooOld``: ``smsmenu db migrate`` migrates, one migrator for
        N servers). Either refuses a newer one (``migrations.SchemaTooNew``).
        """
        database = engine.parse(settings.ledger.db)
        path = database.target
        if not database.postgres and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        if secret is None:  # the caller resolves SMSMENU_SECRET; the ledger reads no environment
            secret = load_secret(settings.ledger.secret_file)
        env = Env(Rules.from_settings(settings), notifier, secret,
                  plan or NumberPlan.load_default(), settings.menu.lang)
        if database.postgres:
            writer: Writer = PgWriter(path, max_batch=settings.ledger.max_batch)
            writer.start(init=schema.require)  # PostgreSQL: `smsmenu db migrate` migrates
            return cls(writer, PgReader(path), env, billing, clock)
        writer = Writer(path, synchronous=settings.ledger.synchronous,
                        max_batch=settings.ledger.max_batch)
        writer.start(init=schema.create)
        reader = await aiosqlite.connect(path)
        await reader.execute("PRAGMA query_only = 1")
        return cls(writer, reader, env, billing, clock)

    async def aclose(self) -> None:
        await self.writer.aclose()
        await self.reader.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def now(self) -> dt.datetime:
        return self.clock.now()

    async def op(self, fn: Callable[..., T], **kwargs: Any) -> T:
        """Run ``fn(conn, env, now, **kwargs)`` as one transaction; ``now`` is read here.

        The ledger's own escape hatch; callers use the typed methods or ``transaction``."""
        return await self.writer.run(partial(fn, env=self.env, now=self.now(), **kwargs))

    async def transaction(self, step: Callable[[sqlite3.Connection, Env, dt.datetime], T]) -> T:
        """Run a caller's own step (the menu's: ``ledger.inside`` operations and its tables)
        as one transaction with the ledger's rules and clock; what it writes commits together."""
        env, now = self.env, self.now()
        return await self.writer.run(lambda conn: step(conn, env, now))

    async def read(self, query: queries.Query[T]) -> T:
        return await query.fetch(self.reader)

    # -- agents ------------------------------------------------------------------------------
    async def open_agent(self, *, msisdn: str, name: str, tx_password: str, mgmt_password: str,
                         rate_ppm: int | None = None, lang: str | None = None,
                         actor: Actor = SYSTEM) -> AgentOpened:
        """R-1..R-3: a new agent on a CDMA number, with its two passwords. Each operator
        operation takes the ``actor`` its audit row names (``ledger.audit``)."""
        return await self.writer.run(partial(
            admin.open_agent, env=self.env, now=self.now(), msisdn=msisdn, name=name,
            tx_password=tx_password, mgmt_password=mgmt_password, rate_ppm=rate_ppm, lang=lang,
            actor=actor))

    async def deposit(self, *, key: str, msisdn: str, amount_fen: int,
                      channel: DepositChannel | str, actor: Actor = SYSTEM) -> Deposit:
        """R-8 (counter) or R-9 (online); a repeated key returns the first deposit."""
        return await self.writer.run(partial(
            admin.deposit, env=self.env, now=self.now(), key=key, msisdn=msisdn,
            amount_fen=amount_fen, channel=channel, actor=actor))

    async def set_flag(self, *, msisdn: str, suspended: bool | None = None, unlock: bool = False,
                       rate_ppm: int | None = None, actor: Actor = SYSTEM) -> AgentInfo:
        """Operator switches: phone suspended (R-5), unlock (R-2), commission rate."""
        return await self.writer.run(partial(
            admin.set_flag, env=self.env, now=self.now(), msisdn=msisdn, suspended=suspended,
            unlock=unlock, rate_ppm=rate_ppm, actor=actor))

    async def close_agent(self, *, key: str, msisdn: str, actor: Actor = SYSTEM) -> Closed:
        """R-6: close, refunding a balance under the limit in cash."""
        return await self.writer.run(partial(admin.close, env=self.env, now=self.now(), key=key,
                                             msisdn=msisdn, actor=actor))

    async def change_password(self, *, msisdn: str, purpose: str, old: str,
                              new: str) -> PasswordChange:
        """R-21: replace the ``tx`` or ``mgmt`` password, the old one checked first."""
        return await self.writer.run(partial(
            credentials.change_password, env=self.env, now=self.now(), msisdn=msisdn,
            purpose=purpose, old=old, new=new))

    async def change_msisdn(self, *, msisdn: str, new_msisdn: str,
                            mgmt_password: str) -> MsisdnChange:
        """R-7: bind the agent to another number, confirmed by the management password."""
        return await self.writer.run(partial(
            credentials.change_msisdn, env=self.env, now=self.now(), msisdn=msisdn,
            new_msisdn=new_msisdn, mgmt_password=mgmt_password))

    async def agent(self, msisdn: str) -> AgentInfo:
        def show(conn: sqlite3.Connection, env: Env, now: dt.datetime) -> AgentInfo:
            return admin.info(conn, env, agents.get(conn, msisdn))
        return await self.op(show)

    async def check_password(self, msisdn: str, purpose: str, password: str) -> AgentInfo:
        """Verify a password (counting toward lockout); the agent's view when it matches."""
        def check(conn: sqlite3.Connection, env: Env, now: dt.datetime) -> AgentInfo:
            agent = agents.get_open(conn, msisdn)
            agents.check_password(conn, env, now, agent, purpose, password)
            return admin.info(conn, env, agent)
        return await self.op(check)

    # -- recharges ---------------------------------------------------------------------------
    async def mark_invoice(self, recharge_id: int, actor: Actor = SYSTEM) -> Recharge:
        """R-25: the customer took an invoice; the recharge can no longer be reversed."""
        return await self.op(reversal.mark_invoice, recharge_id=recharge_id, actor=actor)

    async def get_recharge(self, recharge_id: int) -> Recharge:
        return await self.writer.run(partial(recharge.get, recharge_id=recharge_id))

    async def _agent_id(self, msisdn: str) -> int:
        return (await self.agent(msisdn)).agent_id

    async def failed(self, msisdn: str, limit: int = 50, offset: int = 0) -> list[Recharge]:
        return await self.read(queries.failed(await self._agent_id(msisdn), limit, offset))

    async def records(self, msisdn: str, start: dt.datetime | None = None,
                      end: dt.datetime | None = None, limit: int = 50,
                      offset: int = 0) -> list[Recharge]:
        """R-21: recharges created in [start, end)."""
        query = queries.records(await self._agent_id(msisdn), iso(start) if start else "",
                                iso(end) if end else "9999", limit, offset)
        return await self.read(query)

    # -- verification ------------------------------------------------------------------------
    async def verify(self) -> dict[str, list[str]]:
        """Every invariant by name with its breaches; all lists empty when the ledger is sound."""
        cutoff = iso(self.now() - self.env.rules.reservation_timeout)
        return {name: await self.read(query) for name, query in invariants(cutoff)}
