"""HTTP/JSON transport: ``POST /api/sms`` carries one message in and answers with its replies.

Request ``{"from": "18912345678", "text": "1", "id": "client-unique-id"}``; answer
``{"replies": [{"to": ..., "text": ...}, ...]}``, the agent's reply first, then notices to
other numbers. A request repeated with the same ``from`` and ``id`` gets the same answer and
changes nothing. The replies are marked sent in the outbox: the answer delivered them.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from aiohttp import web

from smsmenu.errors import InvalidCommand
from smsmenu.states.engine import Engine
from smsmenu.types import Channel, Clock, Inbound

MSISDN = re.compile(r"\+?[0-9]{5,20}")
MAX_TEXT = 1000


def _bad(why: str) -> InvalidCommand:
    return InvalidCommand(why=why)


def parse_sms(body: bytes, clock: Clock) -> Inbound:
    """Validate a request body into an ``Inbound``; an ``InvalidCommand`` (400) says what is wrong."""
    try:
        data: Any = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise _bad("body must be a JSON object") from None
    if not isinstance(data, dict):
        raise _bad("body must be a JSON object with from, text and id")
    sender, text, key = data.get("from"), data.get("text"), data.get("id", None)
    if not isinstance(sender, str) or not MSISDN.fullmatch(sender):
        raise _bad("'from' must be a phone number of digits")
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise _bad(f"'text' must be a string of at most {MAX_TEXT} characters")
    if key is not None and (not isinstance(key, str | int) or len(str(key)) > 128):
        raise _bad("'id' must be a string or number of at most 128 characters")
    msisdn = sender.removeprefix("+").removeprefix("86") if len(sender) > 11 else sender
    ident = str(key) if key is not None else uuid.uuid4().hex
    return Inbound(msisdn, text, Channel.HTTP, clock.now(), f"http:{msisdn}:{ident}")


def routes(engine: Engine, clock: Clock) -> list[web.RouteDef]:
    async def sms(request: web.Request) -> web.Response:
        msg = parse_sms(await request.read(), clock)
        out = await engine.handle(msg)
        return web.json_response({"replies": [{"to": r.to, "text": r.text} for r in out.replies]},
                                 dumps=lambda o: json.dumps(o, ensure_ascii=False))

    return [web.post("/api/sms", sms)]
