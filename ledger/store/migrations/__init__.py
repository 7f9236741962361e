"""Versioned schema migrations: numbered SQL files per engine, applied in order, one transaction each.

Layout: ``ledger/store/migrations/<engine>/NNNN_name.sql`` (``sqlite/``, ``postgres/``). Version N is the file
numbered N; every engine has the same versions, each written in its own dialect. Every table of
the database (ledger, menu engine, web portal) is defined here and nowhere else.

Rules for a migration (expand/contract, so that code at version N and N+1 can run side by side):

* expand only: add tables, columns, indexes, or move rows; never drop or rename in the same
  version that stops using something (a later "contract" version does that, once no older
  code runs);
* idempotent where the engine allows (``IF NOT EXISTS``, ``OR IGNORE``; the SQLite runner skips
  an ``ALTER TABLE t ADD COLUMN c`` whose column exists): databases made before versioning
  created their tables on open, some already have what a later version adds;
* never edited once released: a change is a new file.

The bookkeeping is engine-neutral (``Runner``): each engine supplies an exclusive transaction,
the state read, statement execution and the record in ``schema_migrations`` (version, name,
applied_at, how). ``meta.schema_version`` follows the last version applied. A database made
before versioning (``meta.schema_version = '1'`` or tables but no ``schema_migrations``) is
*adopted*: version 1 is run over it (creating anything missing) and recorded as ``adopted``.
A database newer than the code raises ``SchemaTooNew`` (exit 78). On PostgreSQL a server does not
migrate: a database older than the code raises ``SchemaTooOld`` (exit 78, naming ``db migrate``).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from importlib import resources
from typing import Any, ClassVar, Literal, Protocol

from smsmenu.core.errors import SmsmenuError
from smsmenu.core.settings import ConfigError

ENGINES = ("sqlite", "postgres")
FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
How = Literal["applied", "adopted"]


class SchemaTooNew(SmsmenuError):
    """The database was migrated by newer code than this: refuse to touch it (EX_CONFIG)."""

    code = "E_SCHEMA_NEWER"
    http_status = 503
    exit_code = 78


class SchemaTooOld(ConfigError):
    """A PostgreSQL database behind this code: ``smsmenu db migrate`` first (exit 78)."""

    def __init__(self, found: int, known: int) -> None:
        super().__init__(f"the database schema is at version {found}, this code needs {known}: "
                         "run `smsmenu db migrate` first")
        self.found, self.known = found, known


@dataclass(frozen=True, slots=True)
class Migration:
    """One version: its number, its file's name (``0002_unknown_outcomes``) and its text."""

    version: int
    name: str
    sql: str


@dataclass(frozen=True, slots=True)
class Applied:
    """A row of ``schema_migrations``: which version, when, and whether run or adopted."""

    version: int
    name: str
    applied_at: str
    how: str


@dataclass(frozen=True, slots=True)
class State:
    """What a database says about its schema, read inside the migrator's transaction.

    ``recorded``: the highest version in ``schema_migrations`` (0: none, or no such table);
    ``meta``: ``meta.schema_version`` (0 if absent); ``populated``: it has tables of ours.
    """

    recorded: int
    meta: int
    populated: bool

    @property
    def version(self) -> int:
        return max(self.recorded, self.meta)


@dataclass(frozen=True, slots=True)
class Report:
    """What ``migrate`` did: from which version to which, what it ran, whether it adopted."""

    from_version: int
    to_version: int
    latest: int
    applied: tuple[Migration, ...] = ()
    adopted: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.applied)

    def as_dict(self) -> dict[str, Any]:
        return {"from_version": self.from_version, "to_version": self.to_version,
                "latest": self.latest, "adopted": self.adopted,
                "applied": [{"version": m.version, "name": m.name} for m in self.applied]}


