"""Benchmark: the server's CPU per MO answered against a minimal echo ESME's, each saturated over SMPP.

    python bench/cpu_per_mo.py [--seconds 6] [--rounds 2] [--windows 3] [--agents 100] [--json F]

What is measured (issue 11): CPU seconds of one process (every thread: utime + stime from
``/proc/PID/stat``) over a measured window, divided by the MO it answered in that window.
Both sides are driven as fast as they answer, because CPU per message falls as a process gets
busier (fewer wake-ups per message):

* echo: a minimal asyncio ESME (``--esme``, a child process) on our SMPP codec (smpplib through
  ``smsmenu.gateway.smpp_codec``, frames by ``PduReader``): it binds as transceiver, acks each
  deliver_sm, answers each MO with its own text as a submit_sm asking for a receipt (at most
  ``--echo-window`` outstanding) and acks the receipts. It is driven by a lean SMSC in this
  process (closed loop per handset, pre-encoded PDUs: a few µs per MO, so it outruns the ESME);
  with ``--echo-driver simulator`` by the SMSC simulator instead, which costs more per MO than
  the ESME and so cannot saturate it on 2 cores (its CPU per MO comes out about the same).
* server: ``smsmenu serve --config TOML`` as a child process (production mode: its own SQLite
  file, ``synchronous = "FULL"``, BOSS over HTTP), bound to the SMSC simulator in this process,
  with the billing simulator (``smsmenu billing-sim``) in a third process; ``--agents`` agents
  walk ``smsmenu load``'s default dialog mix (recharge dialogs, a retry of each failed one (none
  fail at its default failure rate 0), a balance query every 5 rounds) over SMPP through the
  simulator's handsets; both windows (the SMSC's deliver_sm, our bind's) ``--server-window``.

The load generator, the SMSC and BOSS run in other processes, so their CPU is not counted.
Each round starts its system afresh, warms up (not measured), then measures ``--windows``
consecutive windows; rounds alternate echo, server, echo, server... The figures are the
medians over all windows; ``busy`` is CPU seconds per wall second (about 1 or more:
saturated; less when other processes take the cores). Linux only (``/proc``).

``--profile FILE`` samples the server with py-spy (``pip install py-spy``; raw collapsed stacks,
``--gil``: the thread holding the GIL) over its measured windows; its figures are then inflated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import random
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import structlog

THIS = Path(__file__).resolve()
ROOT = THIS.parents[1]
sys.path.insert(0, str(ROOT))

from smsmenu.gateway.smpp_codec import Sequence as SeqSource  # noqa: E402
from smsmenu.gateway.smpp_codec import encode, make, parse, text_field  # noqa: E402
from smsmenu.gateway.smpp_reader import Garbage, PduReader  # noqa: E402
from smsmenu.gateway.smpp_text import decode  # noqa: E402
from smsmenu.gateway.smpp_text import encode as encode_text  # noqa: E402
from smsmenu.states.notices import SmsNotices  # noqa: E402

GOAL = 3.3
"""Issue 11: the server's CPU per MO at most 3.3 times the echo ESME's."""
SYSTEM_ID = "bench"
SERVICE = "10658"
TEXTS = ("1", "2", "18000000001", "100", "1", "135790")
"""What the echo's handsets send in turn (the recharge dialog's keys)."""
RECEIPT = ("id:{id} sub:001 dlvrd:001 submit date:2501010000 done date:2501010000 stat:DELIVRD "
           "err:000 text:")
HEADER = struct.Struct(">LLLL")
BIND_TRX, SUBMIT_SM, UNBIND, ENQUIRE_LINK = 0x09, 0x04, 0x06, 0x15
RESPONSE = 0x80000000
STOP_S = 20.0
"""How long a child gets to stop after SIGTERM (or the link closing) before it is killed."""
START_S = 30.0
"""How long a child gets to come up."""

# ---------------------------------------------------------------- CPU of another process


def cpu_seconds(pid: int) -> float:
    """utime + stime of every thread of ``pid`` so far (``/proc/PID/stat``), in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text("ascii")
    fields = stat.rsplit(")", 1)[1].split()  # the name may hold spaces; fields 3.. follow it
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Window:
    """One measured window of one process."""

    cpu_s: float
    wall_s: float
    answered: int
    driver_s: float = 0.0
    """CPU seconds of this process (the driver: SMSC, handsets, agents) in the window."""

    @property
    def cpu_us_per_mo(self) -> float:
        return self.cpu_s / self.answered * 1e6 if self.answered else 0.0

    @property
    def mo_per_s(self) -> float:
        return self.answered / self.wall_s if self.wall_s else 0.0

    @property
    def busy(self) -> float:
        """CPU seconds per wall second: about 1 (or more, with threads) when saturated."""
        return self.cpu_s / self.wall_s if self.wall_s else 0.0

    def row(self) -> dict[str, float]:
        return {"cpu_us_per_mo": round(self.cpu_us_per_mo, 1), "mo_per_s": round(self.mo_per_s, 1),
                "busy": round(self.busy, 2), "answered": self.answered,
                "cpu_s": round(self.cpu_s, 3), "wall_s": round(self.wall_s, 3),
                "driver_busy": round(self.driver_s / self.wall_s, 2) if self.wall_s else 0.0}


