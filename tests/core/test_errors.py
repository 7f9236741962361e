"""The error tree: codes, rules, words per language from the texts, and the edges' table."""

from __future__ import annotations

from typing import ClassVar

import pytest

from ledger.numberplan import NumberPlan
from smsmenu.core import errors
from smsmenu.core.errors import (
    EDGES,
    AgentLocked,
    BillingError,
    InputError,
    InvalidAmount,
    InvalidNumber,
    ReversalRefused,
    SmsmenuError,
    StorageError,
    WebLocked,
)
from smsmenu.core.texts import Texts, packaged
from smsmenu.core.types import TargetKind


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
    for lang in ("zh", "en"):
        assert set(ReversalRefused.checks) == set(packaged().get(lang, "reversal_condition"))
    for check, found in ReversalRefused.checks.items():
        assert found.rule in {"R-23", "R-24", "R-25"} and found[0] == found.rule
        error = ReversalRefused(check)
        assert error.code == f"E_REVERSAL_{check.upper()}" and error.rule == found.rule
        assert error.message("en", rule=True).endswith(f"({found.rule})")


@pytest.mark.parametrize(("kind", "number", "zh"), [
    pytest.param(TargetKind.MOBILE, "1890000111", "应为11位，实为10位", id="mobile-length"),
    pytest.param(TargetKind.LANDLINE, "87654321", "缺少区号，请先输入027", id="no-area-code"),
    pytest.param(TargetKind.MOBILE, "13800001111", "138不是中国电信号段", id="not-telecom"),
    pytest.param(TargetKind.LANDLINE, "0271", "区号027后应为7或8位，实为1位", id="lengths-or"),
    pytest.param(TargetKind.PHS, "02712345678", "本地号码不能以0或1开头", id="first-digit-or"),
])
def test_number_refusals_read_in_chinese(kind: TargetKind, number: str, zh: str) -> None:
    """R-14: a Chinese agent reads why a number is refused in Chinese, with the rule."""
    with pytest.raises(InvalidNumber) as caught:
        NumberPlan.load_default().validate(kind, number)
    assert zh in caught.value.message("zh") and "R-14" not in caught.value.message("zh")
    assert caught.value.message("zh", rule=True).endswith("(R-14)")
    assert "R-14" in caught.value.message("en", rule=True)


def test_errors_render_for_each_edge() -> None:
    """An error gives an SMS text per language, an HTTP status and a CLI exit code."""
    error: SmsmenuError = ReversalRefused("invoice")
    assert error.as_dict("zh") == {"code": "E_REVERSAL_INVOICE", "rule": "R-25",
                                   "message": "客户已开发票"}
    assert error.http_status == 422 and error.exit_code == 5


@pytest.mark.parametrize(("cls", "status", "exit_code"), [
    pytest.param(SmsmenuError, 500, 1, id="base"),
    pytest.param(InvalidAmount, 400, 2, id="input-inherited"),
    pytest.param(errors.UnknownAgent, 404, 3, id="not-found"),
    pytest.param(errors.DuplicateAgent, 409, 4, id="conflict"),
    pytest.param(errors.WrongPassword, 422, 5, id="refused"),
    pytest.param(WebLocked, 423, 5, id="locked-inherited"),
    pytest.param(errors.BillingTimeout, 502, 6, id="billing"),
    pytest.param(errors.TransportError, 502, 1, id="transport"),
    pytest.param(StorageError, 503, 1, id="storage"),
])
def test_edges_map_classes_to_status_and_exit_code(cls: type[SmsmenuError], status: int,
                                                    exit_code: int) -> None:
    """One table gives each class its HTTP status and CLI exit code; subclasses inherit them."""
    assert (cls.http_status, cls.exit_code) == (status, exit_code)
    assert EDGES[InputError] == (400, 2) and EDGES[BillingError] == (502, 6)


