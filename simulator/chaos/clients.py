"""Chaos traffic: agents recharging over HTTP and SMPP, re-sending what went unanswered.

Every intended recharge has a target number of its own, so the ledger, BOSS and the receipts
can be matched intent by intent afterwards. Over HTTP an unanswered message is re-sent under
the same id; over SMPP (no id) the same text is sent again, as a person would. A failed
recharge is retried with ``CF*ID*PASSWORD``. Every loop is bounded in count and in time.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from simulator.chaos.system import TX
from simulator.smsc_http import RemoteHandset

OK_WORD, FAILED_WORD = "充值成功", "充值失败"
PENDING_WORDS = ("待确认", "处理中")
"""A reply saying the outcome is not known yet: the agent waits for the notice, sends nothing."""
FAILED_ID = re.compile(r"单号\s*(\d+)")
HTTP_TIMEOUT_S = 20.0
RESEND_AFTER_S = 12.0
"""An SMPP agent sends the same text again when no receipt came within this long."""
INTENT_BUDGET_S = 75.0
"""How long one recharge (with its re-sends and retries) may take before the agent moves on."""
NOTICE_WAIT_S = 30.0
"""How long an agent told "pending" waits for the notice with the result."""
MAX_SENDS = 400
MAX_RETRIES = 3


@dataclass
class Intent:
    """One recharge an agent meant to make (its target number is unique in the run)."""

    agent: str
    via: str
    form: str
    """``line`` (one-line command) or ``menu`` (a dialog, HTTP only)."""
    target: str
    yuan: int
    sends: int = 0
    retries: int = 0
    outcome: str = ""
    """``ok``, ``failed``, ``pending`` (told to wait, no notice within the budget),
    ``unanswered``, ``abandoned`` (menu dialog off track), ``other``."""
    told_pending: bool = False
    replies: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"agent": self.agent, "via": self.via, "form": self.form, "target": self.target,
                "yuan": self.yuan, "sends": self.sends, "retries": self.retries,
                "outcome": self.outcome, "told_pending": self.told_pending,
                "replies": self.replies[-4:]}


def receipt(text: str, target: str) -> str:
    """``ok``, ``failed``, ``pending`` or "" for a reply that is not this target's receipt."""
    if target not in text:
        return ""
    if OK_WORD in text:
        return "ok"
    if FAILED_WORD in text:
        return "failed"
    if any(word in text for word in PENDING_WORDS):
        return "pending"
    return ""


def direct_verdict(reply: str | None, target: str) -> str:
    """The verdict on a direct answer: a receipt, or "pending" also when it names the
    recharge by its id only (the menu's "单号N的充值结果待确认")."""
    if reply is None:
        return ""
    verdict = receipt(reply, target)
    if not verdict and "单号" in reply and any(word in reply for word in PENDING_WORDS):
        return "pending"
    return verdict


