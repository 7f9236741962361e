"""Small parts of the portal on their own: chart, CSV, signatures, texts, roles, password KDF."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsmenu.core.bank_wire import sign, verify
from smsmenu.web import chart, csvout
from smsmenu.web.i18n import table, translator
from smsmenu.web.operators import PERMISSIONS, SCRYPT

TEMPLATES = Path(__file__).resolve().parents[2] / "smsmenu" / "web" / "templates"


@pytest.mark.parametrize(("fen", "top"), [
    pytest.param(0, 100, id="empty"), pytest.param(100, 100, id="exact"),
    pytest.param(101, 200, id="just-over"), pytest.param(30_000, 50_000, id="five"),
    pytest.param(2_000_001, 5_000_000, id="large")])
def test_nice_ceiling(fen: int, top: int) -> None:
    """The chart's axis top is a round 1-2-5 number at or above the largest value."""
    assert chart.nice_ceiling(fen) == top


@given(st.integers(min_value=1, max_value=10 ** 12))
def test_nice_ceiling_bounds(fen: int) -> None:
    """Never below the value, never more than 2.5 times it (plus one step)."""
    assert fen <= chart.nice_ceiling(fen) <= max(100, fen * 5 // 2 + 100)


def test_bin_days_sums_per_day() -> None:
    """Thirty days ending today, zeros where nothing happened, older rows ignored."""
    today = dt.date(2026, 11, 10)
    rows = [(today, 1000, 20), (today, 500, 10), (dt.date(2026, 11, 1), 100, 2),
            (dt.date(2026, 9, 1), 9999, 99)]
    days = chart.bin_days(rows, today)
    assert len(days) == 30 and days[0][0] == dt.date(2026, 10, 12)
    assert days[-1] == (today, 1500, 30) and (dt.date(2026, 11, 1), 100, 2) in days
    assert sum(a for _, a, _ in days) == 1600


def test_svg_is_self_contained() -> None:
    """The chart has no script, no style attribute and no external reference."""
    days = chart.bin_days([(dt.date(2026, 11, 10), 10_000, 200)], dt.date(2026, 11, 10))
    svg = str(chart.svg(days, translator("en")))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<script" not in svg and "style=" not in svg and "href" not in svg
    assert "11-10: recharged 100.00 yuan, commission 2.00 yuan" in svg


@pytest.mark.parametrize(("value", "text"), [
    pytest.param("=1+2", "'=1+2", id="formula"), pytest.param("@SUM(A1)", "'@SUM(A1)", id="at"),
    pytest.param("+86", "'+86", id="plus"), pytest.param("小王", "小王", id="plain"),
    pytest.param(None, "", id="none"), pytest.param(1200, "1200", id="number")])
def test_csv_cells_are_inert(value: object, text: str) -> None:
    """A cell a spreadsheet would execute is quoted."""
    assert csvout.cell(value) == text


@given(st.dictionaries(st.sampled_from(["order", "amount_fen", "status", "txn"]),
                       st.text(max_size=20), min_size=1))
def test_signature_round_trip(fields: dict[str, str]) -> None:
    """A signed notice verifies with the key, not with another key, not once altered."""
    key = b"k" * 32
    signed = {**fields, "sign": sign(key, fields)}
    assert verify(key, signed)
    assert not verify(b"x" * 32, signed)
    assert not verify(key, {**signed, "order": signed.get("order", "") + "1"})


def test_languages_have_the_same_texts() -> None:
    """Chinese and English define exactly the same keys."""
    assert set(table("zh")) == set(table("en"))


def test_templates_use_only_defined_texts() -> None:
    """Every literal text key in the templates exists."""
    keys = set(table("zh"))
    used = set()
    for path in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"\bt\('([a-z_.]+)'[,)]", path.read_text("utf-8")))
    assert used and used <= keys, used - keys


def test_roles() -> None:
    """Supervisors may everything; only they confirm reversals, change rates, read the log."""
    assert set().union(*PERMISSIONS.values()) == PERMISSIONS["supervisor"]
    for only in ("reversal", "rate", "audit"):
        assert [r for r, p in PERMISSIONS.items() if only in p] == ["supervisor"]
    assert "deposit" not in PERMISSIONS["hotline"] and "reversal_check" in PERMISSIONS["hotline"]


def test_production_kdf_cost() -> None:
    """Operator passwords use scrypt at N >= 2**14 outside the tests' cheap setting."""
    import smsmenu.web.operators as module
    source = Path(module.__file__).read_text("utf-8")
    assert '"n": 2 ** 14' in source and SCRYPT["r"] == 8
