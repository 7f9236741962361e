"""The agent's dashboard (balance, today, failed list, 30-day chart) and recharge receipts."""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from ledger import reports
from ledger.recharge import Recharge
from ledger.store import queries
from smsmenu.core.clock import from_iso, iso
from smsmenu.core.errors import UnknownRecharge
from smsmenu.web import chart, state
from smsmenu.web.auth import agent_page, me
from smsmenu.web.errors import PageNotFound
from smsmenu.web.forms import path_id
from smsmenu.web.i18n import translator
from smsmenu.web.render import page
from smsmenu.web.state import LANG

routes = web.RouteTableDef()


async def own_recharge(request: web.Request) -> Recharge:
    """The recharge named in the URL if it is this agent's; another's is simply not found."""
    try:
        r = await state.get(request).ledger.get_recharge(path_id(request))
    except UnknownRecharge:
        raise PageNotFound() from None
    if r.agent_id != me(request)["agent_id"]:
        raise PageNotFound()
    return r


@routes.get("/home")
@agent_page
async def home(request: web.Request) -> web.Response:
    web_, agent = state.get(request), me(request)
    today = web_.today()
    start = web_.midnight(today)
    end = start + dt.timedelta(days=1)
    totals = await web_.ledger.read(reports.totals(agent["agent_id"], iso(start), iso(end)))
    failed = await web_.ledger.read(queries.failed(agent["agent_id"], 20))
    since = web_.midnight(today - dt.timedelta(days=29))
    rows = await web_.ledger.read(reports.series(agent["agent_id"], iso(since), iso(end)))
    days = chart.bin_days([(web_.local(from_iso(at)).date(), a, c) for at, a, c in rows], today)
    svg = chart.svg(days, translator(request[LANG]))
    return page(request, "home.html", {"today": today, "totals": totals, "failed": failed,
                                       "chart": svg,
                                       "month_fen": sum(a for _, a, _ in days),
                                       "month_commission_fen": sum(c for _, _, c in days)})


@routes.get("/recharges/{id}")
@agent_page
async def receipt(request: web.Request) -> web.Response:
    r = await own_recharge(request)
    customer = r.notice_to or (r.target if r.kind in ("mobile", "phs") else None)
    return page(request, "receipt.html", {"r": r, "customer": customer})
