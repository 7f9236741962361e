"""Kannel interop: MO from an sms-service ``get-url`` into the engine, MT out through ``sendsms``.

Kannel authenticates with ``[kannel] token`` as a ``token`` query parameter on ``/kannel/mo`` and
``/kannel/dlr`` (401 otherwise, nothing processed); ``mo_url`` and the dlr-url we hand Kannel
carry it. Without a token the routes are not served at all.
"""

from __future__ import annotations

import codecs
import uuid
from collections.abc import Callable, Sequence
from urllib.parse import parse_qsl, quote

import aiohttp
import structlog
from aiohttp import web

from smsmenu.core import tokens
from smsmenu.core.errors import InvalidCommand, TransportError
from smsmenu.core.settings import KannelSettings
from smsmenu.core.types import Channel, Clock, Inbound, InboundHandler, Msisdn, Reply
from smsmenu.gateway.base import Gateway, SendResult
from smsmenu.gateway.http import MAX_TEXT, text_ok
from smsmenu.gateway.smpp_receive import ReceiptHandler
from smsmenu.gateway.smpp_text import fits_gsm

log = structlog.get_logger(__name__)
MO_PATH, DLR_PATH = "/kannel/mo", "/kannel/dlr"
GET_URL = "from=%p&to=%P&text=%b&coding=%c&charset=%C&id=%I&smsc=%i"
"""The query our ``get-url`` wants (Kannel escapes): the raw text with its coding, and the id."""
DLR_MASK = 1 | 2 | 16
"""Kannel delivery reports asked for: delivered, undeliverable, rejected by the SMSC."""
DLR_STATES = {1: "DELIVRD", 2: "UNDELIV", 16: "REJECTD"}
UCS2_CODING = "2"
"""Kannel 1.4 message coding: 0 7-bit, 1 8-bit, 2 UCS2."""
TEXT_CHARSETS = {"utf-8", "ascii", "iso8859-1", "iso8859-15", "cp1252", "gbk", "gb2312",
                 "gb18030", "big5"}
"""Charsets (Python codec names) a ``%C`` may name; others (``zlib_codec``...) answer 400."""
MAX_ID = 128


def mo_url(base: str, token: str) -> str:
    """The sms-service ``get-url`` for our endpoint at ``base`` (``http://host:port``)."""
    return f"{base}{MO_PATH}?token={quote(token, safe='')}&{GET_URL}"


def _raw_query(request: web.Request) -> dict[str, bytes]:
    """Query values as bytes: ``%b`` is the message body as sent, not UTF-8."""
    pairs = parse_qsl(request.rel_url.raw_query_string, keep_blank_values=True,
                      encoding="latin-1")  # fmt: skip
    return {key: value.encode("latin-1") for key, value in pairs}


def decode_text(data: bytes, coding: str, charset: str) -> str:
    """The message text from Kannel's ``%b`` with ``%c`` (coding) and ``%C`` (charset)."""
    name = charset.strip().upper().replace("UCS-2", "UTF-16BE").replace("UCS2", "UTF-16BE")
    if coding == UCS2_CODING or name.startswith("UTF-16"):
        return data.decode("utf-16-be", errors="replace")
    try:
        codec = codecs.lookup(name).name if name and name != "GSM" else "utf-8"
    except LookupError:
        codec = ""
    if codec not in TEXT_CHARSETS:
        raise InvalidCommand(why=f"charset {charset[:40]!r} is not a text charset")
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return data.decode("latin-1")


def parse_mo(query: dict[str, bytes], clock: Clock,
             clean: Callable[[str], Msisdn | None]) -> Inbound:
    """A Kannel MO request as an ``Inbound``, its sender cleaned by ``clean`` (the handler's
    ``sender``); Kannel's message id (``%I``) is its key."""
    sender = query.get("from", b"").decode("latin-1").strip()
    msisdn = clean(sender)
    if msisdn is None:
        raise InvalidCommand(why="'from' must be a phone number")
    if "text" not in query:
        raise InvalidCommand(why="'text' is missing")
    text = decode_text(query["text"], query.get("coding", b"").decode("latin-1"),
                       query.get("charset", b"").decode("latin-1"))  # fmt: skip
    if len(text) > MAX_TEXT:
        raise InvalidCommand(why=f"'text' must be at most {MAX_TEXT} characters")
    ident = query.get("id", b"").decode("latin-1").strip()
    if len(ident) > MAX_ID:
        raise InvalidCommand(why=f"'id' must be at most {MAX_ID} characters")
    key = f"kannel:{ident}" if ident and "%" not in ident else uuid.uuid4().hex
    meta = {"service": query.get("to", b"").decode("latin-1"),
            "kannel_smsc": query.get("smsc", b"").decode("latin-1")}  # fmt: skip
    return Inbound(msisdn, text, Channel.SMS, clock.now(), key, meta)


