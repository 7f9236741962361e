"""USSD in the aggregator callback convention: ``POST /ussd``, answers ``CON ...`` or ``END ...``.

The aggregator authenticates with ``[ussd] token``: ``Authorization: Bearer TOKEN`` or a
``token`` query parameter (401 otherwise, nothing processed). The callback's fields are Africa's
Talking's: ``sessionId`` and ``phoneNumber`` (required), ``serviceCode`` (read, unused) and
``text``, every input of the session so far joined by ``*`` (empty or absent on the first
callback); others are ignored. They come as a form (``application/x-www-form-urlencoded``) or
as a JSON object of strings (``application/json``); another body type is a 415, a missing
field a 400 naming it. Each new input is fed to the inbound handler as one key press, at most
``[ussd] max_inputs`` per callback (more: 400); a session's first callback starts at the main
menu. The password is always the last input of a dialog, so no later callback repeats it.
"""

from __future__ import annotations

import codecs
import json
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import structlog
from aiohttp import web

from smsmenu.core import tokens
from smsmenu.core.errors import InvalidCommand
from smsmenu.core.settings import UssdSettings
from smsmenu.core.types import Channel, Clock, Inbound, InboundHandler
from smsmenu.gateway.http import media_type_error, text_ok

MAX_SCREEN = 182
SESSION_TTL_S = 600
MAX_SESSION_ID = 128
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
FIELDS = ("sessionId", "serviceCode", "phoneNumber", "text")
REQUIRED = ("sessionId", "phoneNumber")
TEXT_CHARSETS = {"utf-8", "ascii", "latin-1", "iso8859-1", "gbk", "gb2312", "gb18030"}
log = structlog.get_logger("ussd")


@dataclass(frozen=True, slots=True)
class Callback:
    """One aggregator callback, whichever body type carried it."""

    session_id: str
    phone_number: str
    text: str = ""
    service_code: str = ""


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


async def read_callback(request: web.Request) -> Callback:
    """The callback's fields from a form or JSON body; 415 for another body type, 400 (naming
    what is wrong) for an unreadable body or a missing field."""
    if not request.body_exists:
        fields: dict[str, str] = {}
    elif request.content_type == FORM:
        fields = await read_form(request)
    elif request.content_type == JSON:
        fields = parse_json(await request.read())
    else:
        raise media_type_error(f"send Content-Type: {FORM} or {JSON}")
    missing = [name for name in REQUIRED if not fields.get(name)]
    if missing:
        looks_json = request.content_type == FORM and any(
            k.lstrip().startswith("{") for k in fields)
        hint = f"; the body is JSON: send Content-Type: {JSON}" if looks_json else ""
        raise InvalidCommand(why=f"the callback lacks {' and '.join(missing)} (fields: "
                                 f"{', '.join(FIELDS)}){hint}")
    return Callback(fields["sessionId"], fields["phoneNumber"], fields.get("text", ""),
                    fields.get("serviceCode", ""))


async def read_form(request: web.Request) -> dict[str, str]:
    """A form body's fields; 400 for a charset that is no text or an unreadable form."""
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


def parse_json(body: bytes) -> dict[str, str]:
    """A JSON body's fields: an object whose callback fields are strings (null: absent)."""
    try:
        data: Any = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise InvalidCommand(why=f"the body must be a JSON object with {', '.join(FIELDS)}")
    fields: dict[str, str] = {}
    for name in FIELDS:
        value = data.get(name)
        if value is not None and (not isinstance(value, str) or not text_ok(value)):
            raise InvalidCommand(why=f"'{name}' must be a string")
        if value is not None:
            fields[name] = value
    return fields


def routes(handler: InboundHandler, clock: Clock, settings: UssdSettings) -> list[web.RouteDef]:
    """``POST /ussd`` for an aggregator holding one of ``settings.token``."""
    sessions = UssdSessions()

    async def ussd(request: web.Request) -> web.Response:
        tokens.require(request, settings.token, "/ussd", query=True)
        call = await read_callback(request)
        session_id, text = call.session_id, call.text
        if len(session_id) > MAX_SESSION_ID:
            raise InvalidCommand(why=f"sessionId must be at most {MAX_SESSION_ID} characters")
        msisdn = handler.sender(call.phone_number)
        if msisdn is None:
            raise InvalidCommand(why="phoneNumber must be a phone number of digits")
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
            if answer.replayed:  # a repeated callback: the screen again, nothing applied
                log.info("ussd.replayed", session=session_id[:40], input=n)
        screen = reply[:MAX_SCREEN]
        return web.Response(text=("END " if final else "CON ") + screen,
                            content_type="text/plain", charset="utf-8")

    return [web.post("/ussd", ussd)]
