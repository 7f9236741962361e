"""``/healthz`` tells the truth: not ready before start-up recovery, nor while storage fails."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ledger import Ledger
from ledger.store.writer import Writer
from simulator.billing import BillingSimulator
from simulator.chaos import storage
from simulator.load_rig import smpp_settings
from smsmenu.cli import serve as cli_serve
from smsmenu.core.clock import ManualClock
from smsmenu.core.settings import Settings
from smsmenu.server.main import running
from smsmenu.server.readiness import Readiness, report, wait_ready

READY = {"ok": True, "ready": True, "ledger": True, "storage": "ok", "recovered": True,
         "gateways": {}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def served(settings: Settings, port: int = 0) -> Settings:
    return settings.replace("http", port=port).replace("billing", url="http://127.0.0.1:0")


async def health(http: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, Any]]:
    async with http.get(f"{url}/healthz") as resp:
        return resp.status, await resp.json()


async def test_healthz_is_503_until_start_up_recovery_finished(
        settings: Settings, clock: ManualClock, billing: BillingSimulator,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP listens before recovery runs: 503, not ready, not recovered; 200 once it is done."""
    asked, go = asyncio.Event(), asyncio.Event()
    recover = Ledger.recover

    async def gated(self: Ledger, *args: Any, **kwargs: Any) -> dict[str, int]:
        asked.set()
        await go.wait()
        return await recover(self, *args, **kwargs)

    monkeypatch.setattr(Ledger, "recover", gated)
    port, up, leave = free_port(), asyncio.Event(), asyncio.Event()

    async def server() -> None:
        async with running(served(settings, port), clock=clock, billing=billing):
            up.set()
            await leave.wait()

    task = asyncio.create_task(server())
    try:
        await asked.wait()
        async with aiohttp.ClientSession() as http:
            assert await health(http, f"http://127.0.0.1:{port}") == (503, {
                **READY, "ok": False, "ready": False, "recovered": False})
            go.set()
            await up.wait()
            assert await health(http, f"http://127.0.0.1:{port}") == (200, READY)
    finally:
        go.set()
        leave.set()
        await task


