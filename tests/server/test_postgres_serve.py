"""End to end on PostgreSQL: `smsmenu serve --db postgresql://...` refuses an unmigrated database,
`smsmenu db migrate` migrates it, then the server takes a recharge over a real socket."""

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

from smsmenu.core.tokens import DEMO_FILE

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
