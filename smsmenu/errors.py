"""Every error the platform raises on purpose, each with a stable code, its rule and messages.

    SmsmenuError                      code          rule
    ├── InputError                    (bad input; nothing happened)
    │   ├── InvalidPassword           E_PASSWORD_FORMAT   R-2
    │   │   └── SamePassword          E_SAME_PASSWORD     R-2
    │   ├── InvalidAmount             E_AMOUNT            R-8 / R-9 / R-13
    │   ├── InvalidNumber             E_NUMBER            R-14
    │   ├── InvalidRate               E_RATE              R-16
    │   └── InvalidCommand            E_COMMAND           -
    ├── NotFound
    │   ├── UnknownAgent              E_NOT_AGENT         R-1
    │   └── UnknownRecharge           E_NO_RECHARGE       R-18 / R-23
    ├── Conflict
    │   ├── IdempotencyConflict       E_IDEMPOTENCY       -
    │   ├── DuplicateAgent            E_DUPLICATE_AGENT   R-1
    │   └── StaleState                E_STALE             -
    ├── Refused                       (a business rule says no)
    │   ├── WrongPassword             E_WRONG_PASSWORD    R-2
    │   ├── AgentLocked               E_LOCKED            R-2  (transaction password)
    │   │   └── WebLocked             E_WEB_LOCKED        R-2  (web login)
    │   ├── AgentSuspended            E_SUSPENDED         R-5
    │   ├── AgentClosed               E_CLOSED            R-6
    │   ├── CloseRefused              E_CLOSE_BALANCE     R-6
    │   ├── InsufficientFunds         E_FUNDS             R-15
    │   └── ReversalRefused           E_REVERSAL_*        R-23 / R-24 / R-25
    ├── BillingError                  (BOSS did not answer usefully)
    │   ├── BillingTimeout            E_BILLING_TIMEOUT   -
    │   └── BillingUnavailable        E_BILLING_DOWN      -
    ├── TransportError                E_TRANSPORT         -
    └── StorageError                  E_STORAGE           -  (sqlite errors, mapped at the boundary)

The web portal's own refusals (login, one-time codes, rate limits, roles, CSRF) extend this
tree in ``smsmenu/web/errors.py``. Messages never contain a password: the parameters an error
is built with are shown to users, so no error is ever given one. The edge turns an error into
an SMS (``message(lang)``), an HTTP status (``http_status``) or a CLI exit code (``exit_code``).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from smsmenu.types import Lang


class SmsmenuError(Exception):
    """Base of every deliberate error."""

    code: str = "E_INTERNAL"
    rule: str = ""
    http_status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1
    commit_effects: ClassVar[bool] = False
    """True when the failed operation's own bookkeeping must still commit (failure counters)."""
    messages: ClassVar[dict[str, str]] = {"zh": "系统错误，请稍后再试", "en": "System error, try later"}

    def __init__(self, *, rule: str | None = None, **params: Any) -> None:
        self.params = params
        if rule is not None:
            self.rule = rule
        super().__init__(self.message("en"))

    def message(self, lang: Lang | str = "zh") -> str:
        """The user-facing text in ``lang``, with the rule appended when there is one."""
        template = self.messages.get(lang) or self.messages["en"]
        text = template.format(**self.params) if self.params else template
        return f"{text} ({self.rule})" if self.rule else text

    def as_dict(self, lang: Lang | str = "en") -> dict[str, Any]:
        return {"code": self.code, "rule": self.rule, "message": self.message(lang)}


class InputError(SmsmenuError):
    http_status = 400
    exit_code = 2


class InvalidPassword(InputError):
    code, rule = "E_PASSWORD_FORMAT", "R-2"
    messages = {"zh": "密码须为6位数字", "en": "A password is exactly 6 digits"}


class SamePassword(InvalidPassword):
    code = "E_SAME_PASSWORD"
    messages = {"zh": "新密码不能与原密码相同", "en": "The new password must differ from the current one"}


class InvalidAmount(InputError):
    code, rule = "E_AMOUNT", "R-13"
    messages = {"zh": "金额须为{low}至{high}元且为{step}元的整数倍",
                "en": "Amount must be {low} to {high} yuan, a multiple of {step}"}



