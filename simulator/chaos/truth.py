"""Ground truth after a scenario: what the clients saw, what the ledger holds, what BOSS applied.

Per intended recharge (its target number is unique): *posted* = a succeeded ledger recharge,
*credited* = an applied credit at BOSS, *confirmed* = a success receipt reached the agent.
*doubled* = more than one of either; *lost* = one side without the other, or a receipt without
a posting. Money: each agent's deposit less its balance equals the charges of its posted
recharges, and BOSS's total equals the amounts the ledger posted.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from ledger.store.inspect import read_books
from simulator.chaos.clients import Intent

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class LedgerFacts:
    """The ledger's side, read from the database file (read-only)."""

    succeeded: Counter[str] = field(default_factory=Counter)
    """target -> succeeded (or reversed) recharges."""
    statuses: dict[str, list[str]] = field(default_factory=dict)
    posted_fen: int = 0
    charges_by_agent: Counter[str] = field(default_factory=Counter)
    spent_by_agent: Counter[str] = field(default_factory=Counter)
    """deposits less balance, per agent number."""
    pending_recharges: int = 0
    pending_transfers: int = 0
    settlement_fen: int = 0


def read_ledger(db: Path | str) -> LedgerFacts:
    books = read_books(db)
    facts = LedgerFacts(pending_transfers=books.pending_transfers,
                        settlement_fen=books.settlement_fen)
    for r in books.recharges:
        facts.statuses.setdefault(r.target, []).append(r.status)
        if r.status in ("succeeded", "reversed"):
            facts.succeeded[r.target] += 1
            facts.posted_fen += r.amount_fen
            facts.charges_by_agent[r.agent] += r.amount_fen - r.commission_fen
        if r.status == "pending":
            facts.pending_recharges += 1
    for a in books.agents:
        facts.spent_by_agent[a.agent] = a.deposited_fen - a.balance_fen
    return facts


def pending_now(db: Path | str) -> int:
    """Reservations still pending (recharges and transfers), read-only."""
    facts = read_ledger(db)
    return max(facts.pending_recharges, facts.pending_transfers)


def queued_notices(db: Path | str) -> int:
    """Outbox rows not sent yet."""
    return read_books(db).queued_notices


@dataclass
class BossFacts:
    credited: Counter[str] = field(default_factory=Counter)
    """target -> applied credits."""
    credited_fen: int = 0
    source: str = ""


async def read_boss(http: aiohttp.ClientSession, url: str, intents: list[Intent],
                    days: list[dt.date]) -> BossFacts:  # fmt: skip
    """BOSS's applied credits: ``GET /credits?date=`` where billing-sim has it, else each
    target's account balance (every target is fresh, so its balance is what it was credited)."""
    facts = BossFacts()
    wanted = {i.target: i.yuan * 100 for i in intents}
    credits: list[dict[str, Any]] = []
    for day in days:
        async with http.get(f"{url}/credits", params={"date": day.isoformat()}) as resp:
            if resp.status != 200:
                credits = []
                break
            data = await resp.json()
            credits.extend(data if isinstance(data, list) else data.get("credits", []))
        facts.source = "credits"
    if facts.source:
        for c in credits:
            if c.get("ok") and c.get("number") in wanted:
                facts.credited[c["number"]] += 1
                facts.credited_fen += int(c["amount_fen"])
        return facts
    facts.source = "accounts"
    gate = asyncio.Semaphore(16)

    async def one(target: str, amount: int) -> None:
        async with gate, http.get(f"{url}/accounts/mobile/{target}") as resp:
            if resp.status == 404:
                return
            balance = int((await resp.json())["balance_fen"])
        facts.credited_fen += balance
        facts.credited[target] = balance // amount if amount else 0
        if balance % amount:
            facts.credited[target] += 1  # a partial amount: count it, it is wrong anyway

    await asyncio.gather(*(one(t, a) for t, a in wanted.items()))
    return facts


def business_days(start: dt.datetime, end: dt.datetime) -> list[dt.date]:
    """The Asia/Shanghai days a run spanned (usually one)."""
    first, last = start.astimezone(SHANGHAI).date(), end.astimezone(SHANGHAI).date()
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def tally(intents: list[Intent], late: dict[str, set[str]], ledger: LedgerFacts,
          boss: BossFacts) -> dict[str, Any]:  # fmt: skip
    """The scenario's row: counts per intent and the money checks, with examples of breaches."""
    confirmed = {i.target for i in intents if i.outcome == "ok"}
    confirmed |= {t for t, seen in late.items() if "ok" in seen}
    targets = {i.target for i in intents}
    doubled, lost = [], []
    for t in sorted(targets):
        posted, credited = ledger.succeeded[t], boss.credited[t]
        if posted > 1 or credited > 1:
            doubled.append({"target": t, "posted": posted, "credited": credited})
        if (posted > 0) != (credited > 0) or (t in confirmed and posted == 0):
            lost.append({"target": t, "posted": posted, "credited": credited,
                         "confirmed": t in confirmed, "ledger": ledger.statuses.get(t, [])})
    stray = sorted(set(ledger.statuses) - targets)
    agents_off = {a: {"spent": ledger.spent_by_agent[a], "charges": ledger.charges_by_agent[a]}
                  for a in ledger.spent_by_agent
                  if ledger.spent_by_agent[a] != ledger.charges_by_agent[a]}
    outcomes = Counter(i.outcome for i in intents)
    return {
        "attempted": len(intents),
        "confirmed": len(confirmed & targets),
        "posted": sum(1 for t in targets if ledger.succeeded[t]),
        "credited": sum(1 for t in targets if boss.credited[t]),
        "doubled": len(doubled),
        "lost": len(lost),
        "pending": max(ledger.pending_recharges, ledger.pending_transfers),
        "outcomes": dict(outcomes),
        "money": {
            "ok": not agents_off and boss.credited_fen == ledger.posted_fen
            and ledger.settlement_fen == ledger.posted_fen,
            "boss_credited_fen": boss.credited_fen, "ledger_posted_fen": ledger.posted_fen,
            "settlement_fen": ledger.settlement_fen, "agents_off": agents_off},
        "boss_source": boss.source,
        "doubled_examples": doubled[:5], "lost_examples": lost[:5], "stray_targets": stray[:5],
    }


def summarize_by(intents: list[Intent], key: str) -> dict[str, dict[str, int]]:
    """Outcome counts grouped by an intent field (``via`` or ``form``)."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for i in intents:
        out[str(getattr(i, key))][i.outcome] += 1
    return {k: dict(v) for k, v in out.items()}
