"""The server as the load generator's child process (``simulator.load_spawn``): one JSON line once ready."""

from __future__ import annotations

import asyncio
import json
import signal
import sys

from smsmenu.core import logs
from smsmenu.core.settings import load_settings
from smsmenu.server.main import running
from smsmenu.server.readiness import wait_ready


async def serve(conf: str) -> None:
    """``running()`` on the settings file ``conf`` until SIGTERM; its addresses on stdout once ready."""
    logs.configure(level="warning")
    settings = load_settings(conf, env={})
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with running(settings, smpp=bool(settings.smpp.binds or settings.smgp.links)) as run:
        await wait_ready(run.ledger, run.readiness, run.gateways,
                         waiting=lambda why: print(f"server not ready yet: {why}", flush=True))
        print(json.dumps({"http": run.http_url, "billing": run.billing_url}), flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1]))
