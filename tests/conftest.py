"""Shared fixtures: a manual clock, the billing simulator, settings on a temp dir, a ledger.

The database engine: ``engine`` is ``sqlite`` unless a directory's ``pytest_generate_tests``
parametrizes it (``both_engines``); on ``postgres`` the settings name a fresh database in the
session's private cluster (``tests/pg.py``), copied from a template with the migrated schema.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
import structlog
from pg import TEMPLATE, Cluster, Pool, binaries, both_engines

from ledger import Ledger
from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.settings import Settings, load_settings
from smsmenu.states.notices import SmsNotices

AGENT = "18912345678"
TX = "123456"
MGMT = "654321"


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    """A test that runs the CLI configures logging to its captured stderr: undo that after it,
    so no later test logs to a closed stream."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.configure(**saved)
    root.handlers[:], root.level = handlers, level


@pytest.fixture
def clock() -> ManualClock:
    """Business time 2026-11-10 10:00 in Asia/Shanghai, moved only by the test."""
    return ManualClock("2026-11-10T10:00:00")


@pytest.fixture
def billing(clock: ManualClock) -> BillingSimulator:
    return BillingSimulator(clock=clock)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Modules marked ``both_engines`` run on SQLite and PostgreSQL (``tests/pg.py``)."""
    both_engines(metafunc)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """A private PostgreSQL cluster for the session, with the migrated template database."""
    bindir = binaries()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (scripts/install-peers.sh installs it)")
    from ledger.store.migrations.postgres_runner import PostgresMigrator
    cluster = Cluster(bindir)
    cluster.start()
    try:
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
        with psycopg.connect(cluster.url(TEMPLATE), autocommit=True) as conn:
            PostgresMigrator(conn).migrate()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_pool(pg_cluster: Cluster) -> Pool:
    """The session's test databases (``tests/pg.py``: copies of the template, reused emptied)."""
    return Pool(pg_cluster)


@pytest.fixture
def pg_url(pg_cluster: Cluster, pg_pool: Pool) -> Iterator[str]:
    """A database with the latest schema and nothing else, as the template; this test's alone."""
    name = pg_pool.take()
    yield pg_cluster.url(name)
    pg_pool.give_back(name)


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    """The database engine of this test: ``sqlite`` unless parametrized (``both_engines``)."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def settings(tmp_path: Path, engine: str, request: pytest.FixtureRequest) -> Settings:
    """Defaults with the database and secret under the test's temp dir (fsync off: speed), the
    web portal's listener on a free port. On PostgreSQL the database is a fresh copy of the
    migrated template in the private cluster."""
    base = load_settings(env={})
    db = request.getfixturevalue("pg_url") if engine == "postgres" else str(tmp_path / "ledger.db")
    return base.replace("ledger", db=db,
                        secret_file=str(tmp_path / "secret"), synchronous="OFF").replace(
                            "web", port=0)


@pytest.fixture
async def ledger(settings: Settings, billing: BillingSimulator,
                 clock: ManualClock) -> AsyncIterator[Ledger]:
    async with await Ledger.open(settings, billing, clock, notifier=SmsNotices(), secret=b"k" * 32) as opened:
        yield opened


@pytest.fixture
async def agent(ledger: Ledger) -> dict[str, object]:
    """An open agent with a 500 yuan counter deposit."""
    await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
    await ledger.deposit(key="seed-deposit", msisdn=AGENT, amount_fen=50_000, channel="counter")
    return await ledger.agent(AGENT)
