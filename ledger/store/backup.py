"""A consistent copy of a live SQLite ledger (online backup API), written atomically and checked.

The copy is taken in one backup step: one read transaction on the source, so it is the
database as of one commit. In WAL mode (the writer's journal) a reader never blocks the
writer, so the server keeps committing while the copy is made. The copy goes to a temporary
file beside the target, is switched to a single-file journal (no ``-wal`` beside it), checked
(``PRAGMA integrity_check``), its schema version read, fsynced, then put in place: by a hard
link that fails if the target exists (never overwriting), or by ``os.replace`` with ``force``;
the directory is fsynced last. Anything that fails leaves no temporary file behind.
"""

from __future__ import annotations

import enum
import os
import sqlite3
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.store.migrations.sqlite_runner import SqliteMigrator


class Failure(enum.Enum):
    """Why a backup was not made."""

    MISSING = "missing"
    """No database at the source path."""
    EXISTS = "exists"
    """The target exists and ``force`` was not given."""
    UNWRITABLE = "unwritable"
    """The target's directory is missing or cannot be written."""
    CORRUPT = "corrupt"
    """The copy failed ``PRAGMA integrity_check`` (nothing was put in place)."""


class BackupError(Exception):
    """A backup not made: why, the path concerned and the system's detail."""

    def __init__(self, failure: Failure, path: str, detail: str = "") -> None:
        super().__init__(f"{failure.value}: {path}{f': {detail}' if detail else ''}")
        self.failure = failure
        self.path = path
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Backup:
    """A backup made: where from and to, its size, how long it took, its schema version."""

    source: str
    target: str
    pages: int
    page_size: int
    bytes: int
    seconds: float
    schema_version: int
    integrity: str

    def as_dict(self) -> dict[str, Any]:
        return {"db": self.source, "target": self.target, "pages": self.pages,
                "page_size": self.page_size, "bytes": self.bytes,
                "seconds": round(self.seconds, 3), "schema_version": self.schema_version,
                "integrity": self.integrity}


def open_source(path: str) -> sqlite3.Connection:
    """The live database, opened for reading only; never created when it is missing."""
    if path == ":memory:" or not Path(path).is_file():
        raise BackupError(Failure.MISSING, path)
    uri = f"file:{urllib.parse.quote(os.path.abspath(path))}?mode=rw"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA query_only = 1")
    except sqlite3.Error as exc:
        raise BackupError(Failure.MISSING, path, str(exc)) from None
    return conn


def backup(source: str, target: str, *, force: bool = False) -> Backup:
    """Copy ``source`` to ``target`` consistently while it is in use; the copy checked."""
    started = time.monotonic()
    goal = Path(target)
    if goal.exists() and not force:
        raise BackupError(Failure.EXISTS, target)
    src = open_source(source)
    try:
        temp = _temp_beside(goal)
        try:
            pages, page_size, version, integrity = _copy(src, temp, source, goal)
            _fsync(temp)
            _put(temp, goal, force=force)
        finally:
            _remove(temp)
    finally:
        src.close()
    _fsync_dir(goal.parent)
    return Backup(source, target, pages, page_size, goal.stat().st_size,
                  time.monotonic() - started, version, integrity)


def _temp_beside(goal: Path) -> Path:
    """An empty temporary file in the target's directory (same file system: rename is atomic)."""
    try:
        fd, name = tempfile.mkstemp(dir=goal.parent, prefix=f".{goal.name}.", suffix=".tmp")
    except OSError as exc:
        raise BackupError(Failure.UNWRITABLE, str(goal), exc.strerror or str(exc)) from None
    os.close(fd)
    return Path(name)


def _copy(src: sqlite3.Connection, temp: Path, source: str,
          goal: Path) -> tuple[int, int, int, str]:
    """The online backup in one step (one snapshot), then the copy's own checks."""
    dest = sqlite3.connect(str(temp), isolation_level=None)
    try:
        try:
            src.backup(dest, pages=-1)
            dest.execute("PRAGMA journal_mode = DELETE")
        except sqlite3.Error as exc:
            raise BackupError(Failure.UNWRITABLE, str(goal), str(exc)) from None
        try:
            integrity = "\n".join(str(row[0]) for row in dest.execute("PRAGMA integrity_check"))
            if integrity == "ok":
                pages = int(dest.execute("PRAGMA page_count").fetchone()[0])
                page_size = int(dest.execute("PRAGMA page_size").fetchone()[0])
                version = SqliteMigrator(dest).read_state().version
        except sqlite3.DatabaseError as exc:
            integrity = str(exc)
        if integrity != "ok":
            raise BackupError(Failure.CORRUPT, source, integrity)
    finally:
        dest.close()
    return pages, page_size, version, integrity


def _put(temp: Path, goal: Path, *, force: bool) -> None:
    """Put the finished copy at ``goal``: atomically, and over an existing file only if forced."""
    try:
        if force:
            os.replace(temp, goal)
        else:
            os.link(temp, goal)  # fails if goal exists: no window to overwrite another file
    except FileExistsError:
        raise BackupError(Failure.EXISTS, str(goal)) from None
    except OSError as exc:
        raise BackupError(Failure.UNWRITABLE, str(goal), exc.strerror or str(exc)) from None


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    """Make the new directory entry durable (where the platform allows opening a directory)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    for leftover in (path, Path(f"{path}-journal"), Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
