"""The portal's shared state: the ledger, settings, and the keys derived from the server secret."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass, field

from aiohttp import web

from ledger import Ledger
from ledger.store.web_sessions import Session
from smsmenu.core.metrics import Metrics
from smsmenu.core.settings import Settings
from smsmenu.core.types import Clock
from smsmenu.web.operators import Operator

PREFIX = "/web"
"""Where the portal is mounted; every page URL starts with it."""


def derive(secret: bytes, purpose: str) -> bytes:
    """A key for one purpose (CSRF, codes, bank notices) derived from the ledger's secret."""
    return hmac.new(secret, f"smsmenu:{purpose}".encode(), hashlib.sha256).digest()


def listener_url(settings: Settings) -> str:
    """``http://host:port`` of the portal's listener, ``[web]`` (a wildcard host: this machine)."""
    host = settings.web.host
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.web.port}"


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
    """Cookies carry ``Secure``: this or ``[web] secure_cookies``."""
    public_url: str | None = None
    """The portal's address as browsers and the bank reach it (top-up notify and return URLs):
    this, else ``[web] public_url``, else the listener's; never a request's Host header."""
    agent_ttl: dt.timedelta = dt.timedelta(minutes=30)
    operator_ttl: dt.timedelta = dt.timedelta(hours=8)
    metrics: Metrics = field(default_factory=Metrics)
    """The server's metrics (the engine's), so web recharges, deposits and reversals count."""

    def __post_init__(self) -> None:
        configured = self.settings.web
        self.secure_cookies = self.secure_cookies or configured.secure_cookies
        self.public_url = (self.public_url or configured.public_url
                           or listener_url(self.settings)).rstrip("/")

    def url(self, path: str) -> str:
        """An absolute URL of the portal (``path`` starts with ``/``) from ``public_url``."""
        return f"{self.public_url}{path}"

    def now(self) -> dt.datetime:
        return self.ledger.now()

    def local(self, when: dt.datetime) -> dt.datetime:
        return self.ledger.env.local(when)

    def today(self) -> dt.date:
        return self.local(self.now()).date()

    def midnight(self, day: dt.date) -> dt.datetime:
        """The start of a business day (``[ledger] timezone``) as an aware datetime."""
        return dt.datetime.combine(day, dt.time(), self.ledger.env.rules.tz)


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