class InvalidNumber(InputError):
    code, rule = "E_NUMBER", "R-14"
    messages = {"zh": "号码{number}不符合{kind}号码规则：{why}",
                "en": "Number {number} is not a valid {kind} number: {why}"}
    kinds_zh = {"landline": "固定电话", "mobile": "C网手机", "phs": "小灵通", "broadband": "宽带",
                "notice": "通知"}
    whys_zh: ClassVar[list[tuple[re.Pattern[str], str]]] = [(re.compile(p), t) for p, t in [
        (r"^number missing$", "未输入号码"),
        (r"^only digits.*$", "只能输入数字"),
        (r"^area code missing: enter (\d+) first$", r"缺少区号，请先输入\1"),
        (r"^unknown area code (\d+)$", r"未知区号\1"),
        (r"^.*: ([\d or]+) digits expected after (\d+), got (\d+)$", r"区号\2后应为\1位，实为\3位"),
        (r"^.* cannot start with (.+)$", r"本地号码不能以\1开头"),
        (r"^mobile numbers are entered without area code$", "手机号码不加区号"),
        (r"^(\d+) digits expected, got (\d+)$", r"应为\1位，实为\2位"),
        (r"^(\d+) is not a China Telecom prefix$", r"\1不是中国电信号段"),
        (r"^a .* number is expected$", "须为手机或小灵通号码"),
        (r"^a notice number is only for landline and broadband.*$", "只有固定电话和宽带可指定通知号码"),
    ]]

    def message(self, lang: Lang | str = "zh") -> str:
        if lang != "zh":
            return super().message(lang)
        why = str(self.params.get("why", ""))
        for pattern, template in self.whys_zh:
            if pattern.match(why):
                why = pattern.sub(template, why).replace(" or ", "或")
                break
        kind = self.kinds_zh.get(str(self.params.get("kind")), str(self.params.get("kind")))
        text = self.messages["zh"].format(number=self.params.get("number", ""), kind=kind, why=why)
        return f"{text} ({self.rule})"


class InvalidRate(InputError):
    code, rule = "E_RATE", "R-16"
    messages = {"zh": "手续费率须在0到{max}之间", "en": "Commission rate must be between 0 and {max}"}


class InvalidCommand(InputError):
    code = "E_COMMAND"
    messages = {"zh": "无法识别的指令：{why}", "en": "Unrecognised command: {why}"}


class NotFound(SmsmenuError):
    http_status = 404
    exit_code = 3


class UnknownAgent(NotFound):
    code, rule = "E_NOT_AGENT", "R-1"
    messages = {"zh": "号码{msisdn}不是代办户", "en": "{msisdn} is not an agent"}


class UnknownRecharge(NotFound):
    code, rule = "E_NO_RECHARGE", "R-18"
    messages = {"zh": "找不到充值记录{recharge}", "en": "No recharge {recharge}"}


class Conflict(SmsmenuError):
    http_status = 409
    exit_code = 4


class IdempotencyConflict(Conflict):
    code = "E_IDEMPOTENCY"
    messages = {"zh": "请求编号{key}已用于另一笔不同的操作",
                "en": "Key {key} was already used for a different operation"}


class DuplicateAgent(Conflict):
    code, rule = "E_DUPLICATE_AGENT", "R-1"
    messages = {"zh": "号码{msisdn}已开通代办户", "en": "{msisdn} already has an agent account"}


class StaleState(Conflict):
    code = "E_STALE"
    messages = {"zh": "该记录状态已变化：{why}", "en": "That record has changed: {why}"}


class Refused(SmsmenuError):
    http_status = 422
    exit_code = 5


class WrongPassword(Refused):
    code, rule = "E_WRONG_PASSWORD", "R-2"
    commit_effects = True
    messages = {"zh": "密码错误，还可尝试{left}次", "en": "Wrong password, {left} tries left"}


class AgentLocked(Refused):
    """Too many wrong transaction passwords: recharges and balance queries are locked.

    ``until`` is the local time the lock ends; empty when it holds until an operator unlocks.
    """

    code, rule = "E_LOCKED", "R-2"
    http_status = 423
    commit_effects = True
    messages = {"zh": "密码错误次数过多，账户锁定至{until}",
                "en": "Too many wrong passwords; locked until {until}"}
    held: ClassVar[dict[str, str]] = {
        "zh": "密码错误次数过多，账户已锁定，请致电10000解锁",
        "en": "Too many wrong passwords; locked until an operator unlocks it (call 10000)"}

    def message(self, lang: Lang | str = "zh") -> str:
        if self.params.get("until"):
            return super().message(lang)
        return f"{self.held.get(lang) or self.held['en']} ({self.rule})"


class WebLocked(AgentLocked):
    """Too many failed web logins (management password or SMS code): the web login is locked."""

    code = "E_WEB_LOCKED"
    messages = {"zh": "登录失败次数过多，网页登录锁定至{until}（短信充值不受影响）",
                "en": "Too many failed logins; the web login is locked until {until}"
                      " (SMS recharges still work)"}
    held = {"zh": "登录失败次数过多，网页登录已锁定，请致电10000解锁（短信充值不受影响）",
            "en": "Too many failed logins; the web login is locked until an operator unlocks it"
                  " (call 10000; SMS recharges still work)"}


