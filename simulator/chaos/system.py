"""The system under test for one scenario: billing-sim, the SMSC and the server(s) as processes.

``System`` writes each server's settings into the run's directory, opens and funds the agents
before the first start, and offers what scenarios do to it: ``kill9`` and ``restart`` a server,
change billing's faults, drop SMPP links, lose MO acknowledgements. With ``instances`` > 1
several servers share the one database (each its own ``[server] instance``, HTTP and web port).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from ledger import Ledger
from simulator.billing import BillingSimulator
from simulator.chaos.procs import PY, Proc, Procs, child_env, free_port, run_cli, wait_http
from smsmenu.core.clock import SystemClock
from smsmenu.core.settings import Settings, load_settings
from smsmenu.states.notices import SmsNotices

TX = "135790"
MGMT = "246800"
DEPOSIT_YUAN = 200_000
START_WAIT_S = 60.0


@dataclass
class Options:
    """What a scenario's system looks like."""

    agents_http: int = 10
    agents_smpp: int = 10
    billing_latency: float = 0.05
    billing_timeout_s: float = 1.0
    """The server's ``[billing] timeout_s``: billing slower than this is a timeout."""
    redeliver_after: float = 3.0
    """The SMSC redelivers an MO not acknowledged within this many seconds."""
    db_dir: Path | None = None
    """Where the database lives (a small tmpfs for disk-full); default: the run's directory."""
    synchronous: str = "FULL"
    instances: int = 1
    """``smsmenu serve`` processes on the one database, each bound to the SMSC (which spreads
    MO over the binds) and each with its own HTTP port (HTTP clients spread over them)."""
    postgres_url: str = ""
    """A PostgreSQL database (empty, migrated by ``start``) instead of the SQLite file."""


def billing_sim_available() -> bool:
    """Whether ``smsmenu billing-sim`` exists yet (else the harness's stand-in runs)."""
    probe = subprocess.run([PY, "-m", "smsmenu", "billing-sim", "--help"], capture_output=True,
                           timeout=60, check=False)
    return probe.returncode == 0


def agent_numbers(prefix: int, count: int, first: int = 0) -> list[str]:
    """Agent numbers ``189PP000NNN`` (China Telecom, 11 digits)."""
    return [f"189{prefix:02d}000{n:03d}" for n in range(first, first + count)]


