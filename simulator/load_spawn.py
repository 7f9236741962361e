"""Two processes for load: the server in a child (ledger, engine, ESME), the SMSC and handsets here.

The child is ``python -m smsmenu.server.load_child SETTINGS.toml``: ``running()`` with SMPP on, logs at
warning, one JSON line ``{"http", "billing"}`` on stdout once it is ready (start-up recovery done,
storage writable), a clean stop on SIGTERM. The parent then waits for its ``/healthz`` 200.
The SMSC simulator stays in the load generator, as a carrier's would be outside the server.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from simulator.ismg import IsmgSimulator
from simulator.load_rig import Rig, remote_server
from simulator.smsc import SmscSimulator
from smsmenu.core.settings import Settings
from smsmenu.core.tokens import new_smpp_password, new_token

SYSTEM_ID = "smsmenu"
"""Our ESME's account at this process's SMSC simulator; its password is new on every run."""


def settings_toml(settings: Settings, smsc_port: int | None, *, password: str = "",
                  api_token: str = "", ismg_port: int | None = None) -> str:
    """The child's overrides: database, free ports, billing faults, our SMSC as its only bind
    (``password``) or our ISMG as its only SMGP link, the ``[api] token``."""
    led, bil = settings.ledger, settings.billing
    binds = f'["smpp://{SYSTEM_ID}:{password}@127.0.0.1:{smsc_port}?source_addr=10658"]' \
        if smsc_port else "[]"
    links = f'["smgp://{SYSTEM_ID}:{password}@127.0.0.1:{ismg_port}?sp=10658"]' \
        if ismg_port else "[]"
    return "\n".join([
        "[ledger]", f"db = {json.dumps(led.db)}", f"secret_file = {json.dumps(led.secret_file)}",
        f'synchronous = "{led.synchronous}"',
        "[http]", 'host = "127.0.0.1"', "port = 0",
        "[web]", 'host = "127.0.0.1"', "port = 0",
        "[api]", f"token = {json.dumps([api_token] if api_token else [])}",
        "[billing]", 'mode = "sim"', 'url = "http://127.0.0.1:0"',
        f"sim_failure_rate = {bil.sim_failure_rate}",
        "[smpp]", f"binds = {binds}", "simulator = false",
        "[smgp]", f"links = {links}", "simulator = false", ""])


@asynccontextmanager
async def spawned_server(settings: Settings, via: str, tmp: Path) -> AsyncIterator[Rig]:
    """The server in a child process on ``settings``; handsets of an SMSC simulator (``via``
    smpp) or an ISMG simulator (smgp) in this one."""
    async with AsyncExitStack() as stack:
        password, token = new_smpp_password(), new_token()
        smsc: SmscSimulator | IsmgSimulator | None = None
        if via == "smpp":
            smsc = await stack.enter_async_context(
                SmscSimulator({SYSTEM_ID: password}, redeliver_after=30.0))
        elif via == "smgp":
            smsc = await stack.enter_async_context(
                IsmgSimulator({SYSTEM_ID: password}, redeliver_after=30.0))
        smpp_port = smsc.port if isinstance(smsc, SmscSimulator) else None
        ismg_port = smsc.port if isinstance(smsc, IsmgSimulator) else None
        conf = tmp / "server.toml"
        conf.write_text(settings_toml(settings, smpp_port, password=password,
                                      api_token=token, ismg_port=ismg_port), "utf-8")
        conf.chmod(0o600)
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "smsmenu.server.load_child", str(conf),
            stdout=asyncio.subprocess.PIPE)
        try:
            urls = await asyncio.wait_for(_started(child), 30.0)
            stack.push_async_callback(_cancel, asyncio.create_task(_drain(child)))
            served = settings.replace("billing", url=urls["billing"])
            rig = await stack.enter_async_context(remote_server(served, urls["http"],
                                                                api_token=token))
            if smsc is not None:
                await asyncio.wait_for(smsc.wait_bound(), 10.0)
                rig.smsc, rig.handset = smsc, smsc.handset
            yield rig
        finally:
            if child.returncode is None:
                child.send_signal(signal.SIGTERM)
                await asyncio.wait_for(child.wait(), 30.0)


async def _started(child: asyncio.subprocess.Process) -> dict[str, str]:
    """The child's addresses, from its first line that is them (warnings may come first)."""
    assert child.stdout is not None
    while line := await child.stdout.readline():
        if line.startswith(b'{"http"'):
            return dict(json.loads(line))
        sys.stderr.write(line.decode(errors="replace"))
    raise RuntimeError(f"the server process stopped (exit {await child.wait()})")


async def _drain(child: asyncio.subprocess.Process) -> None:
    """Pass on what the child prints later, so its pipe never fills."""
    assert child.stdout is not None
    while line := await child.stdout.readline():
        sys.stderr.write(line.decode(errors="replace"))


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