def routes(handler: InboundHandler, clock: Clock, on_receipt: ReceiptHandler | None = None, *,
           accepted: Sequence[str]) -> list[web.RouteDef]:  # fmt: skip
    """``GET /kannel/mo`` (answers empty once the step committed; replies go via the outbox)
    and ``GET /kannel/dlr`` (delivery reports for what ``KannelGateway`` sent), for a Kannel
    whose ``token`` is one of ``accepted``."""

    async def mo(request: web.Request) -> web.Response:
        tokens.require(request, accepted, MO_PATH, query=True)
        try:
            inbound = parse_mo(_raw_query(request), clock, handler.sender)
        except InvalidCommand as exc:  # Kannel logs it; nothing to retry
            return web.Response(status=400, text=exc.message("en"), content_type="text/plain")
        await handler(inbound)  # raises (500): Kannel may ask again, under the same id
        return web.Response(text="", content_type="text/plain")

    async def dlr(request: web.Request) -> web.Response:
        tokens.require(request, accepted, DLR_PATH, query=True)
        message_id, status = request.query.get("id", ""), request.query.get("status", "")
        if len(message_id) > MAX_ID or not text_ok(message_id):
            return web.Response(status=400, text=f"'id' must be at most {MAX_ID} characters",
                                content_type="text/plain")
        if status and not (status.isascii() and status.isdigit() and len(status) < 10):
            return web.Response(status=400, text="'status' must be Kannel's number (%d)",
                                content_type="text/plain")
        stat = DLR_STATES.get(int(status)) if status else None
        if message_id and stat and on_receipt is not None:
            await on_receipt(message_id, stat, f"kannel dlr {status}")
        return web.Response(text="", content_type="text/plain")

    return [web.get(MO_PATH, mo), web.get(DLR_PATH, dlr)]


class KannelGateway(Gateway):
    """Sends through Kannel's ``sendsms``: UTF-8 in, GSM 7-bit or UCS2 (``coding=2``) out.

    Kannel splits long texts itself (give the sendsms-user ``max-messages`` and
    ``concatenation``). The message id is ours, echoed in the delivery report's URL.
    """

    name = "kannel"

    def __init__(self, settings: KannelSettings, dlr_url: str = "") -> None:
        if not settings.sendsms_url:
            raise ValueError("Kannel needs [kannel] sendsms_url")
        self.settings = settings
        self.dlr_url = settings.dlr_url or dlr_url
        """Where Kannel reports deliveries (``/kannel/dlr``); empty: no reports asked."""
        self._client: aiohttp.ClientSession | None = None

    def params(self, message: Reply, message_id: str) -> dict[str, str]:
        s = self.settings
        params = {
            "username": s.username, "password": s.password, "from": s.sender, "to": message.to,
            "text": message.text, "charset": "UTF-8",
            "coding": "0" if fits_gsm(message.text) else UCS2_CODING,
        }  # fmt: skip
        if s.smsc_id:
            params["smsc"] = s.smsc_id
        if self.dlr_url:
            params["dlr-mask"] = str(DLR_MASK)
            token = f"&token={quote(s.token[0], safe='')}" if s.token else ""
            params["dlr-url"] = f"{self.dlr_url}?id={message_id}&status=%d{token}"
        return params

    async def send(self, message: Reply) -> SendResult:
        if self._client is None:
            timeout = aiohttp.ClientTimeout(total=self.settings.timeout_s)
            # one connection per request: a kept-alive one Kannel dropped would be retried by
            # the client after Kannel took the message (sent twice), or hang
            connector = aiohttp.TCPConnector(force_close=True)
            self._client = aiohttp.ClientSession(timeout=timeout, connector=connector)
        message_id = uuid.uuid4().hex
        try:
            async with self._client.get(self.settings.sendsms_url,
                                        params=self.params(message, message_id)) as resp:
                body = (await resp.text(errors="replace")).strip()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransportError(why=f"kannel sendsms: {exc!r}") from exc
        if resp.status not in (200, 202):
            log.warning("kannel.refused", status=resp.status, body=body[:200])
            raise TransportError(why=f"kannel sendsms answered {resp.status}: {body[:100]}")
        return SendResult(message_id=message_id)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
