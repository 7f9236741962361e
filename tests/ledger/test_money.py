"""Tests for money: yuan text <-> fen, ppm rates, commission (R-16) and amount rules R-8/9/12/13."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.money import (
    MAX_RATE_PPM,
    PPM,
    AmountFormatError,
    check_counter_deposit,
    check_online_deposit,
    check_recharge_amount,
    commission,
    format_yuan,
    invoice_quota,
    parse_rate,
    parse_yuan,
)
from smsmenu.core.errors import InvalidAmount, InvalidRate
from smsmenu.core.texts import packaged
from smsmenu.core.types import Fen

fens = st.integers(min_value=0, max_value=10**14 - 1)
rates = st.integers(min_value=0, max_value=MAX_RATE_PPM - 1)


@pytest.mark.parametrize("text, fen", [
    pytest.param("100", 10000, id="whole"),
    pytest.param("100.5", 10050, id="one-decimal"),
    pytest.param("100.50", 10050, id="two-decimals"),
    pytest.param("１００", 10000, id="full-width"),
    pytest.param("１００．５０", 10050, id="full-width-dot"),
    pytest.param(" 10 ", 1000, id="padded"),
    pytest.param("0.01", 1, id="one-fen"),
    pytest.param("0", 0, id="zero"),
    pytest.param("007", 700, id="leading-zeros"),
    pytest.param("0" * 5000 + "1", 100, id="many-leading-zeros"),
    pytest.param("999999999999.99", 99999999999999, id="largest"),
])
def test_parse_yuan_accepts(text: str, fen: Fen) -> None:
    """R-13: amounts are typed in yuan with up to 2 decimals and held as integer fen."""
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text, why", [
    pytest.param("-5", "negative amounts are not allowed", id="negative"),
    pytest.param("－５", "negative amounts are not allowed", id="full-width-negative"),
    pytest.param("1.234", "at most 2 decimals (1 fen = 0.01 yuan)", id="three-decimals"),
    pytest.param("", "amount missing", id="empty"),
    pytest.param("  ", "amount missing", id="blank"),
    pytest.param("abc", "digits expected, e.g. 100", id="garbage"),
    pytest.param("1,000", "digits expected, e.g. 100", id="thousands-comma"),
    pytest.param("1e3", "digits expected, e.g. 100", id="exponent"),
    pytest.param("10.", "digits expected, e.g. 100", id="trailing-dot"),
    pytest.param(".5", "digits expected, e.g. 100", id="leading-dot"),
    pytest.param("+10", "digits expected, e.g. 100", id="plus"),
    pytest.param("NaN", "digits expected, e.g. 100", id="nan"),
    pytest.param("١٠٠", "digits expected, e.g. 100", id="arabic-indic"),
    pytest.param("1" * 13, "amount too large", id="13-digits"),
    pytest.param("9" * 5000, "amount too large", id="beyond-int-str-limit"),
])
def test_parse_yuan_rejects(text: str, why: str) -> None:
    """R-13: a non-amount is an InvalidAmount (E_AMOUNT) that says what is wrong, no rule yet."""
    with pytest.raises(AmountFormatError) as err:
        parse_yuan(text)
    assert isinstance(err.value, InvalidAmount) and err.value.code == "E_AMOUNT"
    assert set(err.value.params) == {"why"} and err.value.rule == ""
    assert err.value.message("en") == f"Not a valid amount: {why}"


@pytest.mark.parametrize("text, code, zh", [
    pytest.param("", "missing", "未输入金额", id="missing"),
    pytest.param("abc", "not_digits", "请输入数字，如100", id="not-digits"),
    pytest.param("-5", "negative", "金额不能为负", id="negative"),
    pytest.param("1.234", "decimals", "最多两位小数", id="decimals"),
    pytest.param("1" * 13, "too_large", "金额过大", id="too-large"),
])
def test_parse_yuan_refusals_carry_a_code(text: str, code: str, zh: str) -> None:
    """R-13: the reason is a code, read in the agent's language with the rule the caller adds."""
    with pytest.raises(AmountFormatError) as err:
        parse_yuan(text)
    assert err.value.params == {"why": code}
    assert err.value.message("zh") == f"金额格式不正确：{zh}"
    ruled = AmountFormatError(rule="R-13", **err.value.params)
    assert ruled.message("zh", rule=True) == f"金额格式不正确：{zh} (R-13)"


