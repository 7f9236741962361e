"""Scripted mode: play a transcript through the phone's line, headless; a diff on the first miss."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import aiohttp

from simulator.phone.lines import Deliver, Line
from simulator.smsc_handset import Received
from simulator.transcript import Transcript, TranscriptError, TranscriptMismatch, parse, play

LineFactory = Callable[[Deliver], Line]


def expected_counts(script: Transcript) -> list[Counter[str]]:
    """For each ``>`` step, how many replies each number should get before the next step."""
    counts: list[Counter[str]] = []
    current: Counter[str] | None = None
    for step in script.steps:
        if step.op == "send":
            current = Counter()
            counts.append(current)
        elif step.op == "expect" and current is not None:
            current[step.number] += 1
        else:
            current = None
    return counts


class ScriptRunner:
    """The player's ``send`` and ``directive`` over a line; replies wait for the expected count."""

    def __init__(self, script: Transcript, make_line: LineFactory, *, timeout: float = 5.0,
                 grace: float = 0.05, billing_url: str | None = None) -> None:
        self.script = script
        self.line = make_line(self._deliver)
        self.timeout, self.grace, self.billing_url = timeout, grace, billing_url
        self.counts = expected_counts(script)
        self.got: list[tuple[str, str]] = []
        self._arrived = asyncio.Event()
        self.sent = 0

    def _deliver(self, msisdn: str, message: Received) -> None:
        self.got.append((msisdn, message.text))
        self._arrived.set()

    async def transmit(self, number: str, text: str) -> None:
        """What a ``>`` line does: here, one MO text from ``number``."""
        await self.line.send(number, text)

    def _enough(self, want: Counter[str]) -> bool:
        have = Counter(to for to, _ in self.got)
        return all(have[n] >= k for n, k in want.items())

    async def send(self, number: str, text: str) -> list[tuple[str, str]]:
        want = self.counts[self.sent] if self.sent < len(self.counts) else Counter()
        self.sent += 1
        await self.transmit(number, text)
        try:
            async with asyncio.timeout(self.timeout):
                while not self._enough(want):
                    self._arrived.clear()
                    await self._arrived.wait()
        except TimeoutError:
            pass  # the player reports what is missing
        await asyncio.sleep(self.grace)
        got, self.got = self.got, []
        return got

    async def directive(self, text: str) -> None:
        """Billing faults through the billing simulator's ``POST /faults``; nothing else remotely."""
        match text.split():
            case ["billing", "fail", n]:
                faults: dict[str, object] = {"fail_next": int(n)}
            case ["billing", "timeout", n, ("applied" | "lost") as how]:
                faults = {"timeout_next": {"n": int(n), "applied": how == "applied"}}
            case ["billing", ("down" | "up") as state]:
                faults = {"down": state == "down"}
            case _:
                raise TranscriptError(f"directive '! {text}' cannot be played against a server")
        if not self.billing_url:
            raise TranscriptError(f"'! {text}' needs the billing simulator's URL (--billing-url)")
        async with aiohttp.ClientSession() as http, \
                http.post(f"{self.billing_url.rstrip('/')}/faults", json=faults) as resp:
            if resp.status != 200:
                raise TranscriptError(f"billing faults: HTTP {resp.status} {await resp.text()}")

    async def run(self) -> dict[str, str]:
        numbers = {self.script.agent} | {s.number for s in self.script.steps if s.number}
        for number in sorted(numbers):
            self.line.watch(number)
        try:
            return await play(self.script, self.send, self.directive)
        finally:
            await self.line.aclose()


RunnerFactory = Callable[[Transcript], ScriptRunner]
"""Makes the runner of a transcript (``ScriptRunner``, or card mode's ``CardScriptRunner``)."""


async def play_file(path: Path, make_line: LineFactory, *, agent: str, wait: float = 5.0,
                    billing_url: str | None = None, out: TextIO | None = None,
                    runner_for: RunnerFactory | None = None) -> int:
    """Play ``path``; 0 when every reply matched, 1 with a diff on the first mismatch, 2 unreadable."""
    out = out or sys.stdout
    try:
        script = parse(await asyncio.to_thread(path.read_text, "utf-8"), agent)
        card = script.headers.get("mode") == "card"
        if card != (runner_for is not None):
            raise TranscriptError(f"a {'card' if card else 'menu-by-SMS'} transcript (@mode): "
                                  f"play it {'with' if card else 'without'} --card")
        runner = runner_for(script) if runner_for else ScriptRunner(
            script, make_line, timeout=wait, billing_url=billing_url)
        await runner.run()
    except TranscriptMismatch as exc:
        print(f"{path}: MISMATCH {exc}", file=out)
        return 1
    except (TranscriptError, OSError) as exc:
        print(f"{path}: {exc}", file=out)
        return 2
    except (aiohttp.ClientError, ConnectionError) as exc:
        print(f"{path}: cannot reach the server: {exc}", file=out)
        return 2
    expects = sum(1 for s in script.steps if s.op == "expect")
    print(f"{path}: ok, {runner.sent} messages sent, {expects} replies matched", file=out)
    return 0
