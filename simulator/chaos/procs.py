"""Child processes of a chaos run: billing-sim, the SMSC simulator and the server, each logged.

Every child starts in a session of its own (so a kill reaches only it), writes its output to a
log file under the run's directory and is stopped by ``Procs.aclose`` whatever happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

PY = sys.executable
STOP_WAIT_S = 15.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child_env(secret_hex: str) -> dict[str, str]:
    """Our environment less any SMSMENU_* setting (the run's files say everything), plus the
    password HMAC key shared by the server and the CLI."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSMENU_")}
    env["SMSMENU_SECRET"] = secret_hex
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Proc:
    """One child: its command, log file and the running process (None while stopped)."""

    name: str
    argv: list[str]
    log: Path
    env: dict[str, str]
    process: asyncio.subprocess.Process | None = None
    starts: int = 0
    kills: int = 0

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def start(self) -> None:
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"\n=== start {self.starts} at {time.strftime('%H:%M:%S')}: "
                      f"{' '.join(self.argv)}\n".encode())
            out.flush()
            self.process = await asyncio.create_subprocess_exec(
                *self.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=self.env,
                start_new_session=True)

    async def kill9(self) -> None:
        """``kill -9``: no clean-up of any kind, as a power cut or the OOM killer would."""
        if self.process is not None and self.process.returncode is None:
            self.kills += 1
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGKILL)
            await self.process.wait()

    async def stop(self, wait: float = STOP_WAIT_S) -> int | None:
        """SIGTERM (a clean stop), SIGKILL after ``wait`` s; the exit code."""
        process = self.process
        if process is None:
            return None
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), wait)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
        return process.returncode


@dataclass
class Procs:
    """The run's children; ``aclose`` stops every one still running."""

    root: Path
    env: dict[str, str]
    all: list[Proc] = field(default_factory=list)

    def add(self, name: str, argv: Sequence[str]) -> Proc:
        proc = Proc(name, list(argv), self.root / f"{name}.log", self.env)
        self.all.append(proc)
        return proc

    async def aclose(self) -> None:
        for proc in reversed(self.all):
            await proc.stop()


async def wait_http(http: aiohttp.ClientSession, url: str, *, timeout: float,  # noqa: ASYNC109
                    proc: Proc | None = None) -> bool:  # fmt: skip
    """Poll ``url`` until it answers 200 (True), ``timeout`` runs out or ``proc`` exits (False)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if proc is not None and not proc.running:
            return False
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with http.get(url, timeout=aiohttp.ClientTimeout(total=2.0)) as resp:
                if resp.status == 200:
                    return True
        await asyncio.sleep(0.1)
    return False


async def run_cli(args: Sequence[str], env: dict[str, str], *, timeout: float = 60.0  # noqa: ASYNC109
                  ) -> tuple[int, str, str]:  # fmt: skip
    """``python -m smsmenu ARGS``: exit code, stdout, stderr (exit 124 when it ran too long)."""
    process = await asyncio.create_subprocess_exec(
        PY, "-m", "smsmenu", *args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=env, start_new_session=True)
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
        return 124, "", f"timed out after {timeout} s"
    return process.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace")
