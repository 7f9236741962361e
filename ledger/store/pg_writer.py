"""The PostgreSQL writer: the SQLite writer's group commit, on one psycopg connection.

Same contract as ``ledger.store.writer.Writer`` (``run``, ``probe``, ``failure``, ``batches``):
one thread, queued operations run together in one transaction (``READ COMMITTED``), each in
its own savepoint. What differs is that other processes write the same database:

* a serialization failure (40001) or a deadlock (40P01: two instances locking two agents in
  opposite orders) rolls the whole batch back and runs the same operations again, up to
  ``ATTEMPTS`` times: every operation is idempotent by its key, and none has run for its caller;
* a unique violation inside one operation (another instance committed the same key first)
  runs that operation once more: it now finds the other's row and answers as a repeat;
* a lost connection fails the batch (``StorageError``, ``failure`` set) and the next batch
  reconnects.

Durability is the server's: a COMMIT returns once PostgreSQL says it is durable, which takes
``synchronous_commit = on`` (the default; ``remote_apply``/``remote_write`` with a synchronous
replica). The writer reads the setting at start (``synchronous``) and warns when it is off.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, cast

import psycopg
import structlog
from psycopg import errors

from ledger.store import Conn
from ledger.store.pg import PgConn, connect
from ledger.store.writer import Job, Outcome, Writer, savepoint
from smsmenu.core.errors import SmsmenuError, StorageError

log = structlog.get_logger("ledger.store.pg_writer")
ATTEMPTS = 8
RETRY = (errors.SerializationFailure, errors.DeadlockDetected)
STORAGE_CLASSES = frozenset({"08", "53", "57", "58", "XX"})
"""SQLSTATE classes that say the server or the link, not the operation, is at fault."""


class Retry(Exception):
    """The batch must run again (serialization failure or deadlock)."""


def storage_error(exc: BaseException) -> bool:
    """A psycopg error that means the database cannot be written right now."""
    if not isinstance(exc, psycopg.Error):
        return False
    state = exc.sqlstate or ""
    return (isinstance(exc, psycopg.OperationalError) and not isinstance(exc, RETRY)
            and (not state or state[:2] in STORAGE_CLASSES)) or state == "25006"


def mapped(exc: Exception) -> BaseException:
    """Foreign exceptions become StorageError at this boundary; ours pass through."""
    if isinstance(exc, psycopg.Error):
        failure = StorageError()
        failure.__cause__ = exc
        return failure
    return exc


class PgWriter(Writer):
    """Runs write operations one batch at a time on a dedicated thread, on PostgreSQL."""

    def __init__(self, url: str, *, max_batch: int = 256) -> None:
        super().__init__(url, max_batch=max_batch)
        self.retries = 0
        """Batches run again after a serialization failure or a deadlock."""

    def _open(self) -> Conn:
        raw = connect(self.path)
        row = raw.execute("SHOW synchronous_commit").fetchone()
        self.synchronous = str(row[0]).upper() if row else "?"
        if self.synchronous == "OFF":  # a commit acknowledged may still be lost in a crash
            log.warning("ledger.commits_not_durable", synchronous_commit="off",
                        hint="set synchronous_commit = on (or remote_apply) on the server")
        return cast(Conn, PgConn(raw))

    def _commit(self, conn: Conn, batch: list[Job]) -> None:
        pg = cast(PgConn, conn)
        live = [job for job in batch if not job[1].cancelled()]
        outcomes: list[Outcome] = []
        broken: BaseException | None = None
        for attempt in range(ATTEMPTS):
            try:
                if pg.closed:
                    pg.raw = connect(self.path)
                outcomes = self._attempt(pg, live)
                broken = None
                break
            except (Retry, *RETRY) as exc:
                self._rollback(pg)
                self.retries += 1
                broken = exc
                time.sleep(random.uniform(0, 0.002 * 2 ** attempt))
            except psycopg.Error as exc:
                self._rollback(pg)
                broken = exc
                break
        if broken is not None:
            log.error("ledger.commit_failed", error=str(broken), batch=len(batch))
            failure = StorageError()
            failure.__cause__ = broken
            outcomes = [(future, None, failure) for _, future in live]
        self._finish(batch, outcomes, broken)

    def _attempt(self, pg: PgConn, live: list[Job]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        pg.raw.execute("BEGIN")
        for fn, future in live:
            outcomes.append((future, *self._one(pg, fn)))
        pg.raw.execute("COMMIT")
        return outcomes

    def _one(self, pg: PgConn, fn: Callable[[Conn], Any]) -> tuple[Any, BaseException | None]:
        """One operation in its savepoint: (result, None) or (None, the caller's error)."""
        for again in (True, False):
            try:
                with savepoint(cast(Conn, pg)):
                    return fn(cast(Conn, pg)), None
            except RETRY:
                raise
            except errors.UniqueViolation as exc:
                if not again:
                    return None, mapped(exc)
            except Exception as exc:
                if storage_error(exc) or pg.closed:
                    raise
                if isinstance(exc, SmsmenuError) and isinstance(exc.__cause__, RETRY):
                    raise Retry() from exc
                return None, mapped(exc)
        raise AssertionError("unreachable")

    @staticmethod
    def _rollback(pg: PgConn) -> None:
        try:
            if not pg.closed and pg.in_transaction:
                pg.raw.execute("ROLLBACK")
        except psycopg.Error:
            pg.raw.close()
