"""The PostgreSQL restore drill: pg_dump -Fc of a live ledger, pg_restore into a fresh database,
then verify and the day's reconcile clean and every balance the same (README: backups)."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
from functools import partial

import psycopg
import pytest
from ledger_support import AGENT, LANDLINE, MGMT, TX, clean, recharge
from pg import Cluster

from ledger import Ledger
from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.settings import Settings
from smsmenu.core.types import TargetKind
from smsmenu.states.notices import SmsNotices

pytestmark = pytest.mark.both_engines
SECOND = "18912340000"


async def tool(*argv: str) -> None:
    """Run a PostgreSQL client tool (off the event loop); it must succeed."""
    await asyncio.to_thread(partial(subprocess.run, list(argv), check=True, capture_output=True,
                                    timeout=60))


async def test_pg_dump_and_pg_restore_give_the_same_books(
        agent: object, ledger: Ledger, settings: Settings, billing: BillingSimulator,
        clock: ManualClock, pg_cluster: Cluster, engine: str, tmp_path: object) -> None:
    """Agents, deposits, recharges (one refused by BOSS); pg_dump -Fc while the ledger is open,
    pg_restore into a new database: a new Ledger on it verifies clean, reconciles the day as
    the live one does, and every agent reads the same."""
    if engine != "postgres":
        pytest.skip("SQLite's drill is `smsmenu db backup` (test_store_backup.py)")
    billing.open_account(TargetKind.LANDLINE, LANDLINE, "postpaid", bills={"2026-11": 5_000})
    await ledger.open_agent(msisdn=SECOND, name="小李", tx_password=TX, mgmt_password=MGMT)
    await ledger.deposit(key="d2", msisdn=SECOND, amount_fen=50_000, channel="counter")
    await recharge(ledger, "r1", 10_000)
    await recharge(ledger, "r2", 5_000, kind=TargetKind.LANDLINE, target=LANDLINE)
    await recharge(ledger, "r3", 2_000, msisdn=SECOND)
    billing.fail_next(1)
    await recharge(ledger, "r4", 3_000)
    day = dt.date(2026, 11, 10)
    live = await ledger.reconcile(day)
    assert live.clean and live.posted_fen == 17_000
    dump = f"{tmp_path}/ledger.dump"
    await tool(str(pg_cluster.bindir / "pg_dump"), "-Fc", "-f", dump, settings.ledger.db)
    with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
        admin.execute("CREATE DATABASE drill TEMPLATE template0")
    try:
        await tool(str(pg_cluster.bindir / "pg_restore"), "--no-owner", "-d",
                   pg_cluster.url("drill"), dump)
        copy_settings = settings.replace("ledger", db=pg_cluster.url("drill"))
        async with await Ledger.open(copy_settings, billing, clock, notifier=SmsNotices(),
                                     secret=b"k" * 32) as copy:
            assert clean(await copy.verify())
            report = await copy.reconcile(day)
            assert report.clean and report == live
            for msisdn in (AGENT, SECOND):
                assert await copy.agent(msisdn) == await ledger.agent(msisdn)
    finally:
        with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
            admin.execute("DROP DATABASE drill WITH (FORCE)")
