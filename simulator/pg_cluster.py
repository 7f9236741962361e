"""A private PostgreSQL cluster for testers: initdb in a temp dir, one free port, stopped after.

Tests (``tests/pg.py``), the chaos suite and the benchmarks start one: Debian's binaries
(``binaries``), the server as a non-root system user (``postgres`` or ``nobody``: PostgreSQL
refuses root) when run as root, listening on 127.0.0.1 and a unix socket in the temp dir, user
``postgres`` trusted (no password). ``durable`` keeps ``fsync`` and ``synchronous_commit`` on
(what production runs); off, the tests' speed.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

TEMPLATE = "smsmenu_template"
"""The database holding the migrated schema that test and bench databases are copied from."""


def binaries() -> Path | None:
    """The newest installed PostgreSQL's bin directory (Debian's layout or PATH), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _user() -> str | None:
    """The user the server runs as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and no postgres/nobody user to run PostgreSQL as")


class Cluster:
    """One running cluster; ``url(db)`` names a database in it (user ``postgres``, no password)."""

    def __init__(self, bindir: Path, *, durable: bool = False) -> None:
        self.bindir = bindir
        self.durable = durable
        """``fsync`` and ``synchronous_commit`` on (benchmarks); off for the tests' speed."""
        self.user = _user()
        self.root = Path(tempfile.mkdtemp(prefix="smsmenu-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()

    def _run(self, *argv: str) -> None:
        cmd = [str(self.bindir / argv[0]), *argv[1:]]
        if self.user is not None:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        if self.user is not None:
            shutil.chown(self.root, self.user)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--no-locale", "--no-sync")
        speed = ("-c fsync=on -c synchronous_commit=on" if self.durable else
                 "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                   f"-c unix_socket_directories={self.root} {speed} -c max_connections=300 "
                   "-c shared_buffers=64MB")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-o",
                  options, "start")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def create(self, db: str) -> None:
        """A new empty database ``db`` (``createdb``; the schema is ``smsmenu db migrate``'s)."""
        cmd = [str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
               "-U", "postgres", db]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"
