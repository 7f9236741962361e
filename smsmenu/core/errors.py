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
    │   ├── UnknownRecharge           E_NO_RECHARGE       -  (R-18 in a retry)
    │   └── UnknownCard               E_NO_CARD           -  (an OTA update to no known card)
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
is built with are shown to users, so no error is ever given one.

An error carries a code, its rule and its parameters; its words are in the texts, one
``[error]`` entry per code in ``config/menus/<lang>.toml`` (parameters given as codes, such as a
number's ``why``, have their words under ``[error_param]``). The edge turns an error into an SMS
or a page (``message(lang)``), an HTTP status (``http_status``) or a CLI exit code
(``exit_code``), both from the one table ``EDGES``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple

from smsmenu.core.texts import Texts, packaged
from smsmenu.core.types import Lang

RULES_SHOWN = False
"""Whether ``message`` appends the rule, "(R-13)", by default: no (issue 13).

A rule code means nothing to a shop owner: what agents read (SMS menus, portal pages) leaves it
out; where operators read (the CLI, the back office) ``rule=True`` appends it; ``as_dict`` gives
``rule`` apart and an error's ``str`` (what logs and tracebacks show) keeps it.
"""
FALLBACK_LANG = "en"
"""The language an error speaks when asked for one the texts do not have."""
LEGACY_WHYS: Mapping[str, str] = {
    "a notice number is only for landline and broadband": "notice_target"}
"""Reasons still raised as English sentences, by their code: ``smsmenu/web/agent_recharge.py``
gives this one until it raises ``why="notice_target"``; then delete this."""


def render(error: SmsmenuError, lang: Lang | str = "zh", texts: Texts | None = None, *,
           rule: bool | None = None) -> str:
    """The words of ``error`` in ``lang`` from ``texts`` (the packaged ones by default), with
    its rule appended when there is one and ``rule`` (default ``RULES_SHOWN``) says so."""
    texts = texts or packaged()
    lang = lang if lang in texts.tables else FALLBACK_LANG
    params = dict(error.params)
    if error.messages:
        template = error.messages.get(lang) or error.messages[FALLBACK_LANG]
    else:
        template = _template(error, lang, texts)
        for name, table in error.coded.items():
            if name in params:
                params[name] = _coded(texts, lang, table, params[name], error.params)
    text = template.format(**_joined(texts, lang, params)) if params else template
    show = RULES_SHOWN if rule is None else rule
    return f"{text} ({error.rule})" if show and error.rule else text


def _template(error: SmsmenuError, lang: str, texts: Texts) -> str:
    """The ``[error]`` entry of the error's key, else of the nearest class with words."""
    words: Mapping[str, Any] = texts.get(lang, "error")
    keys = [error.key(), *(getattr(c, "code", "") for c in type(error).__mro__)]
    return str(next(words[k] for k in keys if k in words))


def _coded(texts: Texts, lang: str, table: str, value: Any, params: Mapping[str, Any]) -> Any:
    """A parameter given as a code, in words (filled with the error's other parameters); a value
    that is no code of ``table`` shows as it is."""
    words: Mapping[str, Any] = texts.get(lang, f"error_param.{table}")
    code = LEGACY_WHYS.get(value, value) if isinstance(value, str) else value
    if not isinstance(code, str) or code not in words:
        return value
    template = str(words[code])
    return template.format(**_joined(texts, lang, params)) if params else template


def _joined(texts: Texts, lang: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters with every list or tuple joined by the language's "or": "7 or 8"."""
    if not any(isinstance(v, list | tuple) for v in params.values()):
        return dict(params)
    sep = str(texts.get(lang, "error_param.or"))
    return {k: sep.join(map(str, v)) if isinstance(v, list | tuple) else v
            for k, v in params.items()}


class SmsmenuError(Exception):
    """Base of every deliberate error."""

    code: str = "E_INTERNAL"
    rule: str = ""
    http_status: ClassVar[int]
    """Set from ``EDGES``, as ``exit_code`` is."""
    exit_code: ClassVar[int]
    commit_effects: ClassVar[bool] = False
    """True when the failed operation's own bookkeeping must still commit (failure counters)."""
    words: ClassVar[str] = ""
    """The ``[error]`` entry of this class when it is not ``code`` (a variant of a shared code)."""
    coded: ClassVar[Mapping[str, str]] = {}
    """Parameters given as codes, each with the ``[error_param]`` table that has its words."""
    messages: ClassVar[Mapping[str, str]] = {}
    """Words kept in a class, by language: only for subclasses outside this module that still
    do (``smsmenu/web/errors.py``, ``ledger/store/migrations``) until their words move to the texts."""

    def __init__(self, *, rule: str | None = None, **params: Any) -> None:
        self.params = params
        if rule is not None:
            self.rule = rule
        super().__init__(self.message("en", rule=True))

    def key(self) -> str:
        """The ``[error]`` entry this error renders."""
        return self.words or self.code

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """Every ``[error]`` entry an error of this class may render."""
        return (cls.words or cls.code,)

    def message(self, lang: Lang | str = "zh", texts: Texts | None = None, *,
                rule: bool | None = None) -> str:
        """The user-facing text in ``lang``, with the rule appended when there is one."""
        return render(self, lang, texts, rule=rule)

    def as_dict(self, lang: Lang | str = "en", texts: Texts | None = None) -> dict[str, Any]:
        return {"code": self.code, "rule": self.rule, "message": self.message(lang, texts)}


class InputError(SmsmenuError):
    """Bad input: nothing happened."""


class InvalidPassword(InputError):
    code, rule = "E_PASSWORD_FORMAT", "R-2"


class SamePassword(InvalidPassword):
    code = "E_SAME_PASSWORD"


class InvalidAmount(InputError):
    """An amount outside its rule's range or step; ``high`` None: no upper limit (R-8, R-9)."""

    code, rule = "E_AMOUNT", "R-13"

    def key(self) -> str:
        return "E_AMOUNT_MIN" if self.params.get("high", 0) is None else super().key()

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        own = super().keys()
        return (*own, "E_AMOUNT_MIN") if cls is InvalidAmount else own


class InvalidNumber(InputError):
    """A number that breaks its kind's rule: ``kind`` and ``why`` are codes, ``why`` filled
    with the other parameters its words name (``area``, ``got``...)."""

    code, rule = "E_NUMBER", "R-14"
    coded = {"kind": "number_kind", "why": "number_why"}


class InvalidRate(InputError):
    code, rule = "E_RATE", "R-16"


class InvalidCommand(InputError):
    code = "E_COMMAND"


class NotFound(SmsmenuError):
    """What was asked for does not exist."""


class UnknownAgent(NotFound):
    code, rule = "E_NOT_AGENT", "R-1"


class UnknownCard(NotFound):
    """No UTK card is known on a number (none sent a command from it): give the card's id."""

    code = "E_NO_CARD"


class UnknownRecharge(NotFound):
    """No such recharge: a plain not-found that cites no rule. A retry of a recharge that is
    not the agent's own (or none at all) says ``rule="R-18"``, the retry rule it breaks."""

    code = "E_NO_RECHARGE"


class Conflict(SmsmenuError):
    """A clash with what is stored: a reused key, a duplicate, a changed record."""


class IdempotencyConflict(Conflict):
    code = "E_IDEMPOTENCY"


class DuplicateAgent(Conflict):
    code, rule = "E_DUPLICATE_AGENT", "R-1"


class StaleState(Conflict):
    code = "E_STALE"


class Refused(SmsmenuError):
    """A business rule says no."""


class WrongPassword(Refused):
    code, rule = "E_WRONG_PASSWORD", "R-2"
    commit_effects = True


class AgentLocked(Refused):
    """Too many wrong transaction passwords: recharges and balance queries are locked.

    ``until`` is the local time the lock ends; empty when it holds until an operator unlocks
    (then the words are the code's ``_HELD`` entry).
    """

    code, rule = "E_LOCKED", "R-2"
    commit_effects = True

    def key(self) -> str:
        base = super().key()
        return base if self.params.get("until") else f"{base}_HELD"

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return cls.code, f"{cls.code}_HELD"


class WebLocked(AgentLocked):
    """Too many failed web logins (management password or SMS code): the web login is locked."""

    code = "E_WEB_LOCKED"


class AgentSuspended(Refused):
    code, rule = "E_SUSPENDED", "R-5"


class AgentClosed(Refused):
    code, rule = "E_CLOSED", "R-6"


class CloseRefused(Refused):
    code, rule = "E_CLOSE_BALANCE", "R-6"


class InsufficientFunds(Refused):
    code, rule = "E_FUNDS", "R-15"


class ReversalCheck(NamedTuple):
    """One named reversal check: the rule it applies (its words are the texts')."""

    rule: str


class ReversalRefused(Refused):
    """A reversal refused by one named check; ``check`` selects the code and rule.

    The refusal's words are ``[error] E_REVERSAL_<CHECK>``; what a check requires, for pages
    that list the checks before anything is refused, is ``[reversal_condition] <check>``.
    """

    code = "E_REVERSAL"
    checks: ClassVar[Mapping[str, ReversalCheck]] = {
        "monthly": ReversalCheck("R-23"), "prepaid": ReversalCheck("R-24"),
        "late": ReversalCheck("R-25"), "invoice": ReversalCheck("R-25"),
        "month_end": ReversalCheck("R-25"), "other_month": ReversalCheck("R-25"),
        "balance": ReversalCheck("R-25"), "not_done": ReversalCheck("R-23"),
        "reversed": ReversalCheck("R-23"),
    }

    @classmethod
    def describe(cls, check: str, passed: bool | None, lang: Lang | str = "zh",
                 texts: Texts | None = None) -> str:
        """The condition when it holds or is unknown, the refusal's words when it fails."""
        if passed is False:
            return cls(check).message(lang, texts, rule=False)
        texts = texts or packaged()
        return str(texts.get(lang if lang in texts.tables else FALLBACK_LANG,
                             f"reversal_condition.{check}"))

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f"E_REVERSAL_{check.upper()}" for check in cls.checks)

    def __init__(self, check: str) -> None:
        self.check = check
        self.code = f"E_REVERSAL_{check.upper()}"
        super().__init__(rule=self.checks[check].rule)


class BillingError(SmsmenuError):
    """The BOSS did not answer usefully."""


class BillingTimeout(BillingError):
    code = "E_BILLING_TIMEOUT"


class BillingUnavailable(BillingError):
    code = "E_BILLING_DOWN"


class TransportError(SmsmenuError):
    code = "E_TRANSPORT"


class StorageError(SmsmenuError):
    code = "E_STORAGE"


EDGES: Mapping[type[SmsmenuError], tuple[int, int]] = {
    SmsmenuError: (500, 1),
    InputError: (400, 2),
    NotFound: (404, 3),
    Conflict: (409, 4),
    Refused: (422, 5),
    AgentLocked: (423, 5),
    BillingError: (502, 6),
    TransportError: (502, 1),
    StorageError: (503, 1),
}
"""Each class's (HTTP status, CLI exit code), inherited by its subclasses. A subclass elsewhere
may still set its own (the web's 401, 403 and 429; EX_CONFIG for a too-new schema)."""
for _cls, (_status, _exit) in EDGES.items():
    _cls.http_status, _cls.exit_code = _status, _exit