async def measure(pid: int, answered: Callable[[], int], warmup: float, windows: int,
                  seconds: float) -> list[Window]:  # fmt: skip
    """After ``warmup`` s, ``windows`` consecutive windows of ``seconds`` each: CPU of ``pid``,
    wall time and the growth of ``answered()``."""
    loop = asyncio.get_running_loop()
    await asyncio.sleep(warmup)
    cpu, wall, count, mine = cpu_seconds(pid), loop.time(), answered(), time.process_time()
    out = []
    for _ in range(windows):
        await asyncio.sleep(seconds)
        cpu1, wall1, count1, mine1 = cpu_seconds(pid), loop.time(), answered(), time.process_time()
        out.append(Window(cpu1 - cpu, wall1 - wall, count1 - count, mine1 - mine))
        cpu, wall, count, mine = cpu1, wall1, count1, mine1
    return out


# ---------------------------------------------------------------- the minimal echo ESME


async def echo_esme(port: int, password: str, window: int, lifetime: float,
                    receipts: bool = True) -> int:  # fmt: skip
    """Bind as transceiver to 127.0.0.1:``port``; answer every MO with its text (asking for a
    delivery receipt, as the server does, unless not ``receipts``) until the link closes (or
    ``lifetime`` s). How many MO it answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    seq, frames, loop = SeqSource(), PduReader(reader), asyncio.get_running_loop()
    out: list[bytes] = []
    held: deque[bytes] = deque()
    outstanding = answered = 0

    def flush() -> None:
        if out and not writer.is_closing():
            writer.write(b"".join(out))
        out.clear()

    def send(data: bytes) -> None:  # what one turn of the loop writes leaves in one send()
        out.append(data)
        if len(out) == 1:
            loop.call_soon(flush)

    send(encode(make("bind_transceiver", seq, system_id=SYSTEM_ID, password=password)))
    with suppress(ConnectionError, TimeoutError):
        async with asyncio.timeout(lifetime):
            while True:
                frame = await frames.read()
                if isinstance(frame, Garbage):
                    continue
                pdu = parse(frame)
                command = pdu.command
                if command == "deliver_sm":
                    send(encode(make("deliver_sm_resp", seq, sequence=pdu.sequence)))
                    if (pdu.esm_class or 0) & 0x3C:
                        continue  # a receipt: acked, nothing to answer
                    coding = pdu.data_coding or 0
                    text = decode(pdu.short_message or b"", coding)
                    submit = encode(make(
                        "submit_sm", seq, source_addr=SERVICE,
                        destination_addr=text_field(pdu.source_addr), data_coding=coding,
                        short_message=encode_text(text, coding),
                        registered_delivery=int(receipts)))
                    answered += 1
                    if outstanding < window:
                        outstanding += 1
                        send(submit)
                    else:
                        held.append(submit)
                elif command == "submit_sm_resp":
                    outstanding -= 1
                    if held:
                        outstanding += 1
                        send(held.popleft())
                elif command == "enquire_link":
                    send(encode(make("enquire_link_resp", seq, sequence=pdu.sequence)))
                elif command == "unbind":
                    send(encode(make("unbind_resp", seq, sequence=pdu.sequence)))
                    break
    flush()
    writer.close()
    with suppress(ConnectionError, OSError):
        await writer.wait_closed()
    return answered


# ---------------------------------------------------------------- a lean SMSC to drive it


class LeanSmsc(asyncio.Protocol):
    """An SMSC for one ESME that never makes it wait: ``handsets`` phones in a closed loop (the
    next MO of a phone when its reply arrives), each submit_sm answered and its receipt sent at
    once; PDUs pre-encoded, only headers and the destination read."""

    def __init__(self, password: str, handsets: int) -> None:
        self.password, self.answered, self.errors, self.seq = password, 0, 0, 0
        self.bound: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._buf = bytearray()
        self._transport: asyncio.Transport | None = None
        src = SeqSource()
        self._mo: dict[bytes, list[bytearray]] = {}
        self._turn: dict[bytes, int] = {}
        for n in range(handsets):
            msisdn = f"189{n:08d}"
            self._mo[msisdn.encode()] = [bytearray(encode(make(
                "deliver_sm", src, source_addr=msisdn, destination_addr=SERVICE, data_coding=0,
                short_message=text.encode("ascii")))) for text in TEXTS]
            self._turn[msisdn.encode()] = 0
        message_id = "0000000001"
        self._receipt = bytearray(encode(make(
            "deliver_sm", src, source_addr="18900000000", destination_addr=SERVICE,
            esm_class=0x04, short_message=RECEIPT.format(id=message_id).encode("ascii"),
            receipted_message_id=message_id, message_state=2)))
        self._submit_resp = bytearray(encode(make("submit_sm_resp", src, sequence=1,
                                                  message_id=message_id)))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def _stamp(self, frame: bytearray, sequence: int | None = None) -> bytes:
        if sequence is None:
            self.seq = self.seq % 0x7FFFFFFF + 1
            sequence = self.seq
        struct.pack_into(">L", frame, 12, sequence)
        return bytes(frame)

    def _next_mo(self, msisdn: bytes) -> bytes:
        turn = self._turn[msisdn]
        self._turn[msisdn] = turn + 1
        frames = self._mo[msisdn]
        return self._stamp(frames[turn % len(frames)])

    def _bind(self, body: bytes, sequence: int) -> list[bytes]:
        system_id, _, rest = body.partition(b"\0")
        password = rest.partition(b"\0")[0]
        ok = system_id == SYSTEM_ID.encode() and password == self.password.encode()
        resp = encode(make("bind_transceiver_resp", SeqSource(), sequence=sequence,
                           status=0 if ok else 0x0E, system_id="LEANSMSC"))  # fmt: skip
        if not ok:
            self.errors += 1
            return [resp]
        if not self.bound.done():
            self.bound.set_result(None)
        return [resp, *(self._next_mo(msisdn) for msisdn in self._mo)]

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        pos, out = 0, list[bytes]()
        while len(buf) - pos >= 16:
            length, command, status, sequence = HEADER.unpack_from(buf, pos)
            if len(buf) - pos < length:
                break
            if status and command & RESPONSE:
                self.errors += 1
            if command == SUBMIT_SM:
                body = bytes(buf[pos + 16 : pos + length])
                at = body.index(0) + 3  # service_type, source ton and npi
                at = body.index(0, at) + 3  # source_addr, dest ton and npi
                end = body.index(0, at)
                dest = body[at:end]
                at = body.index(0, end + 4) + 1  # esm_class, protocol_id, priority, schedule
                registered = body[body.index(0, at) + 1]  # after validity_period
                out.append(self._stamp(self._submit_resp, sequence))
                if registered & 0x01:
                    out.append(self._stamp(self._receipt))
                if dest in self._mo:
                    self.answered += 1
                    out.append(self._next_mo(dest))
            elif command == BIND_TRX:
                out += self._bind(bytes(buf[pos + 16 : pos + length]), sequence)
            elif command == ENQUIRE_LINK:
                out.append(encode(make("enquire_link_resp", SeqSource(), sequence=sequence)))
            elif command == UNBIND:
                out.append(encode(make("unbind_resp", SeqSource(), sequence=sequence)))
            pos += length
        del buf[:pos]
        if out and self._transport is not None:
            self._transport.write(b"".join(out))


# ---------------------------------------------------------------- child processes


def _child_env() -> dict[str, str]:
    """This environment without ``SMSMENU_*`` (settings come from the TOML only)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSMENU_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return env


