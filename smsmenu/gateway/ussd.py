"""USSD in the aggregator callback convention: ``POST /ussd``, answers ``CON ...`` or ``END ...``.

The aggregator authenticates with ``[ussd] token``: ``Authorization: Bearer TOKEN`` or a
``token`` query parameter (401 otherwise, nothing processed). Form fields
(``application/x-www-form-urlencoded``) ``sessionId``, ``serviceCode``, ``phoneNumber`` and
``text``, where ``text`` holds every input of the session so far joined by ``*`` (empty on the
first callback). Each new input is fed to the inbound handler as one key press, at most ``[ussd]
max_inputs`` per callback (more: 400); a session's first callback starts at the main menu. The
password is always the last input of a dialog, so no later callback repeats it.
"""

from __future__ import annotations

import codecs
import time
from collections import OrderedDict

from aiohttp import web

from smsmenu.core import tokens
from smsmenu.core.errors import InvalidCommand
from smsmenu.core.settings import UssdSettings
from smsmenu.core.types import Channel, Clock, Inbound, InboundHandler
from smsmenu.gateway.http import text_ok

MAX_SCREEN = 182
SESSION_TTL_S = 600
MAX_SESSION_ID = 128
FORM = "application/x-www-form-urlencoded"
TEXT_CHARSETS = {"utf-8", "ascii", "latin-1", "iso8859-1", "gbk", "gb2312", "gb18030"}


class UssdSessions:
    """How many inputs of each USSD session were already fed (bounded, expiring)."""

    def __init__(self, limit: int = 100_000) -> None:
        self._seen: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self.limit = limit

    def fresh(self, session_id: str, inputs: list[str]) -> list[str]:
        """The inputs not fed yet (nothing is recorded: ``fed`` does that)."""
        now = time.monotonic()
        seen, at = self._seen.get(session_id, (None, now))
        if seen is None or now - at > SESSION_TTL_S:
            seen = max(len(inputs) - 1, 0)  # unknown (restart): the last input is the new one
        # nothing new (the aggregator repeated a callback): the last input again, under the same
        # key, so that the engine answers the same screen without applying it twice
        return inputs[min(seen, len(inputs) - 1):]

    def fed(self, session_id: str, count: int) -> None:
        """The session's first ``count`` inputs were fed."""
        self._seen.pop(session_id, None)
        self._seen[session_id] = (count, time.monotonic())
        while len(self._seen) > self.limit:
            self._seen.popitem(last=False)


async def read_form(request: web.Request) -> dict[str, str]:
    """The callback's form fields; 415 for another body type, 400 for an unreadable one."""
    if request.body_exists and request.content_type != FORM:
        raise web.HTTPUnsupportedMediaType(text=f"send Content-Type: {FORM}")
    charset = (request.charset or "utf-8").lower()
    try:
        known = codecs.lookup(charset).name
    except LookupError:
        known = ""
    if known not in TEXT_CHARSETS:
        raise InvalidCommand(why=f"charset {charset[:40]!r} is not a text charset")
    try:
        form = await request.post()
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidCommand(why=f"unreadable form: {str(exc)[:80]}") from None
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if not all(text_ok(v) for v in fields.values()):
        raise InvalidCommand(why="form fields must be text")
    return fields


def routes(handler: InboundHandler, clock: Clock, settings: UssdSettings) -> list[web.RouteDef]:
    """``POST /ussd`` for an aggregator holding one of ``settings.token``."""
    sessions = UssdSessions()

    async def ussd(request: web.Request) -> web.Response:
        tokens.require(request, settings.token, "/ussd", query=True)
        form = await read_form(request)
        session_id, phone = form.get("sessionId", ""), form.get("phoneNumber", "")
        text = form.get("text", "")
        msisdn = handler.sender(phone)
        if not session_id or len(session_id) > MAX_SESSION_ID or msisdn is None:
            raise InvalidCommand(why=f"sessionId (at most {MAX_SESSION_ID} characters) and "
                                     f"phoneNumber (digits) are required")
        inputs = text.split("*") if text else []
        fresh = sessions.fresh(session_id, inputs) if inputs else ["00"]
        if len(fresh) > settings.max_inputs:
            raise InvalidCommand(why=f"at most {settings.max_inputs} new inputs per callback "
                                     f"(this one has {len(fresh)})")
        sessions.fed(session_id, len(inputs))
        reply, final = "", False
        for n, key_press in enumerate(fresh, len(inputs) - len(fresh)):
            answer = await handler(Inbound(msisdn, key_press, Channel.USSD, clock.now(),
                                           f"ussd:{session_id}:{n}"))
            mine = Channel.USSD.delivery.own(answer.replies, msisdn)  # the screen; notices: SMS
            reply, final = (mine[0].text if mine else reply), answer.final
        screen = reply[:MAX_SCREEN]
        return web.Response(text=("END " if final else "CON ") + screen,
                            content_type="text/plain", charset="utf-8")

    return [web.post("/ussd", ussd)]
