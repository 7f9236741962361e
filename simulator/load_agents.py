"""One simulated agent under load: recharge dialogs, retries of failed ones, balance queries.

An agent that finds itself on a screen its dialog did not expect (a key press the SMSC delivered
twice, a reply lost or late) resynchronizes: it discards the replies still arriving, sends
``00`` (back to the main menu) until the main menu is the last thing it hears, and starts the
next dialog. That is a ``resync``, not an error. A recharge whose receipt it did not see is
``unconfirmed``: neither failed nor succeeded; the money check asks the ledger.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp

Step = Callable[[str, str], Awaitable[str]]
"""``step(msisdn, text)``: send one MO as the agent, return the agent's next reply text."""
Late = Callable[[str, float], Awaitable[list[str]]]
"""``late(msisdn, quiet)``: replies that came unasked, gathered until ``quiet`` s pass silent."""
TX = "135790"
MGMT = "246800"
AMOUNT_YUAN = 100
MAIN = "空中充值\n1充值\n2异常处理"
"""The main menu's screen (zh), what ``00`` answers."""
RECEIPT = re.compile(r"充值成功[^\n]*单号(\d+)")
RESYNC_TRIES = 5
TRANSPORT = (TimeoutError, aiohttp.ClientError, ConnectionError)

Dialog = list[tuple[str, str]]
"""(what to send, a piece the reply must contain); "" for the last step, judged by the caller."""
RECHARGE: Dialog = [("1", "1固定电话"), ("2", "C网手机号码"), ("{target}", "请输入金额"),
                    (str(AMOUNT_YUAN), "请核对"), ("1", "请输入交易密码"), (TX, "")]
RETRY: Dialog = [("2", "1重复充值"), ("1", "\n1."), ("1", "请输入交易密码"), (TX, "")]
BALANCE: Dialog = [("3", "1余额查询"), ("1", "余额查询"), (TX, "充值账户余额")]
STEPS = {"recharge": len(RECHARGE), "retry": len(RETRY), "balance": len(BALANCE)}
MONEY = {"recharge", "retry"}
"""Dialogs whose last step may move money."""


class Unexpected(Exception):
    """A reply that is not the screen the dialog should be on."""


@dataclass
class Tally:
    """What all agents did; shared by their tasks (one event loop, no locks needed)."""

    mo: int = 0
    dialogs: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    """``recharge_ok``, ``recharge_failed``, ``recharge_unconfirmed``, the same for ``retry``."""
    receipts: dict[str, set[str]] = field(default_factory=dict)
    """References of the success receipts each agent number received, in a dialog or late."""
    errors: Counter[str] = field(default_factory=Counter)
    resyncs: int = 0
    late: int = 0
    """Replies discarded while resynchronizing."""
    latencies: list[float] = field(default_factory=list)

    @property
    def dialog_mo(self) -> int:
        """MO texts of completed dialogs: what ``mo`` is when nothing went wrong."""
        return sum(STEPS[kind] * n for kind, n in self.dialogs.items())


class Agent:
    """Walks dialogs as fast as they are answered until ``deadline`` (``time.perf_counter``).

    ``late`` (optional) lets the agent discard replies still arriving when it resynchronizes;
    ``quiet`` is how long a line must stay silent for the agent to believe nothing else comes.
    """

    def __init__(self, msisdn: str, target: str, step: Step, tally: Tally, *,
                 late: Late | None = None, balance_every: int = 5, max_retries: int = 3,
                 quiet: float = 0.3) -> None:
        self.msisdn, self.target, self._step, self.tally = msisdn, target, step, tally
        self._late, self.quiet = late, quiet
        self.balance_every, self.max_retries = balance_every, max_retries

    async def send(self, text: str) -> str:
        self.tally.mo += 1
        start = time.perf_counter()
        reply = await self._step(self.msisdn, text)
        self.tally.latencies.append(time.perf_counter() - start)
        self._saw(reply)
        return reply

    def _saw(self, text: str) -> None:
        """Note any success receipt in a text the agent received (a receipt may come late, or
        ahead of the next screen)."""
        for reference in RECEIPT.findall(text):
            self.tally.receipts.setdefault(self.msisdn, set()).add(reference)

    async def dialog(self, kind: str, steps: Dialog) -> str:
        """Walk one dialog; the last reply. Raises ``Unexpected`` on a wrong screen."""
        reply = ""
        for n, (text, want) in enumerate(steps):
            try:
                reply = await self.send(text.format(target=self.target))
            except TRANSPORT:
                if kind in MONEY and n == len(steps) - 1:
                    self.tally.outcomes[f"{kind}_unconfirmed"] += 1
                raise
            if want not in reply:
                raise Unexpected(f"{kind}: sent {text!r}, got {reply[:60]!r}")
        self.tally.dialogs[kind] += 1
        return reply

    def _receipt(self, kind: str, reply: str) -> bool:
        if reply.startswith("充值成功"):
            self.tally.outcomes[f"{kind}_ok"] += 1
            return True
        if reply.startswith("充值失败"):
            self.tally.outcomes[f"{kind}_failed"] += 1
            return False
        self.tally.outcomes[f"{kind}_unconfirmed"] += 1  # charged or not: the ledger knows
        raise Unexpected(f"{kind}: no receipt but {reply[:60]!r}")

    async def round(self, deadline: float) -> None:
        """One recharge, retried while it fails (up to ``max_retries``)."""
        ok = self._receipt("recharge", await self.dialog("recharge", RECHARGE))
        tries = 0
        while not ok and tries < self.max_retries and time.perf_counter() < deadline:
            tries += 1
            ok = self._receipt("retry", await self.dialog("retry", RETRY))

    async def run(self, deadline: float, rounds: int | None = None) -> None:
        """Rounds (and a balance query every ``balance_every``) until ``deadline``, or until
        ``rounds`` were walked; any trouble: resynchronize and go on."""
        done = 0
        while time.perf_counter() < deadline and done < (math.inf if rounds is None else rounds):
            done += 1
            try:
                await self.round(deadline)
                if done % self.balance_every == 0 and time.perf_counter() < deadline:
                    await self.dialog("balance", BALANCE)
            except Unexpected:
                await self.resync()
            except TimeoutError:
                self.tally.errors["timeout"] += 1
                await self.resync()
            except (aiohttp.ClientError, ConnectionError) as exc:
                self.tally.errors[f"transport: {type(exc).__name__}"] += 1
                await self.resync()

    async def discard(self) -> int:
        """Drop the replies still arriving (noting receipts among them); how many there were."""
        if self._late is None:
            return 0
        texts = await self._late(self.msisdn, self.quiet)
        for text in texts:
            self._saw(text)
        self.tally.late += len(texts)
        return len(texts)

    async def resync(self) -> bool:
        """Back in step with the menu: discard late replies, ``00`` until the main menu is the
        last reply. False (and the error ``resync failed``) when that did not happen."""
        self.tally.resyncs += 1
        for _ in range(RESYNC_TRIES):
            try:
                await self.discard()
                if MAIN in await self.send("00") and not await self.discard():
                    return True
            except TRANSPORT:
                continue
        self.tally.errors["resync failed"] += 1
        return False
