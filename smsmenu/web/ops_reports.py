"""Back office reports: the daily settlement by agent (page and CSV); the audit log is
``ops_audit``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from ledger import reports
from ledger.money import format_yuan
from smsmenu.core.clock import iso
from smsmenu.web import csvout, state
from smsmenu.web.auth import operator_page
from smsmenu.web.forms import day
from smsmenu.web.i18n import translator
from smsmenu.web.render import page
from smsmenu.web.state import LANG

routes = web.RouteTableDef()
MONEY = ("counter_fen", "online_fen", "invoice_quota_fen", "recharged_fen", "commission_fen",
         "reversed_fen", "reversed_commission_fen")


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