@dataclass
class Traffic:
    """Agents' traffic against one system; ``intents`` and ``errors`` are the clients' view."""

    http: aiohttp.ClientSession
    server_urls: list[str]
    """The servers' HTTP bases: each send of a message goes to the next one (a resend under the
    same id reaches another instance)."""
    control_url: str
    scenario_no: int
    seed: int = 0
    think_s: tuple[float, float] = (0.05, 0.3)
    menu_every: int = 4
    """Every Nth recharge of an HTTP agent walks the menu instead of the one-line command."""
    balance_every: int = 7
    retry_failed: bool = True
    max_intents: int = 500
    intents: list[Intent] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    handsets: dict[str, RemoteHandset] = field(default_factory=dict)
    _ids: int = 0

    # -- running ---------------------------------------------------------------------------
    async def run(self, http_agents: list[str], smpp_agents: list[str], seconds: float) -> None:
        """Every agent recharges until ``seconds`` have passed (then finishes what it started)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        agents = [(a, "http") for a in http_agents] + [(a, "smpp") for a in smpp_agents]
        await asyncio.gather(*(self.agent(n, a, via, deadline)
                               for n, (a, via) in enumerate(agents)))

    async def agent(self, index: int, msisdn: str, via: str, deadline: float) -> None:
        rng = random.Random(self.seed * 1000 + index)
        loop = asyncio.get_running_loop()
        for seq in range(self.max_intents):
            if loop.time() >= deadline:
                return
            if seq and seq % self.balance_every == 0:
                await self.balance(msisdn, via)
            form = "menu" if via == "http" and seq % self.menu_every == self.menu_every - 1 \
                else "line"
            target = f"133{self.scenario_no % 10}{index % 100:02d}{seq:05d}"
            intent = Intent(msisdn, via, form, target, rng.randrange(1, 11) * 10)
            self.intents.append(intent)
            try:
                await asyncio.wait_for(self.recharge(intent), INTENT_BUDGET_S + 30.0)
            except TimeoutError:
                intent.outcome = intent.outcome or "unanswered"
                self.errors["intent over budget"] += 1
            await asyncio.sleep(rng.uniform(*self.think_s))

    async def recharge(self, intent: Intent) -> None:
        loop = asyncio.get_running_loop()
        until = loop.time() + INTENT_BUDGET_S
        if intent.form == "menu":
            reply = await self.menu_recharge(intent, until)
        else:
            text = f"CZ*2*{intent.target}*{intent.yuan}*{TX}"
            reply = await self.send(intent, text, until)
        for _ in range(2 * MAX_RETRIES + 2):
            verdict = direct_verdict(reply, intent.target)
            if verdict == "pending":
                intent.told_pending = True
                reply = await self.await_notice(intent, until)
                if reply is None:
                    intent.outcome = "pending"
                    return
                continue
            found = FAILED_ID.search(reply or "")
            if verdict != "failed" or not self.retry_failed or intent.retries >= MAX_RETRIES \
                    or found is None:
                break
            intent.retries += 1
            if intent.retries > 1 and intent.via == "http":
                # the same CF line again within 10 minutes would get the first answer: the menu
                reply = await self.menu_retry(intent, until)
            else:
                reply = await self.send(intent, f"CF*{found[1]}*{TX}", until,
                                        tag=f"cf{intent.retries}")
        if reply is None:
            intent.outcome = intent.outcome or "unanswered"
        else:
            intent.outcome = receipt(reply, intent.target) or intent.outcome or "other"

    async def await_notice(self, intent: Intent, until: float) -> str | None:
        """The notice with this target's final result, from the agent's inbox at the SMSC."""
        loop = asyncio.get_running_loop()
        phone = self.handset(intent.agent)
        until = min(until, loop.time() + NOTICE_WAIT_S)
        for message in phone.inbox:  # it may have come already
            if receipt(message.text, intent.target) in ("ok", "failed"):
                return message.text
        while (left := until - loop.time()) > 0:
            try:
                fresh = await phone.poll(min(left, 5.0))
            except (aiohttp.ClientError, TimeoutError, ConnectionError):
                self.errors["smsc poll failed"] += 1
                await asyncio.sleep(0.5)
                continue
            for message in fresh:
                if receipt(message.text, intent.target) in ("ok", "failed"):
                    intent.replies.append(message.text)
                    return message.text
        return None

    async def menu_recharge(self, intent: Intent, until: float) -> str | None:
        """1 → 2 (C网手机) → number → amount → 1 (confirm) → password, each step checked."""
        steps = [("00", "1充值"), ("1", "2C网手机"), ("2", "号码"), (intent.target, "金额"),
                 (str(intent.yuan), "1确认"), ("1", "交易密码"), (TX, "")]
        reply: str | None = None
        for n, (text, want) in enumerate(steps):
            reply = await self.send(intent, text, until, tag=f"m{n}")
            if reply is None:
                return None
            if want and want not in reply:
                intent.outcome = "abandoned"
                self.errors["menu off track"] += 1
                await self.send(intent, "00", until, tag="m-reset")
                return None
        return reply

    async def menu_retry(self, intent: Intent, until: float) -> str | None:
        """异常处理 → 重复充值 → this target in the failed list (paging with #) → password."""
        tag = f"r{intent.retries}"
        reply = ""
        for n, (text, want) in enumerate([("00", "2异常处理"), ("2", "1重复充值"), ("1", "重复充值")]):
            got = await self.send(intent, text, until, tag=f"{tag}m{n}")
            if got is None or want not in got:
                return got
            reply = got
        for page in range(20):
            line = next((x for x in reply.splitlines() if intent.target in x), None)
            if line is not None:
                choice = line.split(".", 1)[0].strip()
                got = await self.send(intent, choice, until, tag=f"{tag}c")
                if got is None or "交易密码" not in got:
                    return got
                return await self.send(intent, TX, until, tag=f"{tag}p")
            if "#" not in reply:
                break
            got = await self.send(intent, "#", until, tag=f"{tag}n{page}")
            if got is None:
                return None
            reply = got
        self.errors["failed recharge not in the retry list"] += 1
        await self.send(intent, "00", until, tag=f"{tag}x")
        return None

    async def balance(self, msisdn: str, via: str) -> None:
        """A balance query between recharges; its answer is not judged."""
        self._ids += 1
        text = f"YE*{TX}"
        try:
            if via == "http":
                body = {"from": msisdn, "text": text, "id": f"ye-{self.scenario_no}-{self._ids}"}
                url = self.server_urls[self._ids % len(self.server_urls)]
                async with self.http.post(f"{url}/api/sms", json=body,
                                          timeout=aiohttp.ClientTimeout(total=5)) as resp:
                    await resp.read()
            else:
                await self._smpp_send(msisdn, text)
        except (aiohttp.ClientError, TimeoutError, ConnectionError):
            self.errors["balance query lost"] += 1

    async def send(self, intent: Intent, text: str, until: float, *, tag: str = "") -> str | None:
        if intent.via == "http":
            return await self._http_until_answered(intent, text, until, tag)
        return await self._smpp_until_answered(intent, text, until)

    # -- HTTP ------------------------------------------------------------------------------
    async def _http_until_answered(self, intent: Intent, text: str, until: float, tag: str
                                   ) -> str | None:  # fmt: skip
        """POST under one id until an answer comes (the same id each time: safe to repeat)."""
        loop = asyncio.get_running_loop()
        body = {"from": intent.agent, "text": text, "id": f"chaos-{intent.target}-{tag or 'cz'}"}
        for _ in range(MAX_SENDS):
            if loop.time() >= until:
                return None
            intent.sends += 1
            try:
                url = self.server_urls[(intent.sends - 1) % len(self.server_urls)]
                async with self.http.post(f"{url}/api/sms", json=body,
                                          timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S)
                                          ) as resp:  # fmt: skip
                    if resp.status == 200:
                        data = await resp.json()
                        replies = [r["text"] for r in data["replies"] if r["to"] == intent.agent]
                        reply = replies[0] if replies else ""
                        intent.replies.append(reply)
                        return reply
                    self.errors[f"http {resp.status}"] += 1
            except TimeoutError:
                self.errors["http timeout"] += 1
            except aiohttp.ClientError as exc:
                self.errors[f"http {type(exc).__name__}"] += 1
            await asyncio.sleep(0.3)
        return None

    # -- SMPP ------------------------------------------------------------------------------
    def handset(self, msisdn: str) -> RemoteHandset:
        if msisdn not in self.handsets:
            self.handsets[msisdn] = RemoteHandset(f"{self.control_url}/smsc", msisdn,
                                                  http=self.http)
        return self.handsets[msisdn]

    async def _smpp_send(self, msisdn: str, text: str) -> None:
        async with self.http.post(f"{self.control_url}/chaos/send/{msisdn}", json={"text": text},
                                  timeout=aiohttp.ClientTimeout(total=10)) as resp:
            if resp.status != 202:
                raise ConnectionError(f"SMSC: {resp.status}")

    async def _smpp_until_answered(self, intent: Intent, text: str, until: float) -> str | None:
        """Send; wait for this target's receipt; send the same text again after a silence."""
        loop = asyncio.get_running_loop()
        phone = self.handset(intent.agent)
        for _ in range(MAX_SENDS):
            if loop.time() >= until:
                return None
            intent.sends += 1
            try:
                await self._smpp_send(intent.agent, text)
            except (aiohttp.ClientError, TimeoutError, ConnectionError):
                self.errors["smsc send failed"] += 1
                await asyncio.sleep(0.5)
                continue
            resend_at = min(loop.time() + RESEND_AFTER_S, until)
            while (left := resend_at - loop.time()) > 0:
                try:
                    fresh = await phone.poll(min(left, 5.0))
                except (aiohttp.ClientError, TimeoutError, ConnectionError):
                    self.errors["smsc poll failed"] += 1
                    await asyncio.sleep(0.5)
                    continue
                for message in fresh:
                    if receipt(message.text, intent.target):
                        intent.replies.append(message.text)
                        return message.text
            self.errors["smpp re-send"] += 1
        return None

    async def late_receipts(self, agents: list[str]) -> dict[str, set[str]]:
        """Every receipt text in the agents' inboxes at the SMSC: target -> {ok, failed}."""
        seen: dict[str, set[str]] = {}
        pattern = re.compile(r"(133\d{8})")
        for msisdn in agents:
            try:
                await self.handset(msisdn).poll(0)
            except (aiohttp.ClientError, TimeoutError, ConnectionError):
                self.errors["smsc poll failed"] += 1
                continue
            for message in self.handset(msisdn).inbox:
                found = pattern.search(message.text)
                if found and (what := receipt(message.text, found[1])) in ("ok", "failed"):
                    seen.setdefault(found[1], set()).add(what)
        return seen