@pytest.mark.parametrize("fen, text", [
    pytest.param(10000, "100.00", id="hundred"),
    pytest.param(-350, "-3.50", id="negative"),
    pytest.param(0, "0.00", id="zero"),
    pytest.param(1, "0.01", id="one-fen"),
    pytest.param(-1, "-0.01", id="minus-one-fen"),
    pytest.param(10050, "100.50", id="half"),
])
def test_format_yuan(fen: Fen, text: str) -> None:
    """R-13: fen are shown as yuan with exactly two decimals, sign first."""
    assert format_yuan(fen) == text


@pytest.mark.parametrize("bad", [pytest.param(1.5, id="float"), pytest.param(True, id="bool")])
def test_money_refuses_non_int(bad: object) -> None:
    """R-16: floats never reach money arithmetic."""
    with pytest.raises(TypeError):
        format_yuan(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        commission(bad, 20000)  # type: ignore[arg-type]


@pytest.mark.parametrize("text, ppm", [
    pytest.param("0.02", 20000, id="2pct"),
    pytest.param("0.015", 15000, id="1.5pct"),
    pytest.param("0", 0, id="zero"),
    pytest.param("0.000001", 1, id="one-ppm"),
    pytest.param("0.199999", 199999, id="just-below-max"),
    pytest.param("０．０２", 20000, id="full-width"),
])
def test_parse_rate_accepts(text: str, ppm: int) -> None:
    """R-16: a commission rate is a fraction in [0, 0.2) with up to 6 decimals, held as ppm."""
    assert parse_rate(text) == ppm


@pytest.mark.parametrize("text", [
    pytest.param("0.2", id="max-is-exclusive"),
    pytest.param("0.25", id="above-max"),
    pytest.param("1", id="one"),
    pytest.param("-0.01", id="negative"),
    pytest.param("0.0000001", id="seven-decimals"),
    pytest.param("2%", id="percent"),
    pytest.param("abc", id="garbage"),
    pytest.param("", id="empty"),
    pytest.param("9" * 5000, id="huge"),
])
def test_parse_rate_rejects(text: str) -> None:
    """R-16: a rate outside [0, 0.2), or with more than 6 decimals, is an InvalidRate(max=0.2)."""
    with pytest.raises(InvalidRate) as err:
        parse_rate(text)
    assert err.value.params == {"max": "0.2"} and err.value.rule == "R-16"


def test_parse_rate_custom_max() -> None:
    """R-16: the maximum is a setting; the error names the one in force."""
    assert parse_rate("0.25", max_ppm=300_000) == 250_000
    with pytest.raises(InvalidRate, match=r"between 0 and 0\.015"):
        parse_rate("0.015", max_ppm=15_000)


@pytest.mark.parametrize("amount, ppm, fen", [
    pytest.param(10000, 20000, 200, id="100-yuan-at-2pct"),
    pytest.param(1000, 15000, 15, id="10-yuan-at-1.5pct"),
    pytest.param(1050, 15000, 15, id="floor-15.75"),
    pytest.param(1099, 9999, 10, id="floor-10.989"),
    pytest.param(0, 20000, 0, id="zero-amount"),
    pytest.param(100000, 0, 0, id="zero-rate"),
])
def test_commission_rounds_down(amount: Fen, ppm: int, fen: Fen) -> None:
    """R-16: commission is amount x rate rounded down: the agent never earns beyond its rate."""
    assert commission(amount, ppm) == fen


@pytest.mark.parametrize("amount, ppm", [
    pytest.param(-1, 20000, id="negative-amount"),
    pytest.param(1000, -1, id="negative-rate"),
    pytest.param(1000, PPM, id="rate-100pct"),
])
def test_commission_rejects_impossible_inputs(amount: Fen, ppm: int) -> None:
    """R-16: a negative amount or a rate outside [0, 1) is a programming error."""
    with pytest.raises(ValueError):
        commission(amount, ppm)


Check = Callable[[Fen], Fen]


@pytest.mark.parametrize("check, fen, ok", [
    pytest.param(check_recharge_amount, 990, False, id="R-13-9.9"),
    pytest.param(check_recharge_amount, 1000, True, id="R-13-10"),
    pytest.param(check_recharge_amount, 1001, False, id="R-13-10.01"),
    pytest.param(check_recharge_amount, 1500, False, id="R-13-15"),
    pytest.param(check_recharge_amount, 2000, True, id="R-13-20"),
    pytest.param(check_recharge_amount, 100000, True, id="R-13-1000"),
    pytest.param(check_recharge_amount, 101000, False, id="R-13-1010"),
    pytest.param(check_recharge_amount, 0, False, id="R-13-0"),
    pytest.param(check_counter_deposit, 49900, False, id="R-8-499"),
    pytest.param(check_counter_deposit, 49000, False, id="R-8-490"),
    pytest.param(check_counter_deposit, 50000, True, id="R-8-500"),
    pytest.param(check_counter_deposit, 50500, False, id="R-8-505"),
    pytest.param(check_counter_deposit, 51000, True, id="R-8-510"),
    pytest.param(check_counter_deposit, 10**12, True, id="R-8-no-maximum"),
    pytest.param(check_online_deposit, 0, False, id="R-9-0"),
    pytest.param(check_online_deposit, -1000, False, id="R-9-negative"),
    pytest.param(check_online_deposit, 500, False, id="R-9-5"),
    pytest.param(check_online_deposit, 1000, True, id="R-9-10"),
    pytest.param(check_online_deposit, 1010, False, id="R-9-10.1"),
    pytest.param(check_online_deposit, 20000, True, id="R-9-200-below-500"),
    pytest.param(check_online_deposit, 10**12, True, id="R-9-no-maximum"),
])
def test_amount_rule_boundaries(check: Check, fen: Fen, ok: bool) -> None:
    """R-8, R-9, R-13: exact boundaries of the recharge and deposit amount rules."""
    if ok:
        assert check(fen) == fen
    else:
        with pytest.raises(InvalidAmount):
            check(fen)


@pytest.mark.parametrize("check, rule, params, en, zh", [
    pytest.param(check_recharge_amount, "R-13", {"low": 10, "high": 1000, "step": 10},
                 "Amount must be 10 to 1000 yuan, a multiple of 10 (R-13)",
                 "金额须为10至1000元且为10元的整数倍 (R-13)", id="R-13"),
    pytest.param(check_counter_deposit, "R-8", {"low": 500, "high": None, "step": 10},
                 "Amount must be at least 500 yuan, a multiple of 10 (R-8)",
                 "金额须至少为500元且为10元的整数倍 (R-8)", id="R-8"),
    pytest.param(check_online_deposit, "R-9", {"low": 10, "high": None, "step": 10},
                 "Amount must be at least 10 yuan, a multiple of 10 (R-9)",
                 "金额须至少为10元且为10元的整数倍 (R-9)", id="R-9"),
])
def test_amount_errors_name_rule_and_range(
        check: Check, rule: str, params: dict[str, object], en: str, zh: str) -> None:
    """R-8, R-9, R-13: the error cites its rule and shows the range in both languages."""
    with pytest.raises(InvalidAmount) as err:
        check(1)
    assert err.value.rule == rule and err.value.params == params
    assert err.value.message("en", rule=True) == en and err.value.message("zh", rule=True) == zh
    assert err.value.message("zh") == zh.removesuffix(f" ({rule})")


@pytest.mark.parametrize("deposit, quota", [
    pytest.param(50000, 5000, id="500-yuan"),
    pytest.param(123450, 12345, id="1234.5-yuan"),
    pytest.param(12345, 1234, id="floor"),
    pytest.param(0, 0, id="zero"),
])
def test_invoice_quota_is_ten_percent(deposit: Fen, quota: Fen) -> None:
    """R-12: a counter deposit earns quota invoices worth 10% of it, rounded down to the fen."""
    assert invoice_quota(deposit) == quota


def test_invoice_quota_rejects_negative() -> None:
    """R-12: a deposit is never negative."""
    with pytest.raises(ValueError):
        invoice_quota(-1)


@given(fens)
def test_format_parse_round_trip(fen: Fen) -> None:
    """R-13: parse_yuan(format_yuan(x)) == x for every non-negative amount."""
    assert parse_yuan(format_yuan(fen)) == fen


@given(st.integers(min_value=-(10**14), max_value=10**14))
def test_format_shape(fen: Fen) -> None:
    """R-13: format_yuan always shows a sign only when negative and exactly two decimals."""
    text = format_yuan(fen)
    assert text.startswith("-") == (fen < 0) and text[-3] == "." and text.count(".") == 1


@given(fens, rates)
def test_commission_never_exceeds_rate_nor_goes_negative(amount: Fen, ppm: int) -> None:
    """R-16: 0 <= commission <= amount x rate, less than one fen below it, and <= amount."""
    fee = commission(amount, ppm)
    assert 0 <= fee * PPM <= amount * ppm < (fee + 1) * PPM
    assert fee <= amount and amount - fee >= 0


@given(fens, rates, rates)
def test_commission_grows_with_rate(amount: Fen, a: int, b: int) -> None:
    """R-16: a higher rate never gives a lower commission."""
    lo, hi = sorted((a, b))
    assert commission(amount, lo) <= commission(amount, hi)


@given(rates)
def test_rate_text_round_trip(ppm: int) -> None:
    """R-16: any rate below the max written with 6 decimals parses back to its ppm."""
    assert parse_rate(f"{ppm // PPM}.{ppm % PPM:06d}") == ppm


@given(st.integers(min_value=-200_000, max_value=200_000))
def test_recharge_rule_is_exactly_r13(fen: Fen) -> None:
    """R-13: check_recharge_amount accepts exactly 10..1000 yuan in steps of 10 yuan."""
    expected = 1000 <= fen <= 100000 and fen % 1000 == 0
    try:
        assert check_recharge_amount(fen) == fen and expected
    except InvalidAmount:
        assert not expected


@given(st.text(max_size=20))
def test_parse_yuan_never_crashes(text: str) -> None:
    """R-13: any text is either a non-negative fen amount or an AmountFormatError."""
    try:
        assert parse_yuan(text) >= 0
    except AmountFormatError:
        pass


@given(st.text(max_size=20))
def test_parse_rate_never_crashes(text: str) -> None:
    """R-16: any text is either a rate in [0, max) or an InvalidRate."""
    try:
        assert 0 <= parse_rate(text) < MAX_RATE_PPM
    except InvalidRate:
        pass


@given(fens)
def test_invoice_quota_is_floor_of_tenth(deposit: Fen) -> None:
    """R-12: the quota is 10% of the deposit, at most one fen short of it."""
    quota = invoice_quota(deposit)
    assert quota * 10 <= deposit < (quota + 1) * 10


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_format_hint_suggests_an_amount_the_rules_accept(lang: str) -> None:
    """Issue 13: the example in "请输入数字，如100" is one an agent may type: a recharge (R-13) and
    an online top-up (R-9) take it (it once said 100.50, which both refuse)."""
    hint = str(packaged().get(lang, "error_param.amount_why")["not_digits"])
    examples = re.findall(r"\d+(?:\.\d+)?", hint)
    assert examples
    for example in examples:
        fen = parse_yuan(example)
        assert check_recharge_amount(fen) == check_online_deposit(fen) == fen
