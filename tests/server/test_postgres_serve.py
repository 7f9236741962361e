"""End to end on PostgreSQL: `smsmenu serve --db postgresql://...` refuses an unmigrated database,
`smsmenu db migrate` migrates it, then the server takes a recharge over a real socket; two
server processes on one database share a burst of recharges without overdrawing."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import psycopg
import pytest
from pg import Cluster

from ledger import Ledger
from ledger.store.inspect import read_books
from simulator.billing import BillingSimulator
from smsmenu.core.clock import SystemClock
from smsmenu.core.settings import load_settings
from smsmenu.core.tokens import DEMO_FILE
from smsmenu.states.notices import SmsNotices

ROOT = str(Path(__file__).resolve().parents[2])
CONFIG = """[http]
port = 0
[web]
port = 0
[billing]
url = "http://127.0.0.1:0"
[smpp]
simulator_port = 0
binds = ["smpp://smsmenu@127.0.0.1:0?source_addr=10658"]
[ledger]
secret_file = "{secret}"
"""


def smsmenu(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSMENU_")}
    return subprocess.run([sys.executable, "-m", "smsmenu", *argv], capture_output=True,
                          text=True, cwd=cwd, env={**env, "PYTHONPATH": ROOT}, timeout=60)


@pytest.mark.slow
async def test_serve_on_postgres_refuses_an_old_schema_then_recharges(
        pg_cluster: Cluster, tmp_path: Path) -> None:
    """Exit 78 naming `db migrate` on an empty database; after `db migrate` (version 0 to the
    latest), `serve --demo --db postgresql://...` answers a one-line recharge over HTTP and the
    money is in PostgreSQL."""
    with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
        admin.execute("CREATE DATABASE e2e")
    url = pg_cluster.url("e2e")
    config = tmp_path / "pg.toml"
    config.write_text(CONFIG.format(secret=tmp_path / "var" / "secret"), "utf-8")
    try:
        refused = smsmenu("serve", "--demo", "--config", str(config), "--db", url, cwd=tmp_path)
        assert refused.returncode == 78, refused.stderr
        assert "smsmenu db migrate" in refused.stderr
        migrated = smsmenu("db", "migrate", "--json", "--db", url, cwd=tmp_path)
        assert migrated.returncode == 0, migrated.stderr
        assert json.loads(migrated.stdout)["from_version"] == 0
        await _recharge_over_http(config, url, tmp_path)
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT status, amount FROM recharges").fetchone()
        assert row == ("succeeded", 5_000)
    finally:
        with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
            admin.execute("DROP DATABASE e2e WITH (FORCE)")


async def _recharge_over_http(config: Path, url: str, cwd: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSMENU_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smsmenu", "serve", "--demo", "--config", str(config), "--db", url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, cwd=cwd,
        env={**env, "PYTHONPATH": ROOT})
    assert proc.stdout is not None
    try:
        out = ""
        while "SMPP bound" not in out:
            line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
            assert line, f"the server stopped: {out}"
            out += line
        http = out.split("listening on ", 1)[1].split()[0]
        token = json.loads((cwd / "var" / DEMO_FILE).read_text("utf-8"))["api"]
        body = {"from": "18900000001", "text": "CZ*2*18012345678*50*135790", "id": "pg1"}
        async with aiohttp.ClientSession() as client, client.post(
                f"{http}/api/sms", json=body, headers={"Authorization": f"Bearer {token}"}) as resp:
            assert resp.status == 200
            replies = (await resp.json())["replies"]
        assert any("50.00" in r["text"] for r in replies), replies
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 30) == 0


@pytest.mark.slow
async def test_two_server_processes_on_one_postgres_fund_exactly_37_of_200(
        pg_url: str, tmp_path: Path) -> None:
    """R-15 across processes: two `smsmenu serve` processes on one PostgreSQL database take 200
    one-line recharges of one agent (alternating between them, 12 in flight: a sender may have
    8 waiting per server) whose deposit covers exactly 37: 37 succeed, the balance ends at 0
    with nothing held or pending; `ledger verify` is clean."""
    config = tmp_path / "pg.toml"
    secret = tmp_path / "var" / "secret"
    config.write_text(CONFIG.format(secret=secret), "utf-8")
    await _fund(pg_url, secret)
    servers = [await _start(config, pg_url, tmp_path) for _ in range(2)]
    try:
        token = json.loads((tmp_path / "var" / DEMO_FILE).read_text("utf-8"))["api"]
        async with aiohttp.ClientSession(
                headers={"Authorization": f"Bearer {token}"},
                timeout=aiohttp.ClientTimeout(total=90)) as client:
            slots = [asyncio.Semaphore(6), asyncio.Semaphore(6)]  # a sender's queue holds 8

            async def one(i: int) -> None:
                body = {"from": AGENT, "text": f"CZ*2*1890000{i:04d}*20*{TX}", "id": f"m{i}"}
                async with slots[i % 2], client.post(f"{servers[i % 2][1]}/api/sms",
                                                     json=body) as resp:
                    assert resp.status == 200, await resp.text()
            await asyncio.gather(*(one(i) for i in range(200)))
    finally:
        for proc, _ in servers:
            if proc.returncode is None:
                proc.send_signal(signal.SIGINT)
        codes = [await asyncio.wait_for(proc.wait(), 30) for proc, _ in servers]
    assert codes == [0, 0]
    with psycopg.connect(pg_url) as conn:
        statuses = dict(conn.execute("SELECT r.status, COUNT(*) FROM recharges r JOIN agents a "
                                     "ON a.id = r.agent_id WHERE a.msisdn = %s GROUP BY r.status",
                                     (AGENT,)).fetchall())
        money = conn.execute("SELECT c.balance, c.reserved FROM agents a JOIN accounts c "
                             "ON c.id = a.account_id WHERE a.msisdn = %s", (AGENT,)).fetchone()
    assert statuses == {"succeeded": 37}
    assert money == (0, 0)
    books = read_books(pg_url)
    assert books.pending_transfers == 0
    verified = smsmenu("ledger", "verify", "--db", pg_url, "--config", str(config), cwd=tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr


AGENT, TX, MGMT = "18912345678", "123456", "654321"


async def _fund(url: str, secret: Path) -> None:
    """An agent at rate 0 with 740 yuan: exactly 37 recharges of 20 yuan."""
    settings = load_settings(env={}).replace("ledger", db=url, secret_file=str(secret))
    clock = SystemClock()
    async with await Ledger.open(settings, BillingSimulator(clock=clock), clock,
                                 notifier=SmsNotices()) as ledger:
        await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT,
                                rate_ppm=0)
        await ledger.deposit(key="d37", msisdn=AGENT, amount_fen=37 * 2_000, channel="counter")
        assert all(not lines for lines in (await ledger.verify()).values())


async def _start(config: Path, url: str, cwd: Path) -> tuple[asyncio.subprocess.Process, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSMENU_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smsmenu", "serve", "--demo", "--config", str(config), "--db", url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, cwd=cwd,
        env={**env, "PYTHONPATH": ROOT})
    assert proc.stdout is not None
    out = ""
    while "SMPP bound" not in out:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert line, f"the server stopped: {out}"
        out += line
    return proc, out.split("listening on ", 1)[1].split()[0]
