"""The single writer: one thread owns the write connection and group-commits queued operations.

An operation is a plain function ``fn(conn) -> T`` run inside ``BEGIN IMMEDIATE``. Operations
queued while the previous batch was committing run together in one transaction, each in its own
``SAVEPOINT``: one that raises is rolled back alone, the others commit with a single fsync.
Nothing awaits inside a transaction, so a cancelled caller can never leave half a transfer: the
operation either ran whole and committed, or never ran.

An exception with a true ``commit_effects`` attribute (a wrong password: the failure counter
must stick) releases its savepoint instead of rolling it back, then reaches the caller.

The writer remembers how its last batch ended: a failed COMMIT (or BEGIN), or an operation hit
by a storage error (disk full, I/O error, read-only, corrupt, locked), sets ``failure`` (since
when, and the error); the next batch that commits cleanly clears it. ``probe`` commits one tiny
write (the ``meta`` heartbeat row) to prove the database can be written right now.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog

from smsmenu.core.errors import SmsmenuError, StorageError

T = TypeVar("T")
Job = tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any]]
Outcome = tuple[asyncio.Future[Any], Any, BaseException | None]
log = structlog.get_logger("ledger.store.writer")
BUSY_S = 10.0
"""How long a connection waits for another to release the database (busy_timeout, WAL switch)."""
STORAGE_CODES = frozenset({sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY,
                           sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_NOTADB,
                           sqlite3.SQLITE_PERM, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED,
                           sqlite3.SQLITE_PROTOCOL})
"""Primary result codes that say the storage, not the operation, is at fault."""


@dataclass(frozen=True, slots=True)
class Failure:
    """Storage is failing: since when (epoch seconds, first failure of the run) and the last error."""

    since: float
    error: str

    @property
    def since_iso(self) -> str:
        return dt.datetime.fromtimestamp(self.since, dt.UTC).isoformat(timespec="seconds")


def storage_error(exc: BaseException) -> bool:
    """A sqlite error that means the database cannot be written (not a constraint or a bug)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, sqlite3.Error) and code is not None and code & 0xFF in STORAGE_CODES


def heartbeat(conn: sqlite3.Connection) -> None:
    """The probe's write: one ``meta`` row set to the time (a real change: a page is written)."""
    conn.execute("INSERT INTO meta (key, value) VALUES ('heartbeat', ?) "
                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                 (dt.datetime.now(dt.UTC).isoformat(),))


def connect(path: str, synchronous: str = "FULL", readonly: bool = False) -> sqlite3.Connection:
    """A connection with the ledger's pragmas (WAL, foreign keys, durable commits)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_S * 1000)}")
    if not readonly:
        _wal(conn)
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA foreign_keys = ON")
    if readonly:
        conn.execute("PRAGMA query_only = 1")
    return conn


def _wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL. SQLite answers "database is locked" at once (no busy handler) while another
    connection is switching a new file's journal mode, so several processes opening one new
    database together retry here for up to ``BUSY_S``."""
    deadline = time.monotonic() + BUSY_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


@contextmanager
def savepoint(conn: sqlite3.Connection, name: str = "op") -> Iterator[None]:
    """Run a block as one unit inside the open transaction: all of it, or none of it.

    An exception whose ``commit_effects`` is true keeps what the block wrote (failure counters).
    When SQLite itself rolled the whole transaction back (disk full, I/O error), the block's
    error goes on as it is: there is no savepoint left to roll back to.
    """
    conn.execute(f"SAVEPOINT {name}")
    try:
        yield
    except Exception as exc:
        if conn.in_transaction:
            if not getattr(exc, "commit_effects", False):
                conn.execute(f"ROLLBACK TO {name}")
            conn.execute(f"RELEASE {name}")
        raise
    conn.execute(f"RELEASE {name}")