@asynccontextmanager
async def locked(ledger: Ledger, settings: Settings) -> AsyncIterator[None]:
    """Another connection holds the write lock (and the writer does not wait for it)."""
    await ledger.writer.run(lambda conn: conn.execute("PRAGMA busy_timeout = 0"))
    other = sqlite3.connect(settings.ledger.db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()
    await ledger.writer.run(lambda conn: conn.execute("PRAGMA busy_timeout = 10000"))


@asynccontextmanager
async def read_only(ledger: Ledger, settings: Settings) -> AsyncIterator[None]:
    """The writer's connection may no longer write (as on a read-only file or mount)."""
    conn: sqlite3.Connection = await ledger.writer.run(lambda conn: conn)
    await ledger.writer.run(lambda conn: conn.execute("PRAGMA query_only = 1"))
    try:
        yield
    finally:
        conn.execute("PRAGMA query_only = 0")  # the writer's thread is idle: nothing is queued


Fault = Callable[[Ledger, Settings], AbstractAsyncContextManager[None]]


@pytest.mark.parametrize("fault, error", [
    pytest.param(locked, "database is locked", id="locked"),
    pytest.param(read_only, "attempt to write a readonly database", id="read-only"),
])
async def test_healthz_is_503_while_storage_cannot_be_written(
        settings: Settings, clock: ManualClock, billing: BillingSimulator, fault: Fault,
        error: str) -> None:
    """The probe's write fails: 503 with storage failing and the error; 200 again once it commits."""
    async with running(served(settings), clock=clock, billing=billing) as run, \
            aiohttp.ClientSession() as http:
        async with fault(run.ledger, settings):
            status, body = await health(http, run.http_url)
            assert status == 503
            assert body == {**READY, "ok": False, "ready": False, "storage": "failing",
                            "storage_error": error}
            assert run.ledger.writer.failure is not None
        assert await health(http, run.http_url) == (200, READY)


@asynccontextmanager
async def real_fault(kind: str, tmp_path: Path) -> AsyncIterator[Path]:
    """A real full disk (a small tmpfs filled up) or ``chattr +i`` files; skipped where the
    machine does not allow them (they need root)."""
    why = storage.probe_tmpfs(tmp_path) if kind == "disk-full" else storage.probe_immutable(tmp_path)
    if why:
        pytest.skip(why)
    db_dir = tmp_path / "db"
    if kind == "disk-full" and not storage.mount_tmpfs(db_dir, 8):
        pytest.skip("mounting a tmpfs is not permitted here")
    db_dir.mkdir(exist_ok=True)
    try:
        yield db_dir
    finally:
        storage.unfill(db_dir)
        storage.immutable([db_dir / "ledger.db", db_dir / "ledger.db-wal"], False)
        if kind == "disk-full":
            storage.unmount(db_dir)


@pytest.mark.parametrize("kind, error", [
    pytest.param("disk-full", "database or disk is full", id="disk-full"),
    pytest.param("immutable", "disk I/O error", id="immutable-files"),
])
async def test_healthz_sees_real_storage_faults(settings: Settings, clock: ManualClock,
                                                billing: BillingSimulator, tmp_path: Path,
                                                kind: str, error: str) -> None:
    """A filled filesystem or immutable database files: the heartbeat fails, 503; 200 after."""
    async with real_fault(kind, tmp_path) as db_dir:
        settings = settings.replace("ledger", db=str(db_dir / "ledger.db"), synchronous="FULL")
        files = [db_dir / "ledger.db", db_dir / "ledger.db-wal"]
        async with running(served(settings), clock=clock, billing=billing) as run, \
                aiohttp.ClientSession() as http:
            assert await health(http, run.http_url) == (200, READY)
            if kind == "disk-full":
                await asyncio.to_thread(storage.fill, db_dir)
            else:
                assert storage.immutable(files, True)
            status, body = await health(http, run.http_url)
            assert (status, body["storage"], body.get("storage_error")) == (503, "failing", error)
            storage.unfill(db_dir)
            storage.immutable(files, False)
            assert await health(http, run.http_url) == (200, READY)


async def test_a_stuck_writer_is_not_ready(ledger: Ledger) -> None:
    """A writer that does not commit the heartbeat within the probe's timeout: not ready."""
    readiness = Readiness(recovered=True, probe_timeout_s=0.05)
    hold = asyncio.Event()
    loop = asyncio.get_running_loop()

    def block(conn: sqlite3.Connection) -> None:
        asyncio.run_coroutine_threadsafe(hold.wait(), loop).result()

    blocker = asyncio.ensure_future(ledger.writer.run(block))
    body = await report(ledger, readiness, [])
    hold.set()
    await blocker
    assert body["ready"] is False
    assert body["storage_error"] == "the writer did not commit within 0.05 s"


async def test_wait_ready_says_why_until_ready(ledger: Ledger, settings: Settings) -> None:
    """``wait_ready`` reports the reason once, then returns when storage takes writes again."""
    reasons: list[str] = []
    heard = asyncio.Event()

    def waiting(why: str) -> None:
        reasons.append(why)
        heard.set()

    async with locked(ledger, settings):
        task = asyncio.create_task(wait_ready(ledger, Readiness(recovered=True), [], every=0.01,
                                              waiting=waiting))
        await heard.wait()
    body = await task
    assert body["ready"] is True
    assert reasons == ["storage failing: database is locked"]


async def test_serve_prints_its_ready_line_only_once_ready(
        settings: Settings, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`smsmenu serve` says why it is not ready yet; the started lines come once /healthz is 200."""
    writable = asyncio.Event()
    probe = Writer.probe

    async def full_until_freed(self: Writer, timeout: float) -> str | None:  # noqa: ASYNC109
        return await probe(self, timeout) if writable.is_set() else "database or disk is full"

    monkeypatch.setattr(Writer, "probe", full_until_freed)
    stop = asyncio.Event()
    task = asyncio.create_task(cli_serve.serve(smpp_settings(served(settings)), stop=stop))
    out = ""
    try:
        while "not ready yet" not in out:
            await asyncio.sleep(0.01)
            out += capsys.readouterr().out
        assert "storage failing: database or disk is full" in out
        assert "smsmenu ready" not in out and "demo agent: 18900000001" in out
        writable.set()
        while "SMPP bound" not in out:
            await asyncio.sleep(0.01)
            out += capsys.readouterr().out
        url = out.split("smsmenu ready, listening on ")[1].split()[0]
        async with aiohttp.ClientSession() as http:
            status, body = await health(http, url)
        assert status == 200 and body["gateways"] == {"smpp": True}
    finally:
        stop.set()
        assert await task == 0
