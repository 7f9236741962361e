"""Human-readable CLI output in Chinese or English: labels, yuan amounts, local times."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from ledger.money import format_yuan
from smsmenu.clock import from_iso

HIDDEN = frozenset({"agent_id", "transfer_id", "past_references", "lang"})
"""Keys left out of the human view (still in ``--json``)."""
FLAGS = frozenset({"phone_suspended", "invoice_taken", "ok"})
CODED = frozenset({"status", "channel", "kind", "account_type", "changed", "failure"})
"""Keys whose values are codes translated by ``VALUES``."""

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "account_no": "代办户账号", "msisdn": "绑定号码", "name": "名称", "status": "状态",
        "phone_suspended": "手机停机", "locked_until": "交易锁定至",
        "until_unlocked": "直至营业员解锁", "web_locked_until": "网站登录锁定至", "rate_ppm": "佣金费率",
        "balance_fen": "余额", "reserved_fen": "冻结", "available_fen": "可用",
        "opened_at": "开户时间", "closed_at": "销户时间", "channel": "渠道", "amount_fen": "金额",
        "invoice_quota_fen": "定额发票", "refund_fen": "退款", "recharge_id": "充值编号",
        "kind": "类型", "target": "号码", "notice_to": "通知号码", "commission_fen": "佣金",
        "charge_fen": "扣款", "attempts": "尝试次数", "reference": "流水号",
        "account_type": "账户类型", "bill_month": "账单月份", "invoice_taken": "已开发票",
        "failure": "失败原因", "created_at": "时间", "completed_at": "完成时间",
        "changed": "已修改", "notices": "待发短信", "id": "编号", "month": "月份",
        "operator": "操作员", "posted": "已入账", "voided": "已作废", "kept": "保留待查",
        "count": "条数", "yuan": "元", "yes": "是", "no": "否", "unknown": "未知",
    },
    "en": {
        "account_no": "account", "msisdn": "bound number", "name": "name", "status": "status",
        "phone_suspended": "phone suspended", "locked_until": "money locked until",
        "web_locked_until": "web login locked until", "until_unlocked": "until an operator unlocks",
        "rate_ppm": "commission rate", "balance_fen": "balance", "reserved_fen": "reserved",
        "available_fen": "available", "opened_at": "opened", "closed_at": "closed",
        "channel": "channel", "amount_fen": "amount", "invoice_quota_fen": "invoice quota",
        "refund_fen": "refund", "recharge_id": "recharge", "kind": "kind", "target": "number",
        "notice_to": "notice to", "commission_fen": "commission", "charge_fen": "charged",
        "attempts": "attempts", "reference": "reference", "account_type": "account type",
        "bill_month": "bill month", "invoice_taken": "invoice taken", "failure": "failure",
        "created_at": "time", "completed_at": "completed", "changed": "changed",
        "notices": "queued SMS", "id": "id", "month": "month", "operator": "operator",
        "posted": "posted", "voided": "voided", "kept": "kept for later", "count": "count",
        "yuan": "yuan", "yes": "yes", "no": "no", "unknown": "unknown",
    },
}

VALUES: dict[str, dict[str, str]] = {
    "zh": {
        "active": "正常", "closed": "已销户", "succeeded": "成功", "failed": "失败",
        "pending": "处理中", "reversed": "已返销", "counter": "营业厅", "online": "网上",
        "mobile": "C网手机", "landline": "固定电话", "phs": "小灵通", "broadband": "宽带",
        "prepaid": "预付费", "postpaid": "后付费", "tx": "交易密码", "mgmt": "管理密码",
        "timeout": "计费系统超时", "unavailable": "计费系统暂不可用", "lost": "计费系统未收到",
        "cancelled": "计费系统未执行，已撤销", "unknown": "计费系统无应答",
    },
    "en": {"phs": "PHS", "tx": "transaction password", "mgmt": "management password",
           "timeout": "billing timed out", "unavailable": "billing unavailable",
           "lost": "billing never received it", "cancelled": "billing did not apply it; cancelled",
           "unknown": "no answer from billing"},
}


TITLES: dict[str, dict[str, str]] = {
    "zh": {
        "opened": "开户成功", "deposit": "存款成功", "agent": "代办户", "suspended": "已标记手机停机",
        "resumed": "已恢复手机状态", "unlocked": "已解锁", "closed": "已销户", "rate": "费率已修改",
        "password": "密码已修改", "recharge_ok": "充值成功", "recharge_failed": "充值失败",
        "reversal_ok": "返销成功", "reversal_failed": "返销失败", "checks": "返销检查",
        "records": "充值记录", "failed": "失败的充值", "invoice": "已登记发票",
        "verify_ok": "账本检查通过", "verify_breach": "账本检查发现问题", "recover": "待定交易已处理",
        "recharge_pending": "充值结果待确认：计费系统尚未确认，结果将以短信通知代办户",
        "pending": "待确认的交易", "reconcile_ok": "对账一致", "reconcile_mismatch": "对账不一致",
    },
    "en": {
        "opened": "Agent opened", "deposit": "Deposit made", "agent": "Agent",
        "suspended": "Phone marked suspended", "resumed": "Phone resumed", "unlocked": "Unlocked",
        "closed": "Agent closed", "rate": "Rate changed", "password": "Password changed",
        "recharge_ok": "Recharge succeeded", "recharge_failed": "Recharge failed",
        "reversal_ok": "Reversal succeeded", "reversal_failed": "Reversal failed",
        "checks": "Reversal checks", "records": "Recharges", "failed": "Failed recharges",
        "invoice": "Invoice recorded", "verify_ok": "Ledger sound",
        "verify_breach": "Ledger breached", "recover": "Pending transfers resolved",
        "recharge_pending": "Recharge awaiting billing: the result follows to the agent by SMS",
        "pending": "Unconfirmed transfers", "reconcile_ok": "Reconciled: both sides agree",
        "reconcile_mismatch": "Reconciliation found mismatches",
    },
}


def title(lang: str, key: str) -> str:
    return TITLES.get(lang, TITLES["en"])[key]


def label(lang: str, key: str) -> str:
    return LABELS.get(lang, LABELS["en"]).get(key, key)


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
        return VALUES.get(lang, {}).get(value, value)
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