async def stop_child(child: asyncio.subprocess.Process, grace: float = STOP_S) -> None:
    """SIGTERM, then SIGKILL after ``grace`` s; reaped either way."""
    if child.returncode is None:
        with suppress(ProcessLookupError):
            child.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(child.wait(), grace)
        except TimeoutError:
            with suppress(ProcessLookupError):
                child.kill()
            await child.wait()


async def start_child(stack: AsyncExitStack, args: Sequence[str], log: Path,
                      grace: float = STOP_S) -> asyncio.subprocess.Process:  # fmt: skip
    """``args`` under this Python, its output in ``log``; stopped when ``stack`` closes."""
    with log.open("ab") as out:
        child = await asyncio.create_subprocess_exec(
            sys.executable, *args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=_child_env(), cwd=str(ROOT))  # fmt: skip
    stack.push_async_callback(stop_child, child, grace)
    return child


def tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text("utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


async def until(child: asyncio.subprocess.Process, ready: Awaitable[object], log: Path,
                what: str, limit: float = START_S) -> None:  # fmt: skip
    """Wait for ``ready``; fail (with the log's tail) if ``child`` exits first or time runs out."""
    ready_task = asyncio.ensure_future(ready)
    died = asyncio.ensure_future(child.wait())
    try:
        done, _ = await asyncio.wait({ready_task, died}, timeout=limit,
                                     return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        if ready_task in done:
            ready_task.result()
            return
        why = f"exited {child.returncode}" if died in done else f"not ready after {limit:g} s"
        raise RuntimeError(f"{what} {why}; its log ({log}):\n{tail(log)}")
    finally:
        for task in (ready_task, died):
            task.cancel()
        await asyncio.gather(ready_task, died, return_exceptions=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def port_open(port: int) -> None:
    """Return once something accepts on 127.0.0.1:``port`` (poll; bound by the caller)."""
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        with suppress(OSError):
            await writer.wait_closed()
        return


def _password() -> str:
    return f"b{random.randrange(16**7):07x}"  # SMPP passwords are at most 8 octets


# ---------------------------------------------------------------- one round of each side


@dataclass(frozen=True)
class Options:
    window_s: float = 2.0
    windows: int = 3
    warmup: float = 1.5
    handsets: int = 200
    echo_window: int = 100
    echo_driver: str = "lean"
    echo_receipts: bool = True
    agents: int = 100
    server_window: int = 50
    profile: str = ""
    """py-spy output file for the server's measured windows ("": no profile)."""
    transport: str = "smpp"
    """How the server reaches the handsets: ``smpp`` (SMSC simulator) or ``smgp`` (ISMG)."""


async def echo_round(opts: Options, logs: Path) -> dict[str, Any]:
    """The minimal echo ESME in a child process, saturated by the lean SMSC (or the simulator)."""
    password = _password()
    loop = asyncio.get_running_loop()
    async with AsyncExitStack() as stack:
        lean: LeanSmsc | None = None
        if opts.echo_driver == "lean":
            lean = LeanSmsc(password, opts.handsets)
            server = await loop.create_server(lambda: lean, "127.0.0.1", 0)  # one ESME: one proto
            stack.callback(server.close)
            port = server.sockets[0].getsockname()[1]
            bound: Awaitable[object] = lean.bound
            answered: Callable[[], int] = lambda: lean.answered  # noqa: E731
        else:
            smsc, phones, bound, answered = await _simulator_driver(stack, password, opts)
            port = smsc.port
        log = logs / "echo-esme.log"
        child = await start_child(stack, [str(THIS), "--esme", str(port),
                                          "--password", password, "--echo-window",
                                          str(opts.echo_window), "--echo-receipts"
                                          if opts.echo_receipts else "--no-echo-receipts"],
                                  log)  # fmt: skip
        await until(child, bound, log, "the echo ESME")
        if lean is None:
            phones()
        windows = await measure(child.pid, answered, opts.warmup, opts.windows, opts.window_s)
        if lean is not None:
            lean.close()
            with suppress(TimeoutError):
                await asyncio.wait_for(lean.closed, 5.0)
        return {"windows": [w.row() for w in windows], "pid": child.pid,
                "errors": lean.errors if lean is not None else 0}


async def _simulator_driver(stack: AsyncExitStack, password: str, opts: Options) -> tuple[
        Any, Callable[[], None], Awaitable[object], Callable[[], int]]:  # fmt: skip
    """The SMSC simulator with ``handsets`` phones in a closed loop (started by the callable)."""
    from simulator.smsc import SmscSimulator

    smsc = await stack.enter_async_context(SmscSimulator(
        {SYSTEM_ID: password}, redeliver_after=30.0, window=opts.echo_window))
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []

    async def phone(n: int) -> None:
        handset, turn = smsc.handset(f"189{n:08d}"), 0
        while not stop.is_set():
            await handset.send(TEXTS[turn % len(TEXTS)])
            turn += 1
            with suppress(TimeoutError):
                await handset.receive(timeout=10)

    def start() -> None:
        tasks.extend(asyncio.create_task(phone(n)) for n in range(opts.handsets))

    async def finish() -> None:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    stack.push_async_callback(finish)
    return smsc, start, smsc.wait_bound(), lambda: int(smsc.stats.submits)


def server_toml(db: Path, secret: Path, http_port: int, web_port: int, billing: str,
                smsc_port: int, password: str, window: int,
                transport: str = "smpp") -> str:  # fmt: skip
    """Production settings for the server under test: its own SQLite file (FULL), BOSS over
    HTTP, one SMPP bind to our SMSC simulator (or one SMGP link to our ISMG simulator);
    listeners on loopback."""
    bind = (f"smpp://{SYSTEM_ID}:{password}@127.0.0.1:{smsc_port}?source_addr={SERVICE}"
            f"&window={window}")
    link = f"smgp://{SYSTEM_ID}:{password}@127.0.0.1:{smsc_port}?sp={SERVICE}&window={window}"
    smpp, smgp = ([bind], []) if transport == "smpp" else ([], [link])
    return "\n".join([
        "[ledger]", f"db = {json.dumps(str(db))}", f"secret_file = {json.dumps(str(secret))}",
        'synchronous = "FULL"',
        "[http]", 'host = "127.0.0.1"', f"port = {http_port}",
        "[web]", 'host = "127.0.0.1"', f"port = {web_port}",
        "[billing]", 'mode = "http"', f"url = {json.dumps(billing)}",
        "[smpp]", f"binds = {json.dumps(smpp)}", "simulator = false",
        "[smgp]", f"links = {json.dumps(smgp)}", "simulator = false", ""])


async def server_round(opts: Options, tmp: Path, logs: Path, n: int) -> dict[str, Any]:
    """``smsmenu serve`` in a child process under ``smsmenu load``'s dialog mix over SMPP (or
    SMGP, ``opts.transport``).

    (The product is imported here, not at the top: the echo ESME child starts without it.)"""
    from ledger import Ledger
    from ledger.passwords import load_secret
    from simulator.billing import BillingSimulator
    from simulator.ismg import IsmgSimulator
    from simulator.load import fund, reconcile
    from simulator.load_agents import Agent, Tally
    from simulator.load_rig import Rig
    from simulator.smsc import SmscSimulator
    from smsmenu.core.clock import SystemClock
    from smsmenu.core.health import wait_healthy
    from smsmenu.core.settings import load_settings

    password, work = _password(), tmp / f"server-{n}"
    work.mkdir()
    async with AsyncExitStack() as stack:
        billing_port = free_port()
        log = logs / f"billing-{n}.log"
        billing = await start_child(stack, ["-m", "smsmenu", "billing-sim", "--port",
                                            str(billing_port)], log)  # fmt: skip
        await until(billing, port_open(billing_port), log, "the billing simulator")
        smsc: SmscSimulator | IsmgSimulator = await stack.enter_async_context(
            SmscSimulator({SYSTEM_ID: password}, redeliver_after=30.0, window=opts.server_window)
            if opts.transport == "smpp" else
            IsmgSimulator({SYSTEM_ID: password}, redeliver_after=30.0, window=opts.server_window))
        conf = work / "server.toml"
        http_port = free_port()
        conf.write_text(server_toml(work / "bench.db", work / "secret", http_port, free_port(),
                                    f"http://127.0.0.1:{billing_port}", smsc.port, password,
                                    opts.server_window, opts.transport), "utf-8")  # fmt: skip
        conf.chmod(0o600)
        log = logs / f"server-{n}.log"
        server = await start_child(stack, ["-m", "smsmenu", "serve", "--config", str(conf)], log)
        url = f"http://127.0.0.1:{http_port}"
        await until(server, wait_healthy(url, wait=START_S, say=lambda _: None), log, "the server")
        await until(server, smsc.wait_bound(), log, f"the server's {opts.transport} link")
        settings = load_settings(conf, env={})
        clock = SystemClock(settings.ledger.timezone)
        ledger = await stack.enter_async_context(
            await Ledger.open(settings, BillingSimulator(clock=clock), clock,
                              notifier=SmsNotices(), secret=load_secret(
                settings.ledger.secret_file, os.environ.get("SMSMENU_SECRET"))))
        rig = Rig(ledger, url, handset=smsc.handset, smsc=smsc)
        pairs = await fund(rig, opts.agents, f"1330{n % 10:03d}")
        await asyncio.sleep(0.5)  # the funding notices go out before the load starts
        tally, line = Tally(), rig.line(opts.transport, 10.0)
        walkers = [Agent(m, t, line.step, tally, late=line.late, balance_every=5, quiet=0.3)
                   for m, t in pairs]
        deadline = time.perf_counter() + opts.warmup + opts.windows * opts.window_s + 0.5
        tasks = [asyncio.create_task(w.run(deadline)) for w in walkers]
        spy = await _py_spy(stack, opts, server.pid, logs)
        try:
            windows = await measure(server.pid, lambda: len(tally.latencies), opts.warmup,
                                    opts.windows, opts.window_s)  # fmt: skip
            await asyncio.wait_for(asyncio.gather(*tasks), 60.0)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if spy is not None:
            await asyncio.wait_for(spy, 30.0)
        money = await reconcile(rig, pairs, tally)
        breaches = {k: v for k, v in (await ledger.verify()).items() if v}
        return {"windows": [w.row() for w in windows], "pid": server.pid,
                "mo_sent": tally.mo, "mo_answered": len(tally.latencies),
                "dialogs": dict(tally.dialogs), "outcomes": dict(tally.outcomes),
                "errors": dict(tally.errors), "resyncs": tally.resyncs,
                "submit_sm": smsc.stats.submits, "redeliveries": smsc.stats.redeliveries,
                "verify_clean": not breaches, "money_ok": bool(money["ok"])}


async def _py_spy(stack: AsyncExitStack, opts: Options, pid: int,
                  logs: Path) -> asyncio.Task[int] | None:  # fmt: skip
    """py-spy sampling the server over its measured windows, when asked for (``--profile``):
    a task that starts it once the warm-up is over and returns its exit status."""
    if not opts.profile:
        return None
    exe = Path(sys.executable).with_name("py-spy")
    seconds = max(1, round(opts.windows * opts.window_s))
    args = [str(exe), "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "1000",
            "--threads", "--gil", "--nonblocking", "--format", "raw", "--output", opts.profile]

    async def record() -> int:
        await asyncio.sleep(opts.warmup)  # as measure() does before its first window
        with (logs / "py-spy.log").open("ab") as out:
            spy = await asyncio.create_subprocess_exec(*args, stdout=out,
                                                       stderr=subprocess.STDOUT)
        try:
            return await spy.wait()
        finally:
            await stop_child(spy, 5.0)

    task = asyncio.create_task(record())
    stack.push_async_callback(_cancel, task)
    return task


async def _cancel(task: asyncio.Task[int]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


# ---------------------------------------------------------------- the whole benchmark


def _median(windows: list[dict[str, float]], key: str) -> float:
    return round(statistics.median(w[key] for w in windows), 1) if windows else 0.0


def _summary(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    windows = [w for r in rounds for w in r["windows"]]
    return {"cpu_us_per_mo": _median(windows, "cpu_us_per_mo"),
            "mo_per_s": _median(windows, "mo_per_s"), "busy": round(_median(windows, "busy"), 2),
            "windows": len(windows), "rounds": rounds}


async def run_async(opts: Options, rounds: int, logs: Path | None = None) -> dict[str, Any]:
    """``rounds`` rounds (echo, then server); the medians, their ratio and every window."""
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="cpu-per-mo-") as name:
        tmp = Path(name)
        where = logs or tmp / "logs"
        where.mkdir(parents=True, exist_ok=True)
        echo, server = [], []
        for n in range(rounds):
            echo.append(await echo_round(opts, where))
            server.append(await server_round(opts, tmp, where, n))
    e, s = _summary(echo), _summary(server)
    ratio = s["cpu_us_per_mo"] / e["cpu_us_per_mo"] if e["cpu_us_per_mo"] else 0.0
    return {
        "benchmark": "cpu_per_mo", "echo": e, "server": s, "ratio": round(ratio, 2),
        "goal_ratio": GOAL, "meets_goal": 0 < ratio <= GOAL,
        "answered_every_mo": all(r["mo_answered"] == r["mo_sent"] and not r["errors"]
                                 for r in server),
        "verify_clean": all(r["verify_clean"] and r["money_ok"] for r in server),
        "options": {**asdict(opts), "rounds": rounds}, "synchronous": "FULL",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_before": load_before, "load_after": os.getloadavg()},
    }  # fmt: skip


def run(seconds: float = 6.0, rounds: int = 2, windows: int = 3, agents: int = 100,
        logs: Path | None = None, **options: Any) -> dict[str, Any]:  # fmt: skip
    """``seconds`` measured per side per round, in ``windows`` windows; see the module doc."""
    opts = Options(window_s=seconds / windows, windows=windows, agents=agents, **options)
    return asyncio.run(run_async(opts, rounds, logs))


def table(result: dict[str, Any]) -> str:
    rows = ["side       CPU µs/MO     MO/s   busy  windows"]
    for side in ("echo", "server"):
        r = result[side]
        rows.append(f"{side:<8} {r['cpu_us_per_mo']:>11.1f} {r['mo_per_s']:>8.1f} "
                    f"{r['busy']:>6.2f} {r['windows']:>8}")
    rows.append(f"server/echo CPU per MO = {result['ratio']:.2f}x (goal <= {result['goal_ratio']}x:"
                f" {'met' if result['meets_goal'] else 'not met'}); every MO answered: "
                f"{'yes' if result['answered_every_mo'] else 'NO'}; ledger verify and money: "
                f"{'clean' if result['verify_clean'] else 'BREACH'}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0,
                        help="measured seconds per side per round (default 6)")
    parser.add_argument("--rounds", type=int, default=2, help="echo+server rounds (default 2)")
    parser.add_argument("--windows", type=int, default=3, help="windows per round (default 3)")
    parser.add_argument("--warmup", type=float, default=1.5, help="seconds not measured")
    parser.add_argument("--agents", type=int, default=100, help="agents loading the server")
    parser.add_argument("--server-window", type=int, default=50,
                        help="SMPP window of the server's bind and of the SMSC simulator")
    parser.add_argument("--handsets", type=int, default=200, help="phones driving the echo")
    parser.add_argument("--echo-window", type=int, default=100,
                        help="outstanding submit_sm of the echo ESME")
    parser.add_argument("--echo-receipts", action=argparse.BooleanOptionalAction, default=True,
                        help="the echo asks for delivery receipts, as the server does (default)")
    parser.add_argument("--echo-driver", choices=("lean", "simulator"), default="lean",
                        help="what drives the echo: the lean SMSC (saturates it) or the simulator")
    parser.add_argument("--profile", metavar="FILE",
                        help="py-spy (raw, collapsed stacks) of the server's measured windows")
    parser.add_argument("--logs", type=Path, help="keep the children's logs here")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--esme", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--password", default="", help=argparse.SUPPRESS)
    parser.add_argument("--lifetime", type=float, default=600.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    if args.esme is not None:  # the child: the minimal echo ESME
        asyncio.run(echo_esme(args.esme, args.password, args.echo_window, args.lifetime,
                              args.echo_receipts))
        return 0
    if args.rounds < 1 or args.windows < 1 or args.seconds <= 0:
        parser.error("--rounds and --windows at least 1, --seconds positive")
    result = run(args.seconds, args.rounds, args.windows, args.agents, args.logs,
                 warmup=args.warmup, handsets=args.handsets, echo_window=args.echo_window,
                 echo_driver=args.echo_driver, echo_receipts=args.echo_receipts,
                 server_window=args.server_window,
                 profile=args.profile or "")  # fmt: skip
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
