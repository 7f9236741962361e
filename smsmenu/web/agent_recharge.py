"""The recharge form, its confirmation step (charge after commission), submit, and retry (R-18)."""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from ledger import money
from ledger.api import Channel, RechargeRequest
from smsmenu.core.errors import InvalidNumber, SmsmenuError
from smsmenu.core.types import TargetKind
from smsmenu.web import state, tally
from smsmenu.web.agent_home import own_recharge
from smsmenu.web.auth import agent_page, me
from smsmenu.web.errors import FormError, PageNotFound
from smsmenu.web.forms import digits, form, need, raw
from smsmenu.web.i18n import translator
from smsmenu.web.render import page
from smsmenu.web.state import LANG, PREFIX

routes = web.RouteTableDef()
KINDS = [k.value for k in TargetKind]


def _kind(request: web.Request, data: dict[str, str]) -> TargetKind:
    if data.get("kind") not in KINDS:
        raise FormError(why=translator(request[LANG])("recharge.pick_kind"))
    return TargetKind(data["kind"])


def checked(request: web.Request, data: dict[str, str]) -> dict[str, Any]:
    """The ledger's own rules (R-13, R-14, R-17) applied early, so the confirmation is right."""
    env, agent = state.get(request).ledger.env, me(request)
    kind = _kind(request, data)
    target = env.plan.validate(kind, need(request, data, "target"))
    if env.plan.validate(kind, need(request, data, "again")) != target:
        raise FormError(why=translator(request[LANG])("recharge.mismatch"))
    amount = money.check_recharge_amount(money.parse_yuan(need(request, data, "amount")))
    notice = data.get("notice", "")
    if notice and kind in (TargetKind.MOBILE, TargetKind.PHS):
        raise InvalidNumber(rule="R-17", number=notice, kind=str(kind),
                            why="a notice number is only for landline and broadband")
    notice = env.plan.validate_notice(notice) if notice else ""
    commission = money.commission(amount, agent["rate_ppm"])
    return {"kind": kind.value, "target": target, "amount_fen": amount, "notice": notice,
            "commission_fen": commission, "charge_fen": amount - commission,
            "key": data.get("key") or secrets.token_hex(12)}


def _form(request: web.Request, values: dict[str, str], error: str | None = None,
          status: int = 200) -> web.Response:
    return page(request, "recharge.html", {"kinds": KINDS, "v": values, "error": error},
                status=status)


@routes.get("/recharge")
@agent_page
async def recharge_form(request: web.Request) -> web.Response:
    return _form(request, {})


@routes.post("/recharge/edit")
@agent_page
async def recharge_edit(request: web.Request) -> web.Response:
    data = await form(request)
    return _form(request, _resubmitted(data))


@routes.post("/recharge/confirm")
@agent_page
async def recharge_confirm(request: web.Request) -> web.Response:
    data = await form(request)
    try:
        order = checked(request, data)
    except SmsmenuError as exc:
        return _form(request, data, exc.message(request[LANG]), exc.http_status)
    return page(request, "confirm.html", {"o": order})


def _resubmitted(data: dict[str, str]) -> dict[str, str]:
    """The confirmation page's hidden fields as the form's fields, to check them again."""
    fen = digits(data.get("amount_fen", ""), 14)
    key = data.get("key", "")
    return {**data, "again": data.get("target", ""),
            "amount": "" if fen is None else money.format_yuan(fen),
            "key": key if key.isascii() and key.isalnum() and len(key) <= 32 else ""}


@routes.post("/recharge")
@agent_page
async def recharge_submit(request: web.Request) -> web.StreamResponse:
    web_, agent, data = state.get(request), me(request), await form(request)
    try:
        order = checked(request, _resubmitted(data))
    except SmsmenuError as exc:
        return _form(request, data, exc.message(request[LANG]), exc.http_status)
    try:
        done = await web_.ledger.recharge(RechargeRequest(
            key=f"web:{agent['agent_id']}:{order['key']}", msisdn=agent["msisdn"],
            kind=TargetKind(order["kind"]), target=order["target"],
            amount_fen=order["amount_fen"], tx_password=raw(data, "tx_password"),
            notice_to=order["notice"] or None, channel=Channel.WEB))
    except SmsmenuError as exc:
        tally.recharge(web_.metrics, agent["agent_id"], order["kind"], order["amount_fen"],
                       refused=exc)
        return page(request, "confirm.html", {"o": order, "error": exc.message(request[LANG])},
                    status=exc.http_status)
    tally.recharge(web_.metrics, agent["agent_id"], order["kind"], order["amount_fen"], done=done)
    raise web.HTTPSeeOther(f"{PREFIX}/recharges/{done.recharge_id}")


@routes.get("/recharges/{id}/retry")
@agent_page
async def retry_form(request: web.Request) -> web.Response:
    r = await own_recharge(request)
    if r.status != "failed":
        raise web.HTTPSeeOther(f"{PREFIX}/recharges/{r.id}")
    return page(request, "retry.html", {"r": r, "key": secrets.token_hex(12)})


@routes.post("/recharges/{id}/retry")
@agent_page
async def retry(request: web.Request) -> web.StreamResponse:
    web_, agent, data = state.get(request), me(request), await form(request)
    r = await own_recharge(request)
    key = data.get("key", "")
    if not (key.isascii() and key.isalnum() and len(key) <= 32):
        raise PageNotFound()
    try:
        done = await web_.ledger.retry(key=f"web-retry:{agent['agent_id']}:{key}",
                                       msisdn=agent["msisdn"], recharge_id=r.id,
                                       tx_password=raw(data, "tx_password"))
    except SmsmenuError as exc:
        tally.recharge(web_.metrics, agent["agent_id"], r.kind, r.amount, refused=exc,
                       retry=True)
        return page(request, "retry.html", {"r": r, "key": key,
                                            "error": exc.message(request[LANG])},
                    status=exc.http_status)
    tally.recharge(web_.metrics, agent["agent_id"], r.kind, r.amount, done=done, retry=True)
    raise web.HTTPSeeOther(f"{PREFIX}/recharges/{done.recharge_id}")
