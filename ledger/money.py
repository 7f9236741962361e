"""Money in fen: yuan parsing and formatting, ppm commission rates, amount rules (R-8..R-16)."""

from __future__ import annotations

import re

from smsmenu.core.errors import InvalidAmount, InvalidRate
from smsmenu.core.types import Fen

FEN_PER_YUAN = 100
PPM = 1_000_000
"""Rates are integers in parts per million: 0.02 (2%) is 20_000 ppm."""
MAX_RATE_PPM = 200_000
"""Default upper bound (exclusive) of a commission rate: 0.2."""
MAX_YUAN_DIGITS = 12
"""Longest integer part accepted: keeps every amount far inside SQLite's signed 64-bit integer."""
NO_LIMIT = None
"""``high`` of a rule without a maximum (R-8, R-9): its refusal says "at least {low}"."""

_FULLWIDTH = str.maketrans({**{chr(0xFF10 + d): str(d) for d in range(10)}, "．": ".", "－": "-"})
_DECIMAL = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")


class AmountFormatError(InvalidAmount):
    """The text is not an amount at all; which range rule applies is for the caller to say.

    ``why`` is a code: ``missing``, ``not_digits``, ``negative``, ``decimals`` or ``too_large``.
    """

    rule = ""
    words = "E_AMOUNT_FORMAT"
    coded = {"why": "amount_why"}


def _int(value: int) -> int:
    """Guard against floats (and bools) reaching money arithmetic."""
    if type(value) is not int:
        raise TypeError(f"money is an int of fen, got {type(value).__name__}")
    return value


def parse_yuan(text: str) -> Fen:
    """Yuan text ("100", "100.5", "100.50", "１００") to fen; AmountFormatError if not an amount."""
    m = _DECIMAL.fullmatch(text.strip().translate(_FULLWIDTH))
    if m is None:
        raise AmountFormatError(why="not_digits" if text.strip() else "missing")
    sign, whole, frac = m.group(1), m.group(2), m.group(3) or ""
    if sign:
        raise AmountFormatError(why="negative")
    if len(frac) > 2:
        raise AmountFormatError(why="decimals")
    whole = whole.lstrip("0") or "0"
    if len(whole) > MAX_YUAN_DIGITS:
        raise AmountFormatError(why="too_large")
    return int(whole) * FEN_PER_YUAN + int(frac.ljust(2, "0"))


def format_yuan(fen: Fen) -> str:
    """Fen as yuan with exactly 2 decimals: 10000 -> "100.00", -350 -> "-3.50"."""
    whole, part = divmod(abs(_int(fen)), FEN_PER_YUAN)
    return f"{'-' if fen < 0 else ''}{whole}.{part:02d}"


def _format_ppm(ppm: int) -> str:
    """A ppm rate as the shortest fraction text: 200_000 -> "0.2", 15_000 -> "0.015"."""
    whole, part = divmod(ppm, PPM)
    return f"{whole}.{part:06d}".rstrip("0").rstrip(".")


def parse_rate(text: str, *, max_ppm: int = MAX_RATE_PPM) -> int:
    """A commission rate (R-16) given as a fraction ("0.02") to ppm (20_000).

    Accepted: 0 <= rate < max (0.2 by default), at most 6 decimals; otherwise InvalidRate(max=...).
    """
    if not 0 < _int(max_ppm) <= PPM:
        raise ValueError(f"max_ppm must be in 1..{PPM}, got {max_ppm}")
    m = _DECIMAL.fullmatch(text.strip().translate(_FULLWIDTH))
    if m is None or m.group(1) or len(m.group(3) or "") > 6 or len(m.group(2)) > 7:
        raise InvalidRate(max=_format_ppm(max_ppm))
    ppm = int(m.group(2)) * PPM + int((m.group(3) or "").ljust(6, "0"))
    if ppm >= max_ppm:
        raise InvalidRate(max=_format_ppm(max_ppm))
    return ppm


def commission(amount_fen: Fen, rate_ppm: int) -> Fen:
    """The agent's commission on one recharge (R-16): amount x rate, rounded DOWN to the fen.

    Floor, never round-half-up: the agent never earns more than its rate, so the operator never
    pays a fraction of a fen it did not owe. The agent is debited ``amount - commission``.
    """
    if _int(amount_fen) < 0 or not 0 <= _int(rate_ppm) < PPM:
        raise ValueError(f"commission needs amount >= 0 and 0 <= rate < {PPM} ppm")
    return amount_fen * rate_ppm // PPM


def _check(fen: Fen, *, rule: str, low: int, high: int | None, step: int) -> Fen:
    """``fen`` if it is a multiple of ``step`` yuan within [low, high] yuan, else InvalidAmount."""
    top = None if high is None else high * FEN_PER_YUAN
    if (_int(fen) < low * FEN_PER_YUAN or (top is not None and fen > top)
            or fen % (step * FEN_PER_YUAN)):
        raise InvalidAmount(rule=rule, low=low, high=high, step=step)
    return fen


def check_recharge_amount(fen: Fen) -> Fen:
    """One recharge (R-13): 10 to 1000 yuan, a multiple of 10 yuan. Returns ``fen``."""
    return _check(fen, rule="R-13", low=10, high=1000, step=10)


def check_counter_deposit(fen: Fen) -> Fen:
    """A deposit at a business hall (R-8): at least 500 yuan, a multiple of 10, no maximum."""
    return _check(fen, rule="R-8", low=500, high=NO_LIMIT, step=10)


def check_online_deposit(fen: Fen) -> Fen:
    """An online top-up (R-9): no 500 yuan minimum, but positive and a multiple of 10 yuan.

    The lowest such amount is 10 yuan, so that is the ``low`` the message shows.
    """
    return _check(fen, rule="R-9", low=10, high=NO_LIMIT, step=10)


def invoice_quota(deposit_fen: Fen) -> Fen:
    """Quota invoices issued for a counter deposit (R-12): 10% of it, rounded down to the fen."""
    if _int(deposit_fen) < 0:
        raise ValueError("a deposit is never negative")
    return deposit_fen // 10
