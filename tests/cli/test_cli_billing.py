"""Tests of `smsmenu billing-sim`, the standalone BOSS simulator, run as a real process."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from smsmenu.cli import entry as cli
from smsmenu.core.errors import BillingTimeout, BillingUnavailable
from smsmenu.core.types import CreditResult, TargetKind
from smsmenu.server.billing import HttpBilling

pytestmark = pytest.mark.slow

MOBILE, LANDLINE = TargetKind.MOBILE, TargetKind.LANDLINE
PHONE, LINE = "18912345678", "02787654321"
URL = re.compile(r"listening on (http://\S+)")


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SMSMENU_")}


@dataclass
class Sim:
    """A running `smsmenu billing-sim` process, its URL and a client of it."""

    proc: asyncio.subprocess.Process
    url: str
    client: HttpBilling

    async def http(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        async with aiohttp.ClientSession() as session:
            async with session.request(method, self.url + path, json=body) as response:
                return response.status, await response.json()


@asynccontextmanager
async def started(tmp_path: Path, *options: str) -> AsyncIterator[Sim]:
    """Start the command with ``--port 0 options``; wait for its URL line; kill it at the end."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smsmenu", "billing-sim", "--port", "0", *options,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=tmp_path, env=env())
    assert proc.stdout is not None
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        match = URL.search(line)
        assert match, line
        async with HttpBilling(match.group(1), timeout=5.0) as client:
            yield Sim(proc, match.group(1), client)
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.communicate()


async def kill_9(sim: Sim) -> None:
    sim.proc.kill()
    await sim.proc.wait()
    assert sim.proc.returncode == -signal.SIGKILL


async def test_books_survive_kill_9(tmp_path: Path) -> None:
    """After kill -9 and a restart on the same --state the books and references are all there."""
    state = str(tmp_path / "books.json")
    async with started(tmp_path, "--state", state) as sim:
        status, _ = await sim.http("POST", "/accounts", {
            "kind": "landline", "number": LINE, "account_type": "postpaid",
            "bills": {"2024-05": 8000}})
        assert status == 201
        paid = await sim.client.credit(MOBILE, PHONE, 1000, "r1")
        bill = await sim.client.credit(LANDLINE, LINE, 500, "r2")
        await sim.client.cancel("c1")
        await kill_9(sim)
    async with started(tmp_path, "--state", state) as sim:
        assert await sim.client.status("r1") == paid and paid.ok
        assert await sim.client.credit(MOBILE, PHONE, 1000, "r1") == paid  # not applied twice
        assert await sim.client.balance(MOBILE, PHONE) == 1000
        assert await sim.client.status("r2") == bill
        cancelled = CreditResult(False, "c1", reason="cancelled")
        assert await sim.client.credit(MOBILE, PHONE, 700, "c1") == cancelled
        status, shown = await sim.http("GET", f"/accounts/landline/{LINE}")
        assert status == 200 and shown["credits"] == {"r2": 500}
        assert shown["bills"]["2024-05"]["due_fen"] == 8000
        assert shown["account_type"] == "postpaid"


async def test_every_answered_credit_survives_kill_9_under_load(tmp_path: Path) -> None:
    """kill -9 amid concurrent credits: each credit answered before it is in the reloaded books."""
    state = str(tmp_path / "books.json")
    async with started(tmp_path, "--state", state) as sim:
        calls = [asyncio.create_task(sim.client.credit(MOBILE, PHONE, 10 + i, f"r{i}"))
                 for i in range(300)]
        enough = asyncio.Event()
        for call in calls:
            call.add_done_callback(
                lambda _: enough.set() if sum(c.done() for c in calls) >= 40 else None)
        await asyncio.wait_for(enough.wait(), 60)
        await kill_9(sim)
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
    answered = {r.reference for r in outcomes if isinstance(r, CreditResult)}
    assert answered and all(r.ok for r in outcomes if isinstance(r, CreditResult))
    assert all(isinstance(r, CreditResult | BillingTimeout | BillingUnavailable)
               for r in outcomes)
    async with started(tmp_path, "--state", state) as sim:
        status, shown = await sim.http("GET", f"/accounts/{PHONE}")
        [account] = shown["accounts"]
        assert status == 200
        assert answered <= set(account["credits"])
        assert account["balance_fen"] == sum(account["credits"].values())
        for reference in answered:
            result = await sim.client.status(reference)
            assert result is not None and result.ok


async def test_faults_from_options_and_at_run_time(tmp_path: Path) -> None:
    """--latency makes a quick client time out; POST /faults turns it down while running."""
    async with started(tmp_path, "--latency", "0.5", "--seed", "3") as sim:
        async with HttpBilling(sim.url, timeout=0.1) as quick:
            with pytest.raises(BillingTimeout):
                await quick.credit(MOBILE, PHONE, 1000, "r1")
            status, dials = await sim.http("POST", "/faults", {"latency": 0})
            assert status == 200 and dials["latency"] == 0
            assert (await quick.cancel("r2")).reason == "cancelled"


async def test_sigterm_stops_cleanly(tmp_path: Path) -> None:
    """SIGTERM stops the simulator: exit 0 and a last line saying so."""
    async with started(tmp_path) as sim:
        assert (await sim.client.credit(MOBILE, PHONE, 1000, "r1")).ok
        sim.proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(sim.proc.communicate(), 30)
        assert sim.proc.returncode == 0
        assert "billing simulator stopped (1 references)" in out.decode()


@pytest.mark.parametrize(("setup", "options", "code", "message"), [
    pytest.param("", ["--failure-rate", "2"], 2, "between 0 and 1", id="bad-rate"),
    pytest.param("", ["--latency", "-1"], 2, "negative", id="negative-latency"),
    pytest.param("corrupt", ["--state", "books.json"], 78, "books file", id="corrupt-state"),
    pytest.param("", ["--state", "no/such/dir/books.json"], 78, "books file", id="unwritable"),
    pytest.param("busy", [], 78, "cannot listen", id="port-in-use"),
])
def test_refusals_at_start(
    tmp_path: Path, setup: str, options: list[str], code: int, message: str
) -> None:
    """Bad options exit 2; unusable books or a busy port exit 78 naming the problem."""
    if setup == "corrupt":
        (tmp_path / "books.json").write_text("{not json", encoding="utf-8")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1]) if setup == "busy" else "0"
        done = subprocess.run(
            [sys.executable, "-m", "smsmenu", "billing-sim", "--port", port, *options],
            capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env(), check=False)
    assert done.returncode == code, done.stderr
    assert message in done.stderr


def test_help_lists_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    """`smsmenu billing-sim --help` documents every option."""
    assert cli.main(["billing-sim", "--help"]) == 0
    text = capsys.readouterr().out
    for option in ("--host", "--port", "--latency", "--failure-rate", "--timeout-rate",
                   "--timeout-applies", "--seed", "--state"):
        assert option in text
