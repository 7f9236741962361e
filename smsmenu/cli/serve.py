"""`smsmenu serve`: run the server until Ctrl-C; `serve --demo` is what `make run` starts."""

from __future__ import annotations

import argparse
import asyncio
import signal

from smsmenu.cli.common import ConfigError, Subparsers, common_options
from smsmenu.core import logs
from smsmenu.core.settings import Settings, describe, load_settings
from smsmenu.server import smgp
from smsmenu.server.main import Running, running
from smsmenu.server.modes import apply_demo, check_production, demo_banner
from smsmenu.server.readiness import wait_ready
from smsmenu.server.smpp import add_options, apply_options


async def serve(settings: Settings, demo: bool = True, stop: asyncio.Event | None = None,
                seed: bool = True) -> int:
    """Run until SIGINT/SIGTERM (or ``stop``); the started lines once ready (``/healthz``).

    ``demo``: the settings are completed with the demo tokens (generated at the first start,
    kept beside the ledger's secret file) and a banner says so; the simulated bank is served
    and, with ``seed``, the demo agent and operator made. Production settings are checked by
    the command (``check_production``), not here."""
    if demo:
        settings, kept = apply_demo(settings)
        print(demo_banner(settings, kept), flush=True)
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    async with running(settings, demo=demo, seed=demo and seed, smpp=True) as run:
        if not await _ready(run, stop):
            return 0
        print(f"smsmenu ready, listening on {run.http_url} (message transports: "
              f"{_transports(settings)}; GET /healthz, GET /metrics)\nweb portal: "
              f"{run.web_url}/web/  back office: {run.web_url}/web/ops/", flush=True)
        if demo:
            print("phone: make phone (or: smsmenu phone --msisdn 18900000001)", flush=True)
        if run.smpp is not None:
            if (smsc := run.smpp.smsc) is not None:
                print(f"SMSC simulator on {smsc.host}:{smsc.port}; handsets at {run.http_url}/smsc"
                      f" (smsmenu phone)", flush=True)
            links = ", ".join(link.bind.label for link in run.smpp.gateway.links)
            print(f"SMPP {'bound' if run.smpp.gateway.bound else 'binding'}: {links}", flush=True)
        if run.smgp is not None:
            if (ismg := run.smgp.ismg) is not None:
                print(f"ISMG simulator on {ismg.host}:{ismg.port}; handsets at {run.http_url}/ismg"
                      f" (smsmenu phone --smsc-control {run.http_url}/ismg)", flush=True)
            links = ", ".join(link.config.label for link in run.smgp.gateway.links)
            up = all(link.bound for link in run.smgp.gateway.links)
            print(f"SMGP {'logged in' if up else 'logging in'}: {links}", flush=True)
        await stop.wait()
    return 0


def _transports(settings: Settings) -> str:
    on = [name for name, token in (("POST /api/sms", settings.api.token),
                                   ("POST /ussd", settings.ussd.token),
                                   ("GET /kannel/mo", settings.kannel.sendsms_url
                                    and settings.kannel.token)) if token]
    return ", ".join(on) or "none over HTTP"


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
        "serve", parents=[common_options()], help="run the server (`serve --demo`: `make run`)",
        description="Start the ledger, the menu engine, the message transports (SMPP, SMGP, Kannel, "
                    "USSD, the HTTP API) and the web portal on their two listeners, and the "
                    "outbox drain; Ctrl-C stops. Plain `serve` is production: it needs a real "
                    "[billing] url and at least one transport, runs no simulator, and exits 78 "
                    "naming what is missing. `--demo` overlays the shipped demo.toml: the "
                    "billing, SMSC and bank simulators, the demo agent and operator, generated "
                    "tokens, loopback only.",
        epilog="settings (--config FILE, or the environment variable named):\n" + describe(),
        formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--demo", action="store_true",
                   help="demo mode (what `make run` starts): simulators, demo agent and operator, "
                        "generated tokens, loopback only")  # fmt: skip
    p.add_argument("--http-port", type=int, help="transports' port (default: [http] port)")
    add_options(p)
    smgp.add_options(p)
    p.add_argument("--no-demo", action="store_true",
                   help="with --demo: do not create the demo agent and operator")
    p.set_defaults(func=_serve_command)


def _settings(args: argparse.Namespace) -> Settings:
    """Defaults (with ``--demo``: then demo.toml), ``--config``, the environment, ``--db``."""
    try:
        settings = load_settings(args.config, demo=args.demo)
    except (OSError, ValueError) as exc:  # tomllib.TOMLDecodeError is a ValueError
        raise ConfigError(f"cannot read settings: {exc}") from None
    if args.db:
        settings = settings.replace("ledger", db=args.db)
    return settings


async def _serve_command(args: argparse.Namespace) -> int:
    logs.configure(level="info")
    settings = smgp.apply_options(apply_options(_settings(args), args), args)
    if args.http_port is not None:
        settings = settings.replace("http", port=args.http_port)
    if args.billing_url:
        settings = settings.replace("billing", mode="http", url=args.billing_url)
    if args.billing_sim:
        if not args.demo:
            raise ConfigError("--billing-sim runs the billing simulator: demo mode only (--demo)")
        settings = settings.replace("billing", mode="sim")
    if not args.demo:
        check_production(settings)
    return await serve(settings, demo=args.demo, seed=not args.no_demo)
