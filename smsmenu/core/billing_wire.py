"""The BOSS wire format's values (results, credits, balances) to and from JSON, parsed strictly."""

from __future__ import annotations

import datetime as dt
from typing import Any

from smsmenu.core.types import BossCredit, CreditResult, Fen, TargetKind

__all__ = ["balance_from_json", "credit_to_json", "credits_from_json", "result_from_json",
           "result_to_json"]


def result_to_json(result: CreditResult) -> dict[str, object]:
    """A result in the wire format."""
    return {"ok": result.ok, "reference": result.reference, "account_type": result.account_type,
            "bill_month": result.bill_month, "reason": result.reason}


def result_from_json(data: Any) -> CreditResult:
    """A result from the wire format; ValueError when it is not one."""
    try:
        ok, reference = data["ok"], data["reference"]
        account_type, month = data.get("account_type", "prepaid"), data.get("bill_month")
        reason = data.get("reason", "")
    except (TypeError, KeyError, AttributeError) as exc:
        raise ValueError(f"not a billing result: {data!r}") from exc
    texts_ok = isinstance(reference, str) and isinstance(reason, str)
    month_ok = month is None or isinstance(month, str)
    if not (isinstance(ok, bool) and texts_ok and month_ok
            and account_type in ("prepaid", "postpaid")):
        raise ValueError(f"not a billing result: {data!r}")
    return CreditResult(ok, reference, account_type, month, reason)


def credit_to_json(credit: BossCredit) -> dict[str, object]:
    """One of BOSS's credits in the wire format (``GET /credits``)."""
    return {"reference": credit.reference, "kind": credit.kind.value, "number": credit.number,
            "amount_fen": credit.amount_fen, "ok": credit.ok, "reason": credit.reason,
            "at": credit.at}


def credits_from_json(data: Any, day: dt.date) -> list[BossCredit]:
    """The answer to ``GET /credits?date=day``; ValueError when it is not one (or another day's)."""
    if not isinstance(data, dict) or data.get("date") != day.isoformat():
        raise ValueError(f"not the credits of {day}: {data!r}")
    items = data.get("credits")
    if not isinstance(items, list):
        raise ValueError(f"not a list of credits: {items!r}")
    return [_credit_from_json(item) for item in items]


def _credit_from_json(item: Any) -> BossCredit:
    if not isinstance(item, dict):
        raise ValueError(f"not a credit: {item!r}")
    texts = [item.get(name) for name in ("reference", "kind", "number", "reason", "at")]
    amount, ok = item.get("amount_fen"), item.get("ok")
    if not (all(isinstance(t, str) for t in texts) and isinstance(ok, bool)
            and isinstance(amount, int) and not isinstance(amount, bool)):
        raise ValueError(f"not a credit: {item!r}")
    reference, kind, number, reason, at = (str(t) for t in texts)
    if dt.datetime.fromisoformat(at).tzinfo is None:
        raise ValueError(f"credit time without an offset: {at!r}")
    return BossCredit(reference, TargetKind(kind), number, amount, ok, reason, at)


def balance_from_json(data: Any) -> Fen:
    """The ``balance_fen`` of a ``GET /balance`` answer; ValueError when there is none."""
    value = data.get("balance_fen") if isinstance(data, dict) else None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"not a balance: {data!r}")
    return value
