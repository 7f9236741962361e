"""账户管理 → 最近充值 (and the card's ``ZJ``): recent recharges, behind the transaction password."""

from __future__ import annotations

from typing import Any

from ledger import inside
from ledger.money import format_yuan
from smsmenu.core.clock import from_iso
from smsmenu.states.checks import PAGE, Session


def short_yuan(fen: int) -> str:
    """Whole yuan without decimals (``100``), else two (``99.50``): lists must fit one SMS."""
    return str(fen // 100) if fen % 100 == 0 else format_yuan(fen)


class MenuSession(Session):
    """The menu's model: every check of ``Session`` plus the recent-records list."""

    def records_password_ok(self) -> bool:
        """R-21: records, like the balance, need the transaction password."""
        def check() -> None:
            self._password("tx")
            self.data = {"page": 0}
        return self._try(check)

    def listed_records(self) -> bool:
        """``ZJ*PASSWORD``: the newest recharges in one SMS, behind the transaction password."""
        def show() -> None:
            self._password("tx")
            self.data = {"page": 0}
            self.load_records()
            items = self.params_records()["items"]
            self.step.result.append(self.t("menu.records_line", items=items) if items
                                    else self.t("menu.records_none"))
        return self._try(show)

    def load_records(self) -> None:
        page = self.data.get("page", 0)
        s = self.step
        rows = inside.recent_recharges(s.conn, s.agent.id, PAGE + 1, page * PAGE)
        self.data["items"] = [
            {"at": s.env.local(from_iso(r.created_at)).strftime("%m-%d"), "target": r.target,
             "amount": r.amount, "status": r.status} for r in rows[:PAGE]]
        self.data["more"] = len(rows) > PAGE

    def params_records(self) -> dict[str, Any]:
        items = [self.t("menu.record_item", at=i["at"], target=i["target"],
                        amount=short_yuan(i["amount"]),
                        status=self.t(f"record_status.{i['status']}"))
                 for i in self.data["items"]]
        return {"items": "\n".join(items), "more": self.t("menu.more") if self.data["more"] else ""}

    def screen(self) -> str:
        if self.state == "records" and not self.data.get("items"):
            return self.t("menu.records_empty")
        return super().screen()
