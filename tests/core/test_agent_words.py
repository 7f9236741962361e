"""What agents read in Chinese (SMS menus and notices, portal pages) has no English and no rule codes."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from smsmenu.core.errors import InvalidAmount, render

ROOT = Path(__file__).parents[2]
OPERATOR_ONLY = {
    "menus": ("cli.", "error.E_SCHEMA_NEWER", "error.E_BAD_FORM", "error.E_NO_CARD"),
    "web": ("ops.", "report.", "audit.", "operators.", "role.", "confirm_op."),
}
"""Texts agents do not read: the CLI's and the back office's (rule codes and tool names may
stay; the back office's confirmation pages name the rules an action checks), a newer database
(the operator's), an unreadable form (only a client that is no browser sends one: it says what
to send), and no card known on a number (`smsmenu card push-menu`'s, an operator's)."""
DOMAIN = frozenset({
    "ADSL", "CDMA", "UTK", "PHS", "SMS",  # the trade's own words
    "C",  # C网: the CDMA network, as China Telecom names it
    "CZ", "YE", "CF", "MM", "ZJ",  # one-line command keywords (recharge, balance, retry, ...)
    "CSV", "KB", "Ctrl+P",  # a file format, a size and a key the page names
})
"""ASCII words an agent's Chinese text may contain."""
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.+\-/]*")
RULE = re.compile(r"R-\d+")
PLACEHOLDER = re.compile(r"\{[^}]*\}")


def _flat(table: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for key, value in table.items():
        if isinstance(value, Mapping):
            yield from _flat(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", str(value)


def _agent_texts(kind: str) -> Iterator[tuple[str, str]]:
    data = tomllib.loads((ROOT / "config" / kind / "zh.toml").read_text("utf-8"))
    for key, text in _flat(data):
        if not key.startswith(OPERATOR_ONLY[kind]):
            yield key, text


@pytest.mark.parametrize("kind", ["menus", "web"])
def test_zh_agent_texts_have_no_english_words(kind: str) -> None:
    """Each zh text an agent reads has only the domain's own ASCII words (placeholders aside)."""
    found = {key: words for key, text in _agent_texts(kind)
             if (words := set(WORD.findall(PLACEHOLDER.sub("", text))) - DOMAIN)}
    assert found == {}


@pytest.mark.parametrize("kind", ["menus", "web"])
def test_zh_agent_texts_cite_no_rules(kind: str) -> None:
    """No rule code ("(R-13)") in an SMS or a portal page: it means nothing to a shop owner."""
    assert [key for key, text in _agent_texts(kind) if RULE.search(text)] == []


def test_errors_cite_their_rule_only_for_operators() -> None:
    """An error's words leave the rule out by default (agents); the CLI and back office ask
    for it, and its ``str`` (logs, tracebacks) keeps it."""
    error = InvalidAmount(low=10, high=1000, step=10)
    assert not RULE.search(render(error, "zh"))
    assert render(error, "zh", rule=True).endswith("(R-13)")
    assert "(R-13)" in str(error) and error.as_dict("zh")["rule"] == "R-13"