@pytest.mark.parametrize(("error", "zh", "en"), [
    pytest.param(AgentLocked(until="10:30"), "密码错误次数过多，账户锁定至10:30 (R-2)",
                 "Too many wrong passwords; locked until 10:30 (R-2)", id="locked-until"),
    pytest.param(AgentLocked(until=""), "密码错误次数过多，账户已锁定，请致电10000解锁 (R-2)",
                 "Too many wrong passwords; locked until an operator unlocks it (call 10000) (R-2)",
                 id="locked-held"),
    pytest.param(WebLocked(until=""), "登录失败次数过多，网页登录已锁定，请致电10000解锁（短信充值不受影响）"
                 " (R-2)", "Too many failed logins; the web login is locked until an operator"
                 " unlocks it (call 10000; SMS recharges still work) (R-2)", id="web-held"),
    pytest.param(InvalidAmount(rule="R-8", low=500, high=None, step=10),
                 "金额须至少为500元且为10元的整数倍 (R-8)",
                 "Amount must be at least 500 yuan, a multiple of 10 (R-8)", id="amount-rule-given"),
    pytest.param(StorageError(), "数据库暂不可用，本条未执行，请稍后重发",
                 "Not processed: storage unavailable; send it again later", id="no-rule"),
])
def test_words_come_from_the_texts(error: SmsmenuError, zh: str, en: str) -> None:
    """An error's words are its code's ``[error]`` entry, filled, with the rule appended for
    operators (and in its ``str``, for logs); agents read them without it."""
    assert (error.message("zh", rule=True), error.message("en", rule=True),
            str(error)) == (zh, en, en)
    assert (error.message("zh"), error.message("en")) == (
        zh.removesuffix(f" ({error.rule})"), en.removesuffix(f" ({error.rule})"))


def test_unknown_language_falls_back_to_english() -> None:
    """A language the texts do not have reads English, as before the words moved."""
    assert errors.UnknownAgent(msisdn="189").message("fr") == "189 is not an agent"


def test_message_takes_other_texts() -> None:
    """``message`` renders from the ``Texts`` it is given; the packaged ones by default."""
    tables = {lang: {"error": {"E_NOT_AGENT": f"{lang}: no agent {{msisdn}}"}}
              for lang in ("zh", "en")}
    error = errors.UnknownAgent(msisdn="189")
    assert error.message("zh", Texts(tables), rule=True) == "zh: no agent 189 (R-1)"
    assert error.as_dict("en", Texts(tables))["message"] == "en: no agent 189"


def test_rule_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 13: the rule is left out of the words by default (agents); ``rule=True`` keeps it
    for operators; the switch still brings it back everywhere."""
    error = errors.UnknownAgent(msisdn="189")
    assert error.message("en") == error.message("en", rule=False) == "189 is not an agent"
    assert error.message("en", rule=True) == "189 is not an agent (R-1)"
    assert error.as_dict("en")["rule"] == "R-1"
    monkeypatch.setattr(errors, "RULES_SHOWN", True)
    assert error.message("en") == "189 is not an agent (R-1)"
    assert error.message("en", rule=False) == "189 is not an agent"


@pytest.mark.parametrize(("why", "zh"), [
    pytest.param("notice_target", "只有固定电话和宽带可指定通知号码", id="code"),
    pytest.param("a notice number is only for landline and broadband", "只有固定电话和宽带可指定通知号码",
                 id="legacy-sentence"),
    pytest.param("something else", "something else", id="not-a-code-shows-as-is"),
])
def test_coded_parameters_read_in_words(why: str, zh: str) -> None:
    """R-17: a ``why`` given as a code reads in words; a value that is no code shows as it is."""
    error = InvalidNumber(rule="R-17", number="189", kind="mobile", why=why)
    assert error.message("zh", rule=True) == f"号码189不符合C网手机号码规则：{zh} (R-17)"


class _Legacy(SmsmenuError):
    """A subclass elsewhere that still keeps its words in the class."""

    code = "E_LEGACY"
    messages: ClassVar[dict[str, str]] = {"zh": "旧{n}", "en": "old {n}"}


def test_words_kept_in_a_class_still_render() -> None:
    """Until the web's words move to the texts, a class's own ``messages`` are used."""
    assert (_Legacy(n=1).message("zh"), _Legacy(n=2).message("fr")) == ("旧1", "old 2")
