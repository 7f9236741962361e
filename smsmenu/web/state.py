"""The portal's shared state: the ledger, settings, and the keys derived from the server secret."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from aiohttp import web

from ledger import Ledger
from smsmenu.settings import Settings
from smsmenu.types import Clock
from smsmenu.web.operators import Operator

PREFIX = "/web"
"""Where the portal is mounted; every page URL starts with it."""


def derive(secret: bytes, purpose: str) -> bytes:
    """A key for one purpose (CSRF, codes, bank notices) derived from the ledger's secret."""
    return hmac.new(secret, f"smsmenu:{purpose}".encode(), hashlib.sha256).digest()


@dataclass
class Web:
    """What every handler needs; one per application."""

    ledger: Ledger
    settings: Settings
    clock: Clock
    key: bytes
    bank_key: bytes
    bank_url: str
    secure_cookies: bool = False
    public_url: str | None = None
    """This server's address as the bank reaches it (notices); default: the request's origin."""
    agent_ttl: dt.timedelta = dt.timedelta(minutes=30)
    operator_ttl: dt.timedelta = dt.timedelta(hours=8)

    def now(self) -> dt.datetime:
        return self.ledger.now()

    def local(self, when: dt.datetime) -> dt.datetime:
        return self.ledger.env.local(when)

    def today(self) -> dt.date:
        return self.local(self.now()).date()

    def midnight(self, day: dt.date) -> dt.datetime:
        """The start of a business day (``[ledger] timezone``) as an aware datetime."""
        return dt.datetime.combine(day, dt.time(), self.ledger.env.rules.tz)


@dataclass(frozen=True, slots=True)
class Session:
    """A live web session: an agent's or an operator's, by id."""

    kind: str
    subject_id: int
    expires_at: str


WEB = web.AppKey("smsmenu_web", Web)
LANG = web.RequestKey("smsmenu_lang", str)
CSRF_BASIS = web.RequestKey("smsmenu_csrf_basis", str)
"""The cookie value the request's CSRF token is derived from."""
SESSION = web.RequestKey("smsmenu_session", Session)
AGENT = web.RequestKey("smsmenu_agent", dict)
"""The logged-in agent's view (``ledger.admin.view``)."""
OPERATOR = web.RequestKey("smsmenu_operator", Operator)


def get(request: web.Request) -> Web:
    return request.config_dict[WEB]