class Writer:
    """Runs write operations one batch at a time on a dedicated thread."""

    def __init__(self, path: str, *, synchronous: str = "FULL", max_batch: int = 256) -> None:
        if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous}")
        self.path = path
        self.synchronous = synchronous.upper()
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.batches = 0
        self.operations = 0
        self.failure: Failure | None = None
        """Set while the last batch failed to commit (or hit a storage error); else None."""

    def start(self, init: Callable[[sqlite3.Connection], None] | None = None) -> None:
        """Open the connection (running ``init`` on it first) and start the thread."""
        self._loop = asyncio.get_running_loop()
        conn = self._open()
        if init is not None:
            try:
                init(conn)  # the schema migrations: a refusal leaves nothing open
            except BaseException:
                conn.close()
                raise
        self._thread = threading.Thread(target=self._serve, args=(conn,), name="ledger-writer",
                                        daemon=True)
        self._thread.start()

    def _open(self) -> sqlite3.Connection:
        """The writer's connection (the PostgreSQL writer opens its own kind)."""
        return connect(self.path, self.synchronous)

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in the next batch and return its result once that batch committed."""
        if self._thread is None or self._loop is None:
            raise StorageError()
        future: asyncio.Future[T] = self._loop.create_future()
        self._queue.put((fn, future))
        return await future

    async def probe(self, timeout: float) -> str | None:  # noqa: ASYNC109
        """Commit the heartbeat within ``timeout`` s: None when it did, else why not.

        It goes through the queue and commits like any operation (``synchronous`` FULL: fsynced),
        so a full disk, a read-only or locked database or a stuck writer shows here.
        """
        try:
            await asyncio.wait_for(self.run(heartbeat), timeout)
        except TimeoutError:
            return f"the writer did not commit within {timeout:g} s"
        except SmsmenuError as exc:
            return str(exc.__cause__) if exc.__cause__ is not None else exc.code
        return None

    async def aclose(self) -> None:
        """Finish the queued operations, then close the connection."""
        if self._thread is None:
            return
        self._queue.put(None)
        await asyncio.to_thread(self._thread.join)
        self._thread = None

    def _serve(self, conn: sqlite3.Connection) -> None:
        try:
            while True:
                job = self._queue.get()
                if job is None:
                    return
                batch = [job]
                stop = False
                while len(batch) < self.max_batch:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        stop = True
                        break
                    batch.append(more)
                self._commit(conn, batch)
                if stop:
                    return
        finally:
            conn.close()

    def _commit(self, conn: sqlite3.Connection, batch: list[Job]) -> None:
        outcomes: list[Outcome] = []
        broken: BaseException | None = None
        try:
            conn.execute("BEGIN IMMEDIATE")
            for fn, future in batch:
                if future.cancelled():
                    continue
                try:
                    with savepoint(conn):
                        result = fn(conn)
                except Exception as exc:
                    outcomes.append((future, None, _mapped(exc)))
                    if storage_error(exc):
                        broken = exc
                    if not conn.in_transaction:  # SQLite rolled back the whole batch: stop here
                        raise sqlite3.OperationalError(f"transaction rolled back: {exc}") from exc
                else:
                    outcomes.append((future, result, None))
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            broken = broken if broken is not None else exc
            log.error("ledger.commit_failed", error=str(broken), batch=len(batch))
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            failure = StorageError()
            failure.__cause__ = broken
            outcomes = [(future, None, failure) for _, future in batch]
        self._finish(batch, outcomes, broken)

    def _finish(self, batch: list[Job], outcomes: list[Outcome], broken: BaseException | None) -> None:
        """Count the batch, remember how it ended, hand each caller its outcome."""
        self._outcome(broken)
        self.batches += 1
        self.operations += len(outcomes)
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(_settle, outcomes)
        except RuntimeError:  # the loop is gone (interpreter exit): the commit stands regardless
            log.warning("ledger.loop_closed", batch=len(batch))

    def _outcome(self, broken: BaseException | None) -> None:
        """Remember how this batch ended: failing (keeping the first failure's time) or fine."""
        if broken is None:
            if self.failure is not None:
                log.info("ledger.storage_recovered", failing_since=self.failure.since_iso)
            self.failure = None
            return
        since = self.failure.since if self.failure is not None else time.time()
        self.failure = Failure(since, str(broken) or type(broken).__name__)


def _mapped(exc: Exception) -> BaseException:
    """Foreign exceptions become StorageError at this boundary; ours pass through."""
    if isinstance(exc, SmsmenuError):
        return exc
    if isinstance(exc, sqlite3.Error):
        mapped = StorageError()
        mapped.__cause__ = exc
        return mapped
    return exc


def _settle(outcomes: list[Outcome]) -> None:
    for future, result, error in outcomes:
        if future.done():
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)
