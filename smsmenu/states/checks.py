"""The menu's conditions: each checks the agent's input, stores what it took, or says why not."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from ledger import inside, money
from ledger.api import Held, RechargeRequest
from smsmenu.core.errors import InvalidCommand, SamePassword, SmsmenuError
from smsmenu.core.types import TargetKind
from smsmenu.states.session import SessionBase, _Refused

KINDS = [TargetKind.LANDLINE, TargetKind.MOBILE, TargetKind.PHS, TargetKind.BROADBAND]
"""Order of the 充值 sub-menu (domain: 固定电话 · C网手机 · 小灵通 · 宽带)."""
PAGE = 2
"""Failed recharges per screen: two lines keep the screen inside one SMS (70 UCS2 characters)."""


class Session(SessionBase):
    """The model of the shared machine; condition names are those used in ``menu.TRANSITIONS``."""

    def __getattr__(self, name: str) -> Callable[[], bool]:
        if name.startswith("pressed_") and name[8:].isdigit():
            return lambda: self.step.text == name[8:]
        raise AttributeError(name)

    def _try(self, check: Callable[[], Any]) -> bool:
        """Run an input check; a refusal becomes the error shown with the same screen."""
        try:
            check()
        except _Refused:
            return False
        except SmsmenuError as exc:
            self.step.error = exc.message(self.lang)
            return False
        return True

    def refused(self) -> bool:
        return self.step.fatal

    # -- 充值 ---------------------------------------------------------------------------
    def may_recharge(self) -> bool:
        """R-5 (and lockout): refuse at the door, not after the whole dialog was typed."""
        s = self.step
        return self._try(lambda: inside.require_can_recharge(s.agent, s.env, s.now))

    def new_dialog(self) -> None:
        """Entering a money dialog: its key (the dialog number) guards against paying twice."""
        self.dialog += 1
        self.data = {}

    def chose_kind(self) -> bool:
        text = self.step.text
        if text in ("1", "2", "3", "4"):
            self.data = {"kind": str(KINDS[int(text) - 1])}
            return True
        return False

    def took_number(self) -> bool:
        kind = TargetKind(self.data["kind"])
        return self._try(lambda: self.data.update(
            target=self.step.env.plan.validate(kind, self.step.text)))

    def took_amount(self) -> bool:
        def take() -> None:
            try:
                amount = money.check_recharge_amount(money.parse_yuan(self.step.text))
            except money.AmountFormatError as exc:
                raise money.AmountFormatError(rule="R-13", **exc.params) from None
            rate = self.step.agent.rate(self.step.env)
            self.data.update(amount=amount, charge=amount - money.commission(amount, rate),
                             notice=None)
        return self._try(take)

    def notice_allowed(self) -> bool:
        """R-17: a notice number may be given for landline and broadband targets."""
        return self.data["kind"] in ("landline", "broadband")

    def took_notice(self) -> bool:
        if self.step.text == "1":
            self.data["notice"] = None
            return True
        return self._try(lambda: self.data.update(
            notice=self.step.env.plan.validate_notice(self.step.text)))

    def params_confirm(self) -> dict[str, Any]:
        return {"kind": self.t(f"kind_menu.{self.data['kind']}"), "target": self.data["target"],
                "amount": money.format_yuan(self.data["amount"]),
                "charge": money.format_yuan(self.data["charge"])}

    def _dialog_key(self) -> str:
        """SMS dialogs keep the key they had before channels had dialogs of their own."""
        if self.channel == "sms":
            return f"dialog:{self.msisdn}:{self.dialog}"
        return f"dialog:{self.msisdn}:{self.channel}:{self.dialog}"

    def recharge_request(self, key: str, kind: TargetKind, target: str, amount_fen: int,
                         notice_to: str | None) -> RechargeRequest:
        """The one place the menu asks for a recharge (dialog or one-line command): by this
        agent, with the password just typed, recorded under the message's real channel."""
        s = self.step
        return RechargeRequest(key=key, msisdn=self.msisdn, kind=kind, target=target,
                               amount_fen=amount_fen, tx_password=s.text, notice_to=notice_to,
                               channel=s.channel)

    def reserved_recharge(self) -> bool:
        s, d = self.step, self.data
        request = self.recharge_request(self._dialog_key(), TargetKind(d["kind"]), d["target"],
                                        d["amount"], d["notice"])
        return self._try(lambda: self._reserve(lambda: inside.begin_recharge(
            s.conn, s.env, s.now, request)))

    def _reserve(self, begin: Callable[[], Held]) -> None:
        inside.check_password_format(self.step.text)
        with self.ledger_call():
            held = begin()
        self.step.pending, self.step.fresh = held.recharge, held.fresh

    # -- 异常处理 · 重复充值 ----------------------------------------------------------------
    def first_page(self) -> bool:
        self.dialog += 1
        self.data = {"page": 0}
        return True

    def pressed_more(self) -> bool:
        if self.step.text == "#" and self.data.get("more"):
            self.data["page"] = self.data.get("page", 0) + 1
            return True
        return False

    def load_failed(self) -> None:
        page = self.data.get("page", 0)
        rows = inside.failed_recharges(self.step.conn, self.step.agent.id, PAGE + 1, page * PAGE)
        self.data["items"] = [{"id": r.id, "kind": r.kind, "target": r.target,
                               "amount": r.amount} for r in rows[:PAGE]]
        self.data["more"] = len(rows) > PAGE

    def screen(self) -> str:
        if self.state == "retry_list" and not self.data.get("items"):
            return self.t("menu.retry_empty")
        return super().screen()

    def params_retry_list(self) -> dict[str, Any]:
        items = [self.t("menu.retry_item", n=n, kind=self.t(f"kind.{i['kind']}"),
                        target=i["target"], amount=money.format_yuan(i["amount"]))
                 for n, i in enumerate(self.data["items"], 1)]
        return {"items": "\n".join(items), "more": self.t("menu.more") if self.data["more"] else ""}

    def chose_failed(self) -> bool:
        text, items = self.step.text, self.data["items"]
        if text.isascii() and text.isdigit() and 1 <= int(text) <= len(items):
            self.data["retry"] = items[int(text) - 1]
            return True
        return False

    def params_retry_password(self) -> dict[str, Any]:
        item = self.data["retry"]
        return {"kind": self.t(f"kind.{item['kind']}"), "target": item["target"],
                "amount": money.format_yuan(item["amount"])}

    def reserved_retry(self) -> bool:
        s = self.step
        return self._try(lambda: self._reserve(lambda: inside.begin_retry(
            s.conn, s.env, s.now, key=self._dialog_key(), msisdn=self.msisdn,
            recharge_id=self.data["retry"]["id"], tx_password=s.text)))

    # -- 账户管理 · 业务管理 -------------------------------------------------------------------
    def said_not_open(self) -> bool:
        self.step.result.append(self.t("menu.not_open"))
        return True

    def _password(self, purpose: str) -> None:
        s = self.step
        inside.check_password_format(s.text)
        with self.ledger_call():
            inside.check_password(s.conn, s.env, s.now, s.agent, purpose, s.text)

    def showed_balance(self) -> bool:
        """R-21: the balance needs the transaction password."""
        def show() -> None:
            self._password("tx")
            view = inside.agent_info(self.step.conn, self.step.env, self.step.agent)
            self.step.result.append(self.t(
                "menu.balance", balance=money.format_yuan(view.balance_fen),
                available=money.format_yuan(view.available_fen)))
        return self._try(show)

    def _purpose(self) -> str:
        return self.state.split("_")[0]

    def old_password_ok(self) -> bool:
        return self._try(lambda: self._password(self._purpose()))

    def _digest(self, text: str) -> str:
        s = self.step
        return inside.password_digest(s.env.secret, s.agent.salt, "pending", text).hex()

    def took_new_password(self) -> bool:
        s = self.step

        def take() -> None:
            inside.check_password_format(s.text)
            purpose = self._purpose()
            current = s.agent.tx_hash if purpose == "tx" else s.agent.mgmt_hash
            if inside.password_matches(s.env.secret, s.agent.salt, purpose, s.text, current):
                raise SamePassword()
            self.data["new"] = self._digest(s.text)  # a keyed digest, never the password
        return self._try(take)

    def changed_password(self) -> bool:
        s = self.step
        if not hmac.compare_digest(self.data.get("new", ""), self._digest(s.text)):
            return False

        def change() -> None:
            with self.ledger_call(stay_on_wrong_password=False):
                done = inside.replace_password(s.conn, s.env, s.now, agent=s.agent,
                                                    purpose=self._purpose(), new=s.text)
            s.notices.extend(done.notices)
        return self._try(change)

    def changed_by_command(self, which: str, old: str, new: str) -> bool:
        """``MM*1|2*OLD*NEW``: the ledger's own change (the old password counts toward its
        lock, R-2; R-21); the password-changed notice is the answer."""
        s = self.step
        if which not in ("1", "2"):
            raise InvalidCommand(why=self.t("usage.password"))

        def change() -> None:
            with self.ledger_call(stay_on_wrong_password=False):
                done = inside.change_password(s.conn, s.env, s.now, msisdn=self.msisdn,
                                              purpose="tx" if which == "1" else "mgmt",
                                              old=old, new=new)
            s.notices.extend(done.notices)
        return self._try(change)

    def mismatch(self) -> bool:
        self.step.error = self.t("menu.mismatch")
        return True
