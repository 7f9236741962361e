"""The ledger core: one async object that runs each operation as one transaction."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, Self, TypeVar

import aiosqlite
import structlog

from ledger import admin, agents, credentials, recharge, reversal
from ledger.context import Env, Rules
from ledger.numberplan import NumberPlan
from ledger.passwords import load_secret
from ledger.recharge import Recharge
from ledger.store import queries, schema
from ledger.store.writer import Writer
from ledger.verify import invariants
from smsmenu.core.clock import iso
from smsmenu.core.settings import Settings
from smsmenu.core.texts import Texts
from smsmenu.core.types import Billing, Clock

T = TypeVar("T")
log = structlog.get_logger("ledger")


class LedgerCore:
    """The operations that need no billing, and the plumbing (writer, reader, clock).

    Keyword arguments are those of the operation functions in ``ledger.admin``,
    ``ledger.credentials``, ``ledger.recharge`` and ``ledger.reversal``.
    """

    def __init__(self, writer: Writer, reader: aiosqlite.Connection, env: Env, billing: Billing,
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
                   secret: bytes | None = None, texts: Texts | None = None,
                   plan: NumberPlan | None = None) -> Self:
        """Open (creating if needed) the database named in ``settings``; start the writer.

        The writer first brings the schema to this code's version (``ledger.store.schema.create``:
        the migrations; ``migrations.SchemaTooNew`` for a newer database). The migrations
        define every table.
        """
        path = settings.ledger.db
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        if secret is None:
            secret = load_secret(settings.ledger.secret_file, os.environ.get("SMSMENU_SECRET"))
        env = Env(Rules.from_settings(settings), texts or Texts.load(settings.menu.lang), secret,
                  plan or NumberPlan.load_default(), settings.menu.lang)
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
        """Run ``fn(conn, env, now, **kwargs)`` as one transaction; ``now`` is read here."""
        return await self.writer.run(partial(fn, env=self.env, now=self.now(), **kwargs))

    async def read(self, query: queries.Query[T]) -> T:
        return await query.fetch(self.reader)

    # -- agents ------------------------------------------------------------------------------
    async def open_agent(self, **kw: Any) -> dict[str, Any]:
        return await self.op(admin.open_agent, **kw)

    async def deposit(self, **kw: Any) -> dict[str, Any]:
        return await self.op(admin.deposit, **kw)

    async def set_flag(self, **kw: Any) -> dict[str, Any]:
        return await self.op(admin.set_flag, **kw)

    async def close_agent(self, **kw: Any) -> dict[str, Any]:
        return await self.op(admin.close, **kw)

    async def change_password(self, **kw: Any) -> dict[str, Any]:
        return await self.op(credentials.change_password, **kw)

    async def change_msisdn(self, **kw: Any) -> dict[str, Any]:
        return await self.op(credentials.change_msisdn, **kw)

    async def agent(self, msisdn: str) -> dict[str, Any]:
        def show(conn: sqlite3.Connection, env: Env, now: dt.datetime) -> dict[str, Any]:
            return admin.view(conn, env, agents.get(conn, msisdn))
        return await self.op(show)

    async def check_password(self, msisdn: str, purpose: str, password: str) -> dict[str, Any]:
        """Verify a password (counting toward lockout); the agent's view when it matches."""
        def check(conn: sqlite3.Connection, env: Env, now: dt.datetime) -> dict[str, Any]:
            agent = agents.get_open(conn, msisdn)
            agents.check_password(conn, env, now, agent, purpose, password)
            return admin.view(conn, env, agent)
        return await self.op(check)

    # -- recharges ---------------------------------------------------------------------------
    async def mark_invoice(self, recharge_id: int) -> dict[str, Any]:
        return await self.writer.run(partial(reversal.mark_invoice, recharge_id=recharge_id))

    async def get_recharge(self, recharge_id: int) -> Recharge:
        return await self.writer.run(partial(recharge.get, recharge_id=recharge_id))

    async def _agent_id(self, msisdn: str) -> int:
        return (await self.agent(msisdn))["agent_id"]  # type: ignore[no-any-return]

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