class AgentSuspended(Refused):
    code, rule = "E_SUSPENDED", "R-5"
    messages = {"zh": "您的手机已停机，不能充值", "en": "Your phone is suspended; no recharge allowed"}


class AgentClosed(Refused):
    code, rule = "E_CLOSED", "R-6"
    messages = {"zh": "代办户已销户", "en": "This agent account is closed"}


class CloseRefused(Refused):
    code, rule = "E_CLOSE_BALANCE", "R-6"
    messages = {"zh": "余额{balance}元不低于10元，不能销户退款，请先用完余额",
                "en": "Balance {balance} yuan is 10 yuan or more; spend it before closing"}


class InsufficientFunds(Refused):
    code, rule = "E_FUNDS", "R-15"
    messages = {"zh": "充值账户余额不足：需{need}元，可用{available}元",
                "en": "Insufficient deposit: need {need} yuan, available {available} yuan"}


class ReversalRefused(Refused):
    """A reversal refused by one named check; ``check`` selects the text and rule."""

    code = "E_REVERSAL"
    checks: ClassVar[dict[str, tuple[str, str, str]]] = {
        "monthly": ("R-23", "本月返销次数已用完", "The monthly reversal is already used"),
        "prepaid": ("R-24", "只有后付费账户可以返销", "Only postpaid accounts can be reversed"),
        "late": ("R-25", "充值已超过30分钟", "More than 30 minutes since the recharge"),
        "invoice": ("R-25", "客户已开发票", "The customer already took an invoice"),
        "month_end": ("R-25", "月末最后一天不能返销", "No reversal on the last day of a month"),
        "other_month": ("R-25", "该充值缴的是其他月份的账单", "It paid a bill of another month"),
        "balance": ("R-25", "客户余额不足以返销", "Customer balance no longer covers it"),
        "not_done": ("R-23", "只能返销成功的充值", "Only a completed recharge can be reversed"),
        "reversed": ("R-23", "该充值已返销", "That recharge is already reversed"),
    }

    conditions: ClassVar[dict[str, tuple[str, str]]] = {
        "not_done": ("充值已成功", "The recharge completed"),
        "reversed": ("尚未返销", "Not reversed yet"),
        "prepaid": ("后付费账户", "A postpaid account"),
        "monthly": ("本月尚未返销", "No reversal this month yet"),
        "late": ("充值后30分钟内", "Within 30 minutes of the recharge"),
        "invoice": ("客户未开发票", "No invoice taken"),
        "month_end": ("不是月末最后一天", "Not the last day of the month"),
        "other_month": ("缴的是本月账单", "It paid this month's bill"),
        "balance": ("客户余额足以返销", "The customer's balance covers it"),
    }
    """What each check requires, for pages that list the checks before anything is refused."""

    @classmethod
    def describe(cls, check: str, passed: bool | None, lang: Lang | str = "zh") -> str:
        """The condition when it holds or is unknown, the refusal's words when it fails."""
        zh, en = cls.conditions[check] if passed is not False else cls.checks[check][1:]
        return zh if lang == "zh" else en

    def __init__(self, check: str) -> None:
        self.check = check
        self.code = f"E_REVERSAL_{check.upper()}"
        super().__init__(rule=self.checks[check][0])

    def message(self, lang: Lang | str = "zh") -> str:
        rule, zh, en = self.checks[self.check]
        return f"{zh if lang == 'zh' else en} ({rule})"


class BillingError(SmsmenuError):
    http_status = 502
    exit_code = 6


class BillingTimeout(BillingError):
    code = "E_BILLING_TIMEOUT"
    messages = {"zh": "计费系统超时，请稍后重试", "en": "Billing timed out; try again later"}


class BillingUnavailable(BillingError):
    code = "E_BILLING_DOWN"
    messages = {"zh": "计费系统暂不可用，请稍后重试", "en": "Billing is unavailable; try again later"}


class TransportError(SmsmenuError):
    code = "E_TRANSPORT"
    http_status = 502
    messages = {"zh": "短信通道错误：{why}", "en": "Transport error: {why}"}


class StorageError(SmsmenuError):
    code = "E_STORAGE"
    http_status = 503
    messages = {"zh": "数据库暂不可用，本条未执行，请稍后重发",
                "en": "Not processed: storage unavailable; send it again later"}
