"""The web portal for agents and the back office for operators, mounted on the server's app."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import aiohttp_jinja2
from aiohttp import web
from yarl import URL

from ledger import Ledger
from smsmenu.core.metrics import Metrics
from smsmenu.core.settings import Settings
from smsmenu.core.types import Clock
from smsmenu.web import (
    agent_account,
    agent_history,
    agent_home,
    agent_login,
    agent_recharge,
    ops_agents,
    ops_audit,
    ops_login,
    ops_operators,
    ops_recharges,
    ops_reports,
    security,
    topup,
)
from smsmenu.web.operators import ROLES, bootstrap, create_operator
from smsmenu.web.render import setup_templates
from smsmenu.web.state import PREFIX, WEB, Web, derive

__all__ = ["PREFIX", "ROLES", "bank_key", "bootstrap", "create_operator", "setup_web"]
STATIC = Path(__file__).with_name("static")
MODULES = (agent_login, agent_home, agent_recharge, agent_history, agent_account, topup,
           ops_login, ops_agents, ops_recharges, ops_reports, ops_audit, ops_operators)


def bank_key(ledger: Ledger) -> bytes:
    """The key the merchant and the (simulated) bank sign top-up requests and notices with."""
    return derive(ledger.env.secret, "bank-sim")


async def _root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther(f"{PREFIX}/")


def setup_web(app: web.Application, ledger: Ledger, settings: Settings, clock: Clock, *,
              bank_url: str | None = None,
              simulated_bank: Callable[[bytes], web.Application] | None = None,
              public_url: str | None = None, secure_cookies: bool = False,
              metrics: Metrics | None = None) -> web.Application:
    """Mount the portal at ``/web/`` (and ``/`` redirecting there) on ``app``.

    With ``bank_url``, top-ups go to that bank (which must share ``bank_key(ledger)``); else
    with ``simulated_bank`` (the simulated bank's app for a key) it is mounted at ``/bank/`` on
    the same app; else
    there is no online top-up (its pages are not served; templates see ``online_topup``
    false). ``public_url`` is this server's address as the bank reaches it (default:
    ``[web] public_url``, else ``http://[web] host:port``; never a request's Host header);
    cookies are Secure when ``secure_cookies`` or ``[web] secure_cookies`` says so. ``metrics``:
    the server's, where the portal's money actions are counted (a fresh set without).
    """
    key = bank_key(ledger)
    if bank_url is None and simulated_bank is not None:
        app.add_subapp("/bank/", simulated_bank(key))
        bank_url = "/bank"
    online_topup = bank_url is not None
    bank_url = bank_url or ""
    bank = URL(bank_url)
    targets = f" {bank.origin()}" if bank.is_absolute() else ""
    state = Web(ledger, settings, clock, derive(ledger.env.secret, "web"), key,
                bank_url.rstrip("/"), secure_cookies, public_url=public_url,
                metrics=metrics or Metrics())
    portal = web.Application(middlewares=[security.middleware(targets)],
                             client_max_size=64 * 1024)
    portal[WEB] = state
    setup_templates(portal, state)
    aiohttp_jinja2.get_env(portal).globals["online_topup"] = online_topup
    for module in MODULES:
        if module is not topup or online_topup:
            portal.add_routes(module.routes)
    portal.router.add_static("/static/", STATIC)
    app.add_subapp(f"{PREFIX}/", portal)
    app.router.add_get("/", _root)
    return portal
