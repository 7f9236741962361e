"""Recharge history between two dates (R-21) with paging, its CSV, and the printable record sheet."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from ledger import reports
from ledger.money import format_yuan
from ledger.recharge import Recharge
from ledger.store import queries
from smsmenu.core import refno
from smsmenu.core.clock import from_iso, iso
from smsmenu.web import csvout, state
from smsmenu.web.auth import agent_page, me
from smsmenu.web.errors import FormError
from smsmenu.web.forms import day, page_no
from smsmenu.web.i18n import translator
from smsmenu.web.render import page
from smsmenu.web.state import LANG

routes = web.RouteTableDef()
PER_PAGE = 20
EXPORT_LIMIT = 10_000
MAX_DAYS = 366


def _range(request: web.Request) -> tuple[dt.date, dt.date, str, str]:
    """The asked dates (default: the last 7 days), inclusive, and their stored-time bounds."""
    web_ = state.get(request)
    today = web_.today()
    end = day(request, request.query.get("to"), today)
    start = day(request, request.query.get("from"), end - dt.timedelta(days=6))
    if start > end or (end - start).days > MAX_DAYS:
        raise FormError(why=translator(request[LANG])("history.bad_range", days=MAX_DAYS))
    return (start, end, iso(web_.midnight(start)),
            iso(web_.midnight(end + dt.timedelta(days=1))))


async def _rows(request: web.Request, limit: int, offset: int = 0) -> list[Recharge]:
    _, _, start, end = _range(request)
    query = queries.records(me(request)["agent_id"], start, end, limit, offset)
    return await state.get(request).ledger.read(query)


@routes.get("/history")
@agent_page
async def history(request: web.Request) -> web.Response:
    start, end, lo, hi = _range(request)
    number = page_no(request)
    rows = await _rows(request, PER_PAGE, (number - 1) * PER_PAGE)
    total = await state.get(request).ledger.read(
        reports.count_records(me(request)["agent_id"], lo, hi))
    pages = max(1, -(-int(total) // PER_PAGE))
    span = {"from": start.isoformat(), "to": end.isoformat()}
    return page(request, "history.html", {"rows": rows, "span": span, "page": number,
                                          "pages": pages, "total": total})


def _local(request: web.Request, stamp: str) -> str:
    return state.get(request).local(from_iso(stamp)).strftime("%Y-%m-%d %H:%M:%S")


@routes.get("/history.csv")
@agent_page
async def history_csv(request: web.Request) -> web.Response:
    start, end, _, _ = _range(request)
    t = translator(request[LANG])
    header = [t(f"csv.{name}") for name in ("id", "time", "kind", "target", "amount",
                                            "commission", "charge", "status")]
    # commission and charge only where money moved: a column's sum is what was charged;
    # the one reference agents quote (单号), not BOSS's
    rows = [[refno.quote(r.id), _local(request, r.created_at), t(f"kind.{r.kind}"), r.target,
             format_yuan(r.amount), *_charged(r), t(f"status.{r.status}")]
            for r in await _rows(request, EXPORT_LIMIT)]
    name = f"recharges-{me(request)['account_no']}-{start:%Y%m%d}-{end:%Y%m%d}.csv"
    return csvout.response(name, header, rows)


def _charged(r: Recharge) -> list[str]:
    """Commission and charge of a succeeded recharge; blank for one that charged nothing
    (failed, pending, or reversed: refunded)."""
    if r.status != "succeeded":
        return ["", ""]
    return [format_yuan(r.commission), format_yuan(r.charge)]


@routes.get("/history/sheet")
@agent_page
async def sheet(request: web.Request) -> web.Response:
    """The paper record sheet (date, customer number, amount, customer's confirmation)."""
    start, end, _, _ = _range(request)
    rows: list[dict[str, Any]] = [
        {"time": _local(request, r.created_at)[:16], "target": r.target, "amount_fen": r.amount,
         "kind": r.kind}
        for r in reversed(await _rows(request, EXPORT_LIMIT)) if r.status == "succeeded"]
    return page(request, "sheet.html", {"rows": rows, "span": {"from": start.isoformat(),
                                                               "to": end.isoformat()},
                                        "total_fen": sum(r["amount_fen"] for r in rows)})
