"""The error tree: codes, rules, messages per language, and the reversal checks' wording."""

from __future__ import annotations

import pytest

from ledger.numberplan import NumberPlan
from smsmenu.errors import InvalidNumber, ReversalRefused, SmsmenuError
from smsmenu.types import TargetKind


@pytest.mark.parametrize(("check", "passed", "lang", "text"), [
    pytest.param("monthly", True, "zh", "本月尚未返销", id="passed-zh-condition"),
    pytest.param("monthly", None, "en", "No reversal this month yet", id="unknown-en-condition"),
    pytest.param("monthly", False, "zh", "本月返销次数已用完", id="failed-zh-refusal"),
    pytest.param("late", False, "en", "More than 30 minutes since the recharge", id="failed-en"),
])
def test_reversal_checks_read_as_conditions_until_they_fail(check: str, passed: bool | None,
                                                           lang: str, text: str) -> None:
    """R-23..R-25: a page lists what each check requires, and the refusal's words when it fails."""
    assert ReversalRefused.describe(check, passed, lang) == text


def test_every_reversal_check_has_a_rule_and_a_condition() -> None:
    """Each named check cites R-23, R-24 or R-25 and has a condition in both languages."""
    assert set(ReversalRefused.checks) == set(ReversalRefused.conditions)
    for check, (rule, _zh, _en) in ReversalRefused.checks.items():
        assert rule in {"R-23", "R-24", "R-25"}
        error = ReversalRefused(check)
        assert error.code == f"E_REVERSAL_{check.upper()}" and error.rule == rule
        assert error.message("en").endswith(f"({rule})")


@pytest.mark.parametrize(("kind", "number", "zh"), [
    pytest.param(TargetKind.MOBILE, "1890000111", "应为11位，实为10位", id="mobile-length"),
    pytest.param(TargetKind.LANDLINE, "87654321", "缺少区号，请先输入027", id="no-area-code"),
    pytest.param(TargetKind.MOBILE, "13800001111", "138不是中国电信号段", id="not-telecom"),
])
def test_number_refusals_read_in_chinese(kind: TargetKind, number: str, zh: str) -> None:
    """R-14: a Chinese agent reads why a number is refused in Chinese, with the rule."""
    with pytest.raises(InvalidNumber) as caught:
        NumberPlan.load_default().validate(kind, number)
    assert zh in caught.value.message("zh") and caught.value.message("zh").endswith("(R-14)")
    assert "R-14" in caught.value.message("en")


def test_errors_render_for_each_edge() -> None:
    """An error gives an SMS text per language, an HTTP status and a CLI exit code."""
    error: SmsmenuError = ReversalRefused("invoice")
    assert error.as_dict("zh") == {"code": "E_REVERSAL_INVOICE", "rule": "R-25",
                                   "message": "客户已开发票 (R-25)"}
    assert error.http_status == 422 and error.exit_code == 5
