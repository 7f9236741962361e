"""Reconciliation: our recharge attempts of a day against BOSS's list of that day's credits.

Each credit attempt has its own reference (a retry, R-18, makes a new one). For a reference we
know the expected state at BOSS: the reference a succeeded recharge settled under must be
applied, with the same amount; every other reference of ours must not be; a pending one is
reported as pending. A credit BOSS applied under a reference we never made is reported too.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo

from ledger.context import Env
from smsmenu.core.clock import iso
from smsmenu.core.types import BossCredit


class Mismatch(StrEnum):
    """The kinds of disagreement, worst first."""

    CREDITED_NOT_POSTED = "credited_not_posted"
    """BOSS applied it, our recharge failed: the customer got it, the agent was not charged."""
    POSTED_NOT_CREDITED = "posted_not_credited"
    """We charged the agent, BOSS has no applied credit under that reference."""
    AMOUNT_DIFFERS = "amount_differs"
    UNKNOWN_TO_US = "unknown_to_us"
    """BOSS applied a reference we never made."""
    PENDING = "pending"
    """Still awaiting BOSS's confirmation."""


@dataclass(frozen=True, slots=True)
class Line:
    """One mismatch."""

    kind: Mismatch
    reference: str
    recharge_id: int | None
    ours_fen: int | None
    boss_fen: int | None


@dataclass(frozen=True)
class Report:
    """The day's comparison: totals on both sides and every mismatch."""

    day: dt.date
    references: int
    posted_fen: int
    credited_fen: int
    lines: list[Line] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.lines


@dataclass(frozen=True, slots=True)
class _Ours:
    recharge_id: int
    amount: int
    state: str
    """``applied`` (the reference a succeeded recharge settled under), ``not_applied``, ``pending``."""


def day_bounds(day: dt.date, tz: ZoneInfo) -> tuple[str, str]:
    """The stored-timestamp range [start, end) of a business day in ``tz``."""
    start = dt.datetime.combine(day, dt.time(), tz)
    return iso(start), iso(start + dt.timedelta(days=1))


def _ours(conn: sqlite3.Connection, reference: str) -> _Ours | None:
    row = conn.execute(
        "SELECT id, amount, status, reference FROM recharges WHERE reference = ? OR "
        "(' ' || past_references || ' ') LIKE ('% ' || ? || ' %')", (reference, reference),
    ).fetchone()
    if row is None:
        return None
    rid, amount, status, current = row
    if status == "pending":
        state = "pending" if current == reference else "not_applied"
    else:
        state = "applied" if status in ("succeeded", "reversed") and current == reference \
            else "not_applied"
    return _Ours(int(rid), int(amount), state)


def compare(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, day: dt.date, start: str,
            end: str, boss: list[BossCredit]) -> Report:
    """Compare our references made in [start, end) and BOSS's credits received on ``day``
    (``boss`` may hold neighbouring days too: a credit sent at 23:59:59 lands after midnight)."""
    by_ref = {c.reference: c for c in boss}
    ours_refs = [r for (r,) in conn.execute(
        "SELECT reference FROM transfers WHERE op = 'recharge' AND created_at >= ? AND "
        "created_at < ? AND reference IS NOT NULL", (start, end))]
    boss_refs = [c.reference for c in boss if _on_day(c.at, day, env)]
    lines: list[Line] = []
    posted = credited = 0
    for reference in dict.fromkeys(ours_refs + boss_refs):
        mine, theirs = _ours(conn, reference), by_ref.get(reference)
        applied = theirs is not None and theirs.ok
        boss_fen = theirs.amount_fen if applied and theirs else None
        if reference in boss_refs and applied and theirs:
            credited += theirs.amount_fen
        if mine is None:
            if applied:
                lines.append(Line(Mismatch.UNKNOWN_TO_US, reference, None, None, boss_fen))
            continue
        if mine.state == "applied" and reference in ours_refs:
            posted += mine.amount
        kind = _judge(mine, applied, boss_fen)
        if kind is not None:
            lines.append(Line(kind, reference, mine.recharge_id, mine.amount, boss_fen))
    lines.sort(key=lambda line: (list(Mismatch).index(line.kind), line.reference))
    return Report(day, len(dict.fromkeys(ours_refs + boss_refs)), posted, credited, lines)


def _judge(mine: _Ours, applied: bool, boss_fen: int | None) -> Mismatch | None:
    if mine.state == "pending":
        return Mismatch.PENDING
    if mine.state == "not_applied":
        return Mismatch.CREDITED_NOT_POSTED if applied else None
    if not applied:
        return Mismatch.POSTED_NOT_CREDITED
    return Mismatch.AMOUNT_DIFFERS if boss_fen != mine.amount else None


def _on_day(at: str, day: dt.date, env: Env) -> bool:
    return env.local(dt.datetime.fromisoformat(at)).date() == day
