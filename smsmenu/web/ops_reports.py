"""Back office reports: the daily settlement by agent (page and CSV) and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from ledger import reports
from ledger.money import format_yuan
from smsmenu.core.clock import iso
from smsmenu.web import csvout, operators, state
from smsmenu.web.auth import operator_page
from smsmenu.web.forms import day, page_no
from smsmenu.web.i18n import translator
from smsmenu.web.render import page
from smsmenu.web.state import LANG

routes = web.RouteTableDef()
MONEY = ("counter_fen", "online_fen", "invoice_quota_fen", "recharged_fen", "commission_fen",
         "reversed_fen", "reversed_commission_fen")
AUDIT_PAGE = 50


async def _settlement(request: web.Request) -> tuple[dt.date, list[dict[str, Any]],
                                                     dict[str, int]]:
    web_ = state.get(request)
    date = day(request, request.query.get("date"), web_.today())
    start = web_.midnight(date)
    rows = await web_.ledger.read(reports.settlement(iso(start),
                                                     iso(start + dt.timedelta(days=1))))
    totals = {c: sum(int(r[c]) for r in rows) for c in (*MONEY, "recharges", "reversals")}
    return date, rows, totals


@routes.get("/ops/report")
@operator_page("report")
async def report(request: web.Request) -> web.Response:
    date, rows, totals = await _settlement(request)
    return page(request, "ops_report.html", {"date": date.isoformat(), "rows": rows,
                                             "totals": totals})


@routes.get("/ops/report.csv")
@operator_page("report")
async def report_csv(request: web.Request) -> web.Response:
    date, rows, totals = await _settlement(request)
    t = translator(request[LANG])
    header = [t(f"report.{c}") for c in reports.SETTLEMENT_COLUMNS]

    def line(r: dict[str, Any]) -> list[object]:
        return [format_yuan(int(r[c])) if c in MONEY else r[c]
                for c in reports.SETTLEMENT_COLUMNS]
    total = {"agent_id": t("report.total"), "msisdn": "", "name": "", **totals}
    return csvout.response(f"settlement-{date:%Y%m%d}.csv", header,
                           [*map(line, rows), line(total)])


@routes.get("/ops/audit")
@operator_page("audit")
async def audit(request: web.Request) -> web.Response:
    number = page_no(request)
    rows = await operators.log_page(state.get(request).ledger, AUDIT_PAGE + 1,
                                    (number - 1) * AUDIT_PAGE)
    return page(request, "ops_audit.html", {"rows": rows[:AUDIT_PAGE], "page": number,
                                            "more": len(rows) > AUDIT_PAGE})
