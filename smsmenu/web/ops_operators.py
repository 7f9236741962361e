"""Back office, operator accounts (supervisors only): list, create, role, deactivate, password.
A role change and (de)activation are confirmed first (``confirm``); a new password is typed
twice instead (a confirmation page would have to carry it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from ledger.store.web_operators import StaffRow
from smsmenu.core.errors import SmsmenuError
from smsmenu.web import confirm, operators, sessions, staff, state
from smsmenu.web.auth import operator, operator_page
from smsmenu.web.errors import FormError, PageNotFound
from smsmenu.web.forms import form, path_id, raw
from smsmenu.web.i18n import translator
from smsmenu.web.operators import MIN_PASSWORD, ROLES
from smsmenu.web.render import page
from smsmenu.web.state import CSRF_BASIS, LANG, PREFIX

routes = web.RouteTableDef()
HOME = f"{PREFIX}/ops/operators"


async def _list(request: web.Request, status: int = 200, **extra: Any) -> web.Response:
    rows = await staff.listing(state.get(request).ledger)
    return page(request, "ops_operators.html", {"rows": rows, "roles": ROLES, "v": {},
                                                "min": MIN_PASSWORD, **extra}, status=status)


async def _target(request: web.Request) -> StaffRow:
    found = await staff.one(state.get(request).ledger, path_id(request))
    if found is None:
        raise PageNotFound()
    return found


async def _show(request: web.Request, status: int = 200, **extra: Any) -> web.Response:
    return page(request, "ops_operator.html", {"o": await _target(request), "roles": ROLES,
                                               "min": MIN_PASSWORD, **extra}, status=status)


def _new_password(request: web.Request, data: dict[str, str]) -> str:
    """The password typed twice (never stripped); its length is checked when hashed."""
    if raw(data, "password") != raw(data, "again"):
        raise FormError(why=translator(request[LANG])("operators.mismatch"))
    return raw(data, "password")


@routes.get("/ops/operators")
@operator_page("operators")
async def index(request: web.Request) -> web.Response:
    return await _list(request)


@routes.post("/ops/operators")
@operator_page("operators")
async def create(request: web.Request) -> web.StreamResponse:
    data, t = await form(request), translator(request[LANG])
    v = {"name": data.get("name", ""), "role": data.get("role", "")}
    try:
        if not 0 < len(v["name"]) <= 40 or any(c.isspace() for c in v["name"]):
            raise FormError(why=t("operators.bad_name"))
        if v["role"] not in ROLES:
            raise FormError(why=t("form.missing", field=t("operators.role")))
        fields = await operators.prepare(v["name"], _new_password(request, data), v["role"])
        done = await operators.audited(state.get(request).ledger, operator(request),
                                       "operator_create", v["name"], v, staff.create,
                                       by=operator(request), **fields)
    except SmsmenuError as exc:
        return await _list(request, exc.http_status, v=v, error=exc.message(request[LANG], rule=True))
    raise web.HTTPSeeOther(f"{HOME}/{done['operator_id']}?done=create")


@routes.get("/ops/operators/{id}")
@operator_page("operators")
async def show(request: web.Request) -> web.Response:
    done = request.query.get("done")
    notice = translator(request[LANG])("operators.done.create") if done == "create" else None
    return await _show(request, notice=notice)


async def _act(request: web.Request, action: str, run: Callable[..., Any],
               detail: dict[str, Any], **kw: Any) -> web.Response:
    """One audited change of the operator in the URL; the operator page with its outcome."""
    web_, target, who = state.get(request), await _target(request), operator(request)
    try:
        done = await operators.audited(web_.ledger, who, action, target.name, detail, run,
                                       by=who, operator_id=target.id, **kw)
    except SmsmenuError as exc:
        return await _show(request, exc.http_status, error=exc.message(request[LANG], rule=True))
    renewed = done if isinstance(done, str) else None
    if renewed:  # its own password: this browser goes on in a new session, forms bound to it
        request[CSRF_BASIS] = renewed
    notice = translator(request[LANG])(f"operators.done.{action.removeprefix('operator_')}")
    shown = await _show(request, notice=notice)
    if renewed:
        sessions.set_cookie(web_, shown, sessions.COOKIE, renewed)
    return shown


@routes.post("/ops/operators/{id}/role")
@operator_page("operators")
async def role(request: web.Request) -> web.Response:
    data, t = await form(request), translator(request[LANG])
    wanted = data.get("role", "")
    if wanted not in ROLES:
        return await _show(request, 400, error=t("form.missing", field=t("operators.role")))
    target = await _target(request)
    was = target.role
    if not confirm.confirmed(request, data):
        return confirm.ask(request, data, t("confirm_op.operator_role", name=target.name,
                                            was=t(f"role.{was}"), role=t(f"role.{wanted}")),
                           f"{HOME}/{target.id}")
    return await _act(request, "operator_role", staff.set_role, {"role": wanted, "was": was},
                      role=wanted, was=was)


@routes.post("/ops/operators/{id}/active")
@operator_page("operators")
async def active(request: web.Request) -> web.Response:
    data, t = await form(request), translator(request[LANG])
    on = data.get("active") == "1"
    action = "operator_reactivate" if on else "operator_deactivate"
    if not confirm.confirmed(request, data):
        target = await _target(request)
        return confirm.ask(request, data, t(f"confirm_op.{action}", name=target.name),
                           f"{HOME}/{target.id}")
    return await _act(request, "operator_reactivate" if on else "operator_deactivate",
                      staff.set_active, {"active": on}, active=on)


@routes.post("/ops/operators/{id}/password")
@operator_page("operators")
async def password(request: web.Request) -> web.Response:
    """A new password typed twice; the operator's sessions end (see ``staff.set_password``)."""
    try:
        fields = await operators.hashed(_new_password(request, await form(request)))
    except SmsmenuError as exc:
        return await _show(request, exc.http_status, error=exc.message(request[LANG], rule=True))
    return await _act(request, "operator_password", staff.set_password, {},
                      ttl=state.get(request).operator_ttl, **fields)