def load(engine: str = "sqlite") -> tuple[Migration, ...]:
    """The engine's migrations in order; numbering must run 1, 2, 3... without a gap."""
    if engine not in ENGINES:
        raise ValueError(f"no migrations for engine {engine!r} (have: {', '.join(ENGINES)})")
    found = []
    for entry in resources.files(__name__).joinpath(engine).iterdir():
        match = FILE_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), entry.name.removesuffix(".sql"),
                                   entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    numbers = [m.version for m in found]
    if numbers != list(range(1, len(found) + 1)):
        raise ValueError(f"{engine} migrations must be numbered 1..N without gaps: {numbers}")
    return tuple(found)


def latest(engine: str = "sqlite") -> int:
    """The version this code brings the database to."""
    return len(load(engine))


class Migrator(Protocol):
    """What ``smsmenu db`` and start-up use, whatever the engine."""

    @property
    def latest(self) -> int: ...

    def state(self) -> State: ...

    def check(self, state: State) -> None: ...

    def history(self) -> list[Applied]: ...

    def migrate(self, target: int | None = None) -> Report: ...


class Runner(ABC):
    """The engine-neutral loop: under an exclusive lock, read the state, run the next version.

    Each version runs in its own transaction, with its record: a failure leaves the database at
    the last version that committed. Every transaction re-reads the state under the lock, so a
    second migrator started meanwhile waits, then finds the work done and applies nothing twice.
    """

    engine: ClassVar[str]

    def __init__(self, migrations: Sequence[Migration] | None = None) -> None:
        self.migrations = tuple(migrations) if migrations is not None else load(self.engine)

    @property
    def latest(self) -> int:
        return self.migrations[-1].version if self.migrations else 0

    # -- what an engine supplies -------------------------------------------------------------
    @abstractmethod
    def exclusive(self) -> AbstractContextManager[None]:
        """A transaction that no other migrator (or writer) runs alongside; commit on exit."""

    @abstractmethod
    def read_state(self) -> State:
        """The state, read in the current transaction (or on its own outside one)."""

    @abstractmethod
    def execute(self, migration: Migration) -> None:
        """Run a migration's statements in the current transaction."""

    @abstractmethod
    def record(self, migration: Migration, how: How) -> None:
        """Note the version in ``schema_migrations`` and ``meta.schema_version``."""

    @abstractmethod
    def history(self) -> list[Applied]:
        """Every recorded version, oldest first (empty before versioning)."""

    # -- the loop ----------------------------------------------------------------------------
    def state(self) -> State:
        return self.read_state()

    def check(self, state: State) -> None:
        """Refuse a database whose schema is newer than this code knows."""
        if state.version > self.latest:
            raise SchemaTooNew(found=state.version, known=self.latest)

    def migrate(self, target: int | None = None) -> Report:
        """Apply every version after the database's, up to ``target`` (default: the latest)."""
        goal = self.latest if target is None else target
        if not 0 <= goal <= self.latest:
            raise ValueError(f"no schema version {goal} (this code knows 1..{self.latest})")
        start: State | None = None
        applied: list[Migration] = []
        adopted = False
        for migration in self._pending(goal):
            with self.exclusive():
                state = self.read_state()
                self.check(state)
                start = start or state
                if state.recorded >= migration.version:
                    continue  # another migrator applied it while this one waited
                how: How = "adopted" if state.recorded == 0 and state.populated else "applied"
                self.execute(migration)
                self.record(migration, how)
            applied.append(migration)
            adopted = adopted or how == "adopted"
        if start is None:
            start = self.read_state()
            self.check(start)
        end = applied[-1].version if applied else start.version
        return Report(start.version, max(end, start.version), self.latest, tuple(applied),
                      adopted)

    def _pending(self, goal: int) -> Iterator[Migration]:
        """Candidates in order; each is re-checked under the lock before it runs."""
        recorded = self.read_state().recorded
        for migration in self.migrations:
            if recorded < migration.version <= goal:
                yield migration
