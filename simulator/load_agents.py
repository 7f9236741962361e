"""One simulated agent under load: recharge dialogs, retries of failed ones, balance queries."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp

Step = Callable[[str, str], Awaitable[str]]
"""``step(msisdn, text)``: send one MO as the agent, return the agent's reply text."""
TX = "135790"
MGMT = "246800"
AMOUNT_YUAN = 100

Dialog = list[tuple[str, str]]
"""(what to send, a piece the reply must contain); "" for the last step, judged by the caller."""
RECHARGE: Dialog = [("1", "1固定电话"), ("2", "C网手机号码"), ("{target}", "请输入金额"),
                    (str(AMOUNT_YUAN), "请核对"), ("1", "请输入交易密码"), (TX, "")]
RETRY: Dialog = [("2", "1重复充值"), ("1", "\n1."), ("1", "请输入交易密码"), (TX, "")]
BALANCE: Dialog = [("3", "1余额查询"), ("1", "余额查询"), (TX, "充值账户余额")]
STEPS = {"recharge": len(RECHARGE), "retry": len(RETRY), "balance": len(BALANCE)}


class Unexpected(Exception):
    """A reply that is not the screen the dialog should be on."""


@dataclass
class Tally:
    """What all agents did; shared by their tasks (one event loop, no locks needed)."""

    mo: int = 0
    dialogs: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    """``recharge_ok``, ``recharge_failed``, ``retry_ok``, ``retry_failed``."""
    succeeded: Counter[str] = field(default_factory=Counter)
    """Success receipts per agent number (recharges and retries)."""
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)

    @property
    def dialog_mo(self) -> int:
        """MO texts of completed dialogs: what ``mo`` is when nothing went wrong."""
        return sum(STEPS[kind] * n for kind, n in self.dialogs.items())


class Agent:
    """Walks dialogs as fast as they are answered until ``deadline`` (``time.perf_counter``)."""

    def __init__(self, msisdn: str, target: str, step: Step, tally: Tally, *,
                 balance_every: int = 5, max_retries: int = 3) -> None:
        self.msisdn, self.target, self._step, self.tally = msisdn, target, step, tally
        self.balance_every, self.max_retries = balance_every, max_retries

    async def send(self, text: str) -> str:
        self.tally.mo += 1
        start = time.perf_counter()
        reply = await self._step(self.msisdn, text)
        self.tally.latencies.append(time.perf_counter() - start)
        return reply

    async def dialog(self, kind: str, steps: Dialog) -> str:
        """Walk one dialog; the last reply. Raises ``Unexpected`` on a wrong screen."""
        reply = ""
        for text, want in steps:
            reply = await self.send(text.format(target=self.target))
            if want not in reply:
                raise Unexpected(f"{kind}: sent {text!r}, got {reply[:60]!r}")
        self.tally.dialogs[kind] += 1
        return reply

    def _receipt(self, kind: str, reply: str) -> bool:
        if reply.startswith("充值成功"):
            self.tally.outcomes[f"{kind}_ok"] += 1
            self.tally.succeeded[self.msisdn] += 1
            return True
        if reply.startswith("充值失败"):
            self.tally.outcomes[f"{kind}_failed"] += 1
            return False
        raise Unexpected(f"{kind}: no receipt but {reply[:60]!r}")

    async def run(self, deadline: float) -> None:
        done = 0
        while time.perf_counter() < deadline:
            try:
                ok = self._receipt("recharge", await self.dialog("recharge", RECHARGE))
                tries = 0
                while not ok and tries < self.max_retries and time.perf_counter() < deadline:
                    tries += 1
                    ok = self._receipt("retry", await self.dialog("retry", RETRY))
                done += 1
                if done % self.balance_every == 0 and time.perf_counter() < deadline:
                    await self.dialog("balance", BALANCE)
            except Unexpected:
                self.tally.errors["unexpected reply"] += 1
                await self.resync()
            except TimeoutError:
                self.tally.errors["timeout"] += 1
                await self.resync()
            except (aiohttp.ClientError, ConnectionError) as exc:
                self.tally.errors[f"transport: {type(exc).__name__}"] += 1
                await self.resync()

    async def resync(self) -> None:
        """Back to the main menu (``00``) after an error, so the next dialog starts clean."""
        try:
            await self.send("00")
        except (TimeoutError, aiohttp.ClientError, ConnectionError):
            self.tally.errors["resync failed"] += 1
