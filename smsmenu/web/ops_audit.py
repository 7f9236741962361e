"""Back office, the audit log in words: who, when (local time), which agent, what amount, what
happened; filtered by action, operator, agent and dates; the same as CSV."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from ledger.money import format_yuan
from ledger.store import web_audit
from ledger.store.web_audit import Entry, Filter
from smsmenu.core.clock import from_iso, iso
from smsmenu.web import csvout, state
from smsmenu.web.auth import operator_page
from smsmenu.web.errors import FormError
from smsmenu.web.forms import day, page_no
from smsmenu.web.i18n import Translate, table, translator
from smsmenu.web.render import page
from smsmenu.web.state import LANG

routes = web.RouteTableDef()
PAGE = 50
CSV_ROWS = 100_000
"""At most this many rows in one CSV (newest first); narrow the filter for older ones."""


@dataclass(frozen=True, slots=True)
class Shown:
    """One audit row in words."""

    id: int
    at: str
    who: str
    action: str
    agent_id: int | None
    agent: str
    amount: str
    detail: str
    outcome: str


def _param(t: Translate, action: str, name: str, value: Any) -> tuple[str, str]:
    """One detail parameter as the texts' templates name and show it."""
    if name.endswith("_fen") and isinstance(value, int):
        return name.removesuffix("_fen"), format_yuan(value)
    if name.endswith("_ppm"):
        shown = f"{value / 10_000:g}%" if isinstance(value, int) else t("audit.default_rate")
        return name.removesuffix("_ppm"), shown
    if name in ("channel", "status") or (action == "operator_role" and name in ("role", "was")):
        return name, t(f"{'role' if name in ('role', 'was') else name}.{value}")
    if name == "role" and action == "operator_create":
        return name, t(f"role.{value}")
    return name, "" if value is None else str(value)


def detail(t: Translate, action: str, text: str) -> str:
    """A row's detail in words: its action's template filled, else its values in a line (rows
    older than the templates, refusals: what the form said); never an idempotency key."""
    try:
        found = json.loads(text)
    except ValueError:
        return text
    if not isinstance(found, dict):
        return text
    params = dict(_param(t, action, k, v) for k, v in found.items() if k != "key")
    template = t(f"audit.details.{action}")
    if template != f"audit.details.{action}":
        try:
            return template.format(**params)
        except (KeyError, IndexError):
            pass
    return t("audit.sep").join(v for v in params.values() if v)


def shown(t: Translate, web_: state.Web, e: Entry) -> Shown:
    outcome = (t("audit.ok") if e.outcome == "ok" else t("audit.failed")
               if e.outcome.startswith("failed") else t("audit.refused", code=e.outcome))
    action = t(f"audit.actions.{e.action}")
    return Shown(e.id, web_.local(from_iso(e.at)).strftime("%Y-%m-%d %H:%M:%S"),
                 f"{e.operator} ({t(f'role.{e.role}')})",
                 e.action if action == f"audit.actions.{e.action}" else action,
                 e.agent_id, f"A{e.agent_id:08d}" if e.agent_id is not None else e.target,
                 format_yuan(e.amount_fen) if e.amount_fen is not None else "",
                 detail(t, e.action, e.detail), outcome)


def wanted(request: web.Request) -> tuple[Filter, dict[str, str]]:
    """The filter the query asks for, and its fields as typed (to show them again)."""
    web_, q = state.get(request), request.query
    typed = {k: q.get(k, "").strip()[:40] for k in ("action", "operator", "agent", "from", "to")}
    agent: int | None = None
    if typed["agent"]:
        m = re.fullmatch(r"[Aa]?0*([0-9]{1,8})", typed["agent"])
        if m is None:
            t = translator(request[LANG])
            raise FormError(why=t("form.missing", field=t("audit.filter_agent")))
        agent = int(m.group(1))
    since = day(request, typed["from"], dt.date.min) if typed["from"] else None
    until = day(request, typed["to"], dt.date.max) if typed["to"] else None
    return Filter(
        action=typed["action"] if re.fullmatch(r"[a-z_]{1,40}", typed["action"]) else "",
        operator=typed["operator"], agent_id=agent,
        since=iso(web_.midnight(since)) if since else "",
        until=iso(web_.midnight(until + dt.timedelta(days=1))) if until else ""), typed


@routes.get("/ops/audit")
@operator_page("audit")
async def audit(request: web.Request) -> web.Response:
    web_, number, t = state.get(request), page_no(request), translator(request[LANG])
    found, typed = wanted(request)
    rows = await web_.ledger.read(web_audit.search(found, PAGE + 1, (number - 1) * PAGE))
    logged: list[str] = await web_.ledger.read(web_audit.actions())
    choices = sorted(set(logged) | {k.removeprefix("audit.actions.") for k in table("zh")
                        if k.startswith("audit.actions.")})
    query = urlencode({k: v for k, v in typed.items() if v})
    return page(request, "ops_audit.html", {
        "rows": [shown(t, web_, e) for e in rows[:PAGE]], "page": number,
        "more": len(rows) > PAGE, "v": typed, "query": query,
        "choices": [(c, t(f"audit.actions.{c}")) for c in choices]})


@routes.get("/ops/audit.csv")
@operator_page("audit")
async def audit_csv(request: web.Request) -> web.Response:
    web_, t = state.get(request), translator(request[LANG])
    found, _ = wanted(request)
    rows = await web_.ledger.read(web_audit.search(found, CSV_ROWS))
    header = ["#", t("col.time"), t("audit.who"), t("audit.action"), t("audit.agent"),
              t("audit.amount"), t("audit.detail"), t("audit.outcome")]
    lines = [[s.id, s.at, s.who, s.action, s.agent, s.amount, s.detail, s.outcome]
             for s in (shown(t, web_, e) for e in rows)]
    return csvout.response(f"audit-{web_.today():%Y%m%d}.csv", header, lines)