class System:
    """billing-sim, SMSC and server of one scenario, in ``root``; ``aclose`` stops them all."""

    def __init__(self, root: Path, options: Options, *, scenario_no: int = 1) -> None:
        self.root, self.options = root, options
        root.mkdir(parents=True, exist_ok=True)
        self.secret = secrets.token_bytes(32)
        self.api_token = secrets.token_urlsafe(24)
        """``POST /api/sms``'s bearer token, where the server wants one (``[api] token``)."""
        self.env = child_env(self.secret.hex())
        self.procs = Procs(root, self.env)
        self.db_dir = options.db_dir or root
        self.db = self.db_dir / "ledger.db"
        """The SQLite file (where ``postgres_url`` is empty)."""
        self.database = options.postgres_url or str(self.db)
        """What the servers and the CLI are given: the SQLite file or the PostgreSQL URL."""
        n = max(1, options.instances)
        self.configs = [root / ("server.toml" if i == 0 else f"server-{i + 1}.toml")
                        for i in range(n)]
        self.config = self.configs[0]
        """The first server's settings: what the CLI commands are run with."""
        self.http_ports = [free_port() for _ in range(n)]
        self.web_ports = [free_port() for _ in range(n)]
        self.billing_port = free_port()
        self.smpp_port, self.control_port = free_port(), free_port()
        self.http_urls = [f"http://127.0.0.1:{port}" for port in self.http_ports]
        self.http_url = self.http_urls[0]
        self.billing_url = f"http://127.0.0.1:{self.billing_port}"
        self.control_url = f"http://127.0.0.1:{self.control_port}"
        self.http_agents = agent_numbers(scenario_no * 2, options.agents_http)
        self.smpp_agents = agent_numbers(scenario_no * 2 + 1, options.agents_smpp)
        self.billing_sim = billing_sim_available()
        self.http: aiohttp.ClientSession | None = None
        self.billing: Proc | None = None
        self.smsc: Proc | None = None
        self.servers: list[Proc] = []
        self.restart_s: list[float] = []

    @property
    def agents(self) -> list[str]:
        return self.http_agents + self.smpp_agents

    @property
    def server(self) -> Proc | None:
        """The first server (the only one unless ``instances`` > 1)."""
        return self.servers[0] if self.servers else None

    def settings_toml(self, index: int = 0) -> str:
        o = self.options
        known = {f.name for f in dataclasses.fields(Settings)}
        extra = []
        if "api" in known:  # the HTTP message API wants a token
            extra += ["[api]", f'token = ["{self.api_token}"]']
        if "web" in known:  # the portal has a listener of its own
            extra += ["[web]", 'host = "127.0.0.1"', f"port = {self.web_ports[index]}"]
        if o.instances > 1:
            extra += ["[server]", f'instance = "chaos-{index + 1}"']
        return "\n".join([*extra,
            "[ledger]", f"db = {json.dumps(self.database)}",
            f"secret_file = {json.dumps(str(self.root / 'secret'))}",
            f'synchronous = "{o.synchronous}"',
            "[http]", 'host = "127.0.0.1"', f"port = {self.http_ports[index]}",
            "[billing]", 'mode = "http"', f'url = "{self.billing_url}"',
            f"timeout_s = {o.billing_timeout_s}", "retry_every_s = 1.0",
            "[smpp]", f'binds = ["smpp://smsmenu:secret@127.0.0.1:{self.smpp_port}'
            f'?source_addr=10658"]', "simulator = false", "bind_wait_s = 5.0", ""])

    async def start(self) -> None:
        """Every process up and answering; the agents open and funded before the server starts."""
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                          headers={"Authorization": f"Bearer {self.api_token}"})
        for i, config in enumerate(self.configs):
            config.write_text(self.settings_toml(i), "utf-8")
        o = self.options
        if self.billing_sim:
            billing = [PY, "-m", "smsmenu", "billing-sim"]
        else:
            billing = [PY, "-m", "simulator.chaos.billing_proc"]
        self.billing = self.procs.add("billing", [
            *billing, "--port", str(self.billing_port), "--latency", str(o.billing_latency)])
        self.smsc = self.procs.add("smsc", [
            PY, "-m", "simulator.chaos.smsc_proc", "--port", str(self.smpp_port),
            "--control-port", str(self.control_port), "--redeliver-after", str(o.redeliver_after)])
        self.servers = [self.procs.add("server" if i == 0 else f"server-{i + 1}", [
            PY, "-m", "smsmenu", "serve", "--config", str(config), "--no-demo"])
            for i, config in enumerate(self.configs)]
        await self.billing.start()
        await self.smsc.start()
        if o.postgres_url:  # servers do not migrate PostgreSQL: `db migrate` does, once
            code, out, err = await run_cli(["db", "migrate", "--db", o.postgres_url], self.env)
            if code:
                raise RuntimeError(f"smsmenu db migrate: exit {code}: {(err or out)[-500:]}")
        await self.seed()
        await self._need(self.billing, f"{self.billing_url}/balance/mobile/13300000000")
        await self._need(self.smsc, f"{self.control_url}/chaos/stats")
        for i in range(len(self.servers)):
            await self.start_server(i)

    async def _need(self, proc: Proc, url: str) -> None:
        assert self.http is not None
        if not await wait_http(self.http, url, timeout=START_WAIT_S, proc=proc):
            raise RuntimeError(f"{proc.name} did not come up: see {proc.log}")

    async def seed(self) -> None:
        """Open every agent with a large counter deposit, straight into the database."""
        settings = load_settings(self.config, env={})
        clock = SystemClock(settings.ledger.timezone)
        async with await Ledger.open(settings, BillingSimulator(clock=clock), clock, notifier=SmsNotices(),
                                     secret=self.secret) as ledger:
            for msisdn in self.agents:
                await ledger.open_agent(msisdn=msisdn, name=f"chaos{msisdn[-3:]}", tx_password=TX,
                                        mgmt_password=MGMT)
                await ledger.deposit(key=f"chaos-seed-{msisdn}", msisdn=msisdn,
                                     amount_fen=DEPOSIT_YUAN * 100, channel="counter")

    async def start_server(self, index: int = 0) -> float:
        """Start server ``index`` and wait for its /healthz 200 (recovery done, SMPP bound);
        seconds taken."""
        assert self.http is not None
        server = self.servers[index]
        loop = asyncio.get_running_loop()
        began = loop.time()
        await server.start()
        if not await wait_http(self.http, f"{self.http_urls[index]}/healthz",
                               timeout=START_WAIT_S, proc=server):
            raise RuntimeError(f"{server.name} did not become healthy; its log ends:\n"
                               f"{self.log_tail(index=index)}")
        took = loop.time() - began
        self.restart_s.append(took)
        return took

    async def kill9(self, index: int = 0) -> None:
        await self.servers[index].kill9()

    async def stop_server(self, index: int = 0) -> int | None:
        return await self.servers[index].stop()

    async def stop_servers(self) -> list[int | None]:
        """Stop every server (SIGTERM, then kill); their exit codes."""
        return list(await asyncio.gather(*(s.stop() for s in self.servers)))

    async def billing_faults(self, **dials: Any) -> dict[str, Any]:
        """``POST /faults`` at billing (latency, failure_rate, timeout_rate, down...)."""
        return await self._post(f"{self.billing_url}/faults", dials)

    async def drop_links(self) -> None:
        await self._post(f"{self.control_url}/chaos/drop", {})

    async def lose_acks(self, n: int) -> None:
        await self._post(f"{self.control_url}/chaos/lose-acks", {"n": n})

    async def smsc_stats(self) -> dict[str, Any]:
        assert self.http is not None
        async with self.http.get(f"{self.control_url}/chaos/stats") as resp:
            data: dict[str, Any] = await resp.json()
            return data

    async def _post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        assert self.http is not None
        async with self.http.post(url, json=body, timeout=aiohttp.ClientTimeout(total=10)) as r:
            if r.status != 200:
                raise RuntimeError(f"{url}: {r.status} {await r.text()}")
            data: dict[str, Any] = await r.json()
            return data

    async def cli(self, *args: str, timeout: float = 120.0) -> tuple[int, str, str]:  # noqa: ASYNC109
        """``smsmenu ARGS --config <the server's>`` as a separate process."""
        return await run_cli([*args, "--config", str(self.config)], self.env, timeout=timeout)

    def log_tail(self, lines: int = 15, index: int = 0) -> str:
        server = self.servers[index]
        if not server.log.exists():
            return "(no log)"
        text = server.log.read_text("utf-8", errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def server_log_count(self, *needles: str) -> int:
        """Lines of the servers' logs that contain any of ``needles``."""
        count = 0
        for server in self.servers:
            if server.log.exists():
                with server.log.open(encoding="utf-8", errors="replace") as f:
                    count += sum(1 for line in f if any(n in line for n in needles))
        return count

    async def aclose(self) -> None:
        try:
            await self.procs.aclose()
        finally:
            if self.http is not None:
                await self.http.close()

    def keep_logs(self, into: Path) -> None:
        """Copy the processes' logs to ``into`` (the run's directory is removed afterwards)."""
        into.mkdir(parents=True, exist_ok=True)
        for proc in self.procs.all:
            if proc.log.exists():
                shutil.copy(proc.log, into / proc.log.name)
