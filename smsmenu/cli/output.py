"""Human-readable CLI output in Chinese or English: labels, yuan amounts, local times.

The words are the texts' ``[cli.label]``, ``[cli.title]`` and ``[cli.value]`` tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from ledger.money import format_yuan
from smsmenu.core.clock import from_iso
from smsmenu.core.texts import packaged

HIDDEN = frozenset({"agent_id", "transfer_id", "past_references", "lang"})
"""Keys left out of the human view (still in ``--json``)."""
FLAGS = frozenset({"phone_suspended", "invoice_taken", "ok"})
CODED = frozenset({"status", "channel", "kind", "account_type", "changed", "failure"})
"""Keys whose values are codes, shown in words by ``code_text``."""


def words(lang: str, table: str) -> Mapping[str, str]:
    """One ``[cli.*]`` table of the packaged texts in ``lang`` (English for another language)."""
    tables = packaged().tables
    words: Mapping[str, str] = tables.get(lang, tables["en"])["cli"][table]
    return words


def title(lang: str, key: str) -> str:
    """A result's heading (``[cli.title]``)."""
    return words(lang, "title")[key]


def label(lang: str, key: str) -> str:
    """A field's name (``[cli.label]``), or the key itself when it has none."""
    return words(lang, "label").get(key, key)


def code_text(lang: str, value: str) -> str:
    """A coded value in words (``[cli.value]``), or the code itself when it (or the language)
    has none."""
    if lang not in packaged().tables:
        return value
    return words(lang, "value").get(value, value)


def rate_text(ppm: int) -> str:
    """A ppm rate as a fraction: 20_000 -> "0.02"."""
    whole, part = divmod(ppm, 1_000_000)
    return f"{whole}.{part:06d}".rstrip("0").rstrip(".")


def local_time(stamp: str, tz: ZoneInfo) -> str:
    """A stored UTC timestamp as business-local time, to the second."""
    try:
        return from_iso(stamp).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return stamp


def value_text(key: str, value: Any, lang: str, tz: ZoneInfo) -> str:
    """One field's value as an operator reads it."""
    if value is None or value == "":
        return "-"
    if key.endswith("_fen") and isinstance(value, int):
        return f"{format_yuan(value)} {label(lang, 'yuan')}"
    if key == "rate_ppm" and isinstance(value, int):
        return rate_text(value)
    if key in FLAGS:
        return label(lang, "yes" if value else "no")
    if key.endswith("locked_until") and isinstance(value, str) and value.startswith("9999"):
        return label(lang, "until_unlocked")
    if (key.endswith("_at") or key.endswith("locked_until")) and isinstance(value, str):
        return local_time(value, tz)
    if key in CODED and isinstance(value, str):
        return code_text(lang, value)
    return str(value)


def notice_lines(notices: Sequence[Mapping[str, Any]], lang: str) -> list[str]:
    return [f"  {label(lang, 'notices')} -> {n['to']}: {n['text']}" for n in notices]


def render(data: Mapping[str, Any], lang: str, tz: ZoneInfo, title: str = "") -> list[str]:
    """A title line, then ``label: value`` for every shown field, then the queued SMS."""
    lines = [title] if title else []
    for key, value in data.items():
        if key in HIDDEN or key == "notices":
            continue
        lines.append(f"  {label(lang, key)}: {value_text(key, value, lang, tz)}")
    return lines + notice_lines(data.get("notices") or [], lang)


def recharge_row(r: Mapping[str, Any], lang: str, tz: ZoneInfo) -> str:
    """One recharge on one line (records, failed)."""
    cells = [f"#{r['recharge_id']}", local_time(r["created_at"], tz),
             value_text("kind", r["kind"], lang, tz), r["target"],
             value_text("amount_fen", r["amount_fen"], lang, tz),
             value_text("status", r["status"], lang, tz)]
    if r.get("failure"):
        cells.append(value_text("failure", r["failure"], lang, tz))
    return "  ".join(cells)


def render_rows(title: str, rows: Sequence[Mapping[str, Any]], lang: str,
                tz: ZoneInfo) -> list[str]:
    return [f"{title} ({label(lang, 'count')}: {len(rows)})",
            *(f"  {recharge_row(r, lang, tz)}" for r in rows)]

