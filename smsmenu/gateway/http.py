"""HTTP/JSON transport: ``POST /api/sms`` carries one message in and answers with its replies.

The caller authenticates with ``Authorization: Bearer TOKEN`` (``[api] token``; 401 otherwise,
before anything is read) and sends ``Content-Type: application/json`` (415 otherwise: no
cross-site form posts). Request ``{"from": "18912345678", "text": "1", "id": "client-unique-id"}``;
answer ``{"replies": [{"to": ..., "text": ...}, ...], "replayed": false}``, the agent's reply
first, then notices to other numbers. A request repeated with the same ``from`` and ``id`` gets
the same replies with ``"replayed": true`` and changes nothing (a new message needs a new
``id``; without one every request is new). The replies are marked sent in the outbox: the
answer delivered them.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

from smsmenu.core import tokens
from smsmenu.core.errors import InvalidCommand
from smsmenu.core.types import Channel, Clock, Inbound, InboundHandler, Msisdn

"""ASCII digits only: ``re``'s ``[0-9]`` never matches ``²`` or ``１``."""
MAX_TEXT = 1000
SURROGATE = re.compile(r"[\ud800-\udfff]")


def _bad(why: str) -> InvalidCommand:
    return InvalidCommand(why=why)


def text_ok(value: str) -> bool:
    """Whether a string can be stored: no lone surrogate (``"\\ud800"`` in JSON)."""
    return SURROGATE.search(value) is None


def media_type_error(message: str) -> web.HTTPUnsupportedMediaType:
    """415 with a JSON error (``E_MEDIA_TYPE``) whose message names the accepted types."""
    return web.HTTPUnsupportedMediaType(
        text=json.dumps({"error": {"code": "E_MEDIA_TYPE", "rule": "", "message": message}}),
        content_type="application/json")


def parse_sms(body: bytes, clock: Clock, clean: Callable[[str], Msisdn | None]) -> Inbound:
    """Validate a request body into an ``Inbound``, its ``from`` cleaned by ``clean`` (the
    handler's ``sender``); an ``InvalidCommand`` (400) says what is wrong."""
    try:
        data: Any = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise _bad("body must be a JSON object") from None
    except RecursionError:
        raise _bad("body must be a flat JSON object (it is nested too deeply)") from None
    if not isinstance(data, dict):
        raise _bad("body must be a JSON object with from, text and id")
    sender, text, key = data.get("from"), data.get("text"), data.get("id", None)
    msisdn = clean(sender) if isinstance(sender, str) else None
    if msisdn is None:
        raise _bad("'from' must be a phone number of digits")
    if not isinstance(text, str) or len(text) > MAX_TEXT or not text_ok(text):
        raise _bad(f"'text' must be a string of at most {MAX_TEXT} characters")
    if key is not None and (isinstance(key, bool) or not isinstance(key, str | int)
                            or len(str(key)) > 128 or not text_ok(str(key))):
        raise _bad("'id' must be a string or number of at most 128 characters")
    ident = str(key) if key is not None else uuid.uuid4().hex
    return Inbound(msisdn, text, Channel.HTTP, clock.now(), f"http:{msisdn}:{ident}")


def routes(handler: InboundHandler, clock: Clock, accepted: Sequence[str]) -> list[web.RouteDef]:
    """``POST /api/sms`` for callers holding one of the ``accepted`` tokens."""

    async def sms(request: web.Request) -> web.Response:
        tokens.require(request, accepted, "/api/sms")
        if request.content_type != "application/json":
            raise media_type_error("send Content-Type: application/json")
        msg = parse_sms(await request.read(), clock, handler.sender)
        answer = await handler(msg)
        own = msg.channel.delivery.own(answer.replies, msg.msisdn)
        body = {"replies": [{"to": r.to, "text": r.text} for r in own],
                "replayed": answer.replayed}
        return web.json_response(body, dumps=lambda o: json.dumps(o, ensure_ascii=False))

    return [web.post("/api/sms", sms)]
