"""Back office, recharges: look up by customer number (R-22), mark an invoice taken (R-25), and
reversal (R-23..R-25): every check shown with pass/fail before a supervisor confirms (and a
confirmation page names what the reversal or the invoice mark will do)."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from aiohttp import web

from ledger import audit, reversal
from ledger.audit import Actor
from ledger.context import Env
from ledger.money import format_yuan
from ledger.recharge import Recharge
from ledger.store import Conn, queries
from smsmenu.core import refno
from smsmenu.core.errors import ReversalRefused, SmsmenuError, UnknownRecharge
from smsmenu.web import confirm, operators, state, tally
from smsmenu.web.auth import operator, operator_page
from smsmenu.web.errors import PageNotFound
from smsmenu.web.forms import form, path_id
from smsmenu.web.i18n import translator
from smsmenu.web.render import page
from smsmenu.web.state import LANG, PREFIX

routes = web.RouteTableDef()


async def _recharge(request: web.Request) -> Recharge:
    try:
        return await state.get(request).ledger.get_recharge(path_id(request))
    except UnknownRecharge:
        raise PageNotFound() from None


def _mark(conn: Conn, env: Env, now: dt.datetime, *, recharge_id: int,
          actor: Actor) -> dict[str, Any]:
    return reversal.mark_invoice(conn, env, now, recharge_id=recharge_id, actor=actor).as_dict()


@routes.get("/ops/lookup")
@operator_page("lookup")
async def lookup(request: web.Request) -> web.Response:
    number = re.sub(r"[\s-]", "", request.query.get("number", ""))[:20]
    rows = await state.get(request).ledger.read(queries.by_target(number, 100)) if number else []
    if not rows and refno.valid(number):  # the 单号 an agent quotes to the hotline
        try:
            rows = [await state.get(request).ledger.get_recharge(int(number[:-2]))]
        except UnknownRecharge:
            rows = []
    return page(request, "ops_lookup.html", {"number": number, "rows": rows})


@routes.post("/ops/recharges/{id}/invoice")
@operator_page("invoice")
async def invoice(request: web.Request) -> web.StreamResponse:
    r, data = await _recharge(request), await form(request)
    if not confirm.confirmed(request, data):
        return _ask(request, r, data, "invoice", f"{PREFIX}/ops/lookup?number={r.target}")
    who = operator(request)
    await operators.audited(state.get(request).ledger, who, "invoice", audit.agent_target(
        r.agent_id), {"recharge": r.reference, "target": r.target}, _mark,
        audit_agent=r.agent_id, recharge_id=r.id, actor=who.actor)
    raise web.HTTPSeeOther(f"{PREFIX}/ops/lookup?number={r.target}")


def _ask(request: web.Request, r: Recharge, data: dict[str, str], action: str,
         back: str) -> web.Response:
    """The confirmation page of ``action`` on this recharge (``confirm``)."""
    what = translator(request[LANG])(
        f"confirm_op.{action}", agent=audit.agent_target(r.agent_id), target=r.target,
        reference=r.reference, amount=format_yuan(r.amount), charge=format_yuan(r.charge))
    return confirm.ask(request, data, what, back)


def explain(checks: list[tuple[str, bool | None]], lang: str) -> list[dict[str, Any]]:
    """Each check with its rule and its text in ``lang``: the condition, or why it fails."""
    rows = []
    for name, passed in checks:
        rows.append({"name": name, "rule": ReversalRefused.checks[name][0],
                     "text": ReversalRefused.describe(name, passed, lang), "passed": passed})
    return rows


async def _reversal_page(request: web.Request, r: Recharge, status: int = 200,
                         **extra: Any) -> web.Response:
    checks = explain(await state.get(request).ledger.reversal_checks(r.id), request[LANG])
    ready = all(c["passed"] is True for c in checks)
    return page(request, "ops_reversal.html", {
        "r": r, "checks": checks, "ready": ready, "key": secrets.token_hex(12), "result": None,
        "may_confirm": operator(request).may("reversal"), **extra}, status=status)


@routes.get("/ops/recharges/{id}/reversal")
@operator_page("reversal_check")
async def reversal_page(request: web.Request) -> web.Response:
    return await _reversal_page(request, await _recharge(request))


@routes.post("/ops/recharges/{id}/reversal")
@operator_page("reversal")
async def reverse(request: web.Request) -> web.Response:
    web_, who, r = state.get(request), operator(request), await _recharge(request)
    data = await form(request)
    key = data.get("key", "")[:32] or secrets.token_hex(12)
    if not confirm.confirmed(request, {**data, "key": key}):
        return _ask(request, r, {**data, "key": key}, "reversal",
                    f"{PREFIX}/ops/recharges/{r.id}/reversal")
    detail: audit.Detail = {"recharge": r.reference, "target": r.target, "amount_fen": r.amount}
    try:
        done = await web_.ledger.reverse(key=f"web-reversal:{key}", recharge_id=r.id,
                                         operator=who.name, actor=who.actor)
    except SmsmenuError as exc:
        await operators.refused(web_.ledger, who, "reversal", audit.agent_target(r.agent_id),
                                detail, exc, r.agent_id)
        tally.reversal(web_.metrics, r.id, r.amount, who.name, refused=exc)
        return await _reversal_page(request, r, exc.http_status,
                                    error=exc.message(request[LANG], rule=True))
    tally.reversal(web_.metrics, r.id, r.amount, who.name, done=done)
    return await _reversal_page(request, await _recharge(request), result=done)
