"""`smsmenu serve`: run the server (what `make run` starts) until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import signal

from smsmenu import logs
from smsmenu.cli_common import Subparsers, common_options, load
from smsmenu.readiness import wait_ready
from smsmenu.server import Running, running
from smsmenu.server_smpp import add_options, apply_options
from smsmenu.settings import Settings, describe


async def serve(settings: Settings, demo: bool = True, stop: asyncio.Event | None = None) -> int:
    """Run until SIGINT/SIGTERM (or ``stop``); the started lines once ready (``/healthz``)."""
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    async with running(settings, demo=demo, smpp=True) as run:
        if not await _ready(run, stop):
            return 0
        print(f"smsmenu ready, listening on {run.http_url} (POST /api/sms, POST /ussd, "
              f"GET /healthz, GET /metrics)\nweb portal: {run.http_url}/web/  back office: {run.http_url}"
              f"/web/ops/\nphone: make phone (or: smsmenu phone --msisdn 18900000001)",
              flush=True)
        if run.smpp is not None:
            if (smsc := run.smpp.smsc) is not None:
                print(f"SMSC simulator on {smsc.host}:{smsc.port}; handsets at {run.http_url}/smsc"
                      f" (smsmenu phone)", flush=True)
            links = ", ".join(link.bind.label for link in run.smpp.gateway.links)
            print(f"SMPP {'bound' if run.smpp.gateway.bound else 'binding'}: {links}", flush=True)
        await stop.wait()
    return 0


async def _ready(run: Running, stop: asyncio.Event) -> bool:
    """Wait until the server is ready, saying why not meanwhile; False when stopped first."""
    def waiting(why: str) -> None:
        print(f"smsmenu not ready yet on {run.http_url}: {why}", flush=True)

    ready = asyncio.create_task(wait_ready(run.ledger, run.readiness, run.gateways,
                                           waiting=waiting))
    stopped = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({ready, stopped}, return_when=asyncio.FIRST_COMPLETED)
    for task in (ready, stopped):
        task.cancel()
    await asyncio.gather(ready, stopped, return_exceptions=True)
    if ready in done:
        ready.result()  # an unexpected failure is raised, not taken for a stop
        return True
    return False


def register(subparsers: Subparsers) -> None:
    """Add `serve`."""
    p = subparsers.add_parser(
        "serve", parents=[common_options()], help="run the server (what `make run` starts)",
        description="Start the ledger, the menu engine, HTTP and USSD, the billing simulator, "
                    "the SMSC simulator and our SMPP binds, and the outbox drain; Ctrl-C stops.",
        epilog="settings (--config FILE, or the environment variable named):\n" + describe(),
        formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--http-port", type=int, help="HTTP port (default: settings [http] port)")
    add_options(p)
    p.add_argument("--no-demo", action="store_true",
                   help="do not create the demo agent on an empty database")
    p.set_defaults(func=_serve_command)


async def _serve_command(args: argparse.Namespace) -> int:
    logs.configure(level="info")
    settings = apply_options(load(args), args)
    if args.http_port is not None:
        settings = settings.replace("http", port=args.http_port)
    if args.billing_url:
        settings = settings.replace("billing", mode="http", url=args.billing_url)
    return await serve(settings, demo=not args.no_demo)
