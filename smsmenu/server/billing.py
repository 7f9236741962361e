"""HttpBilling: the ``Billing`` client for a BOSS served over HTTP/JSON (the wire format below).

Wire format (UTF-8 JSON; amounts are integer fen in fields ending ``_fen``; kinds are
``landline|mobile|phs|broadband``; a reference in a path is percent-encoded):

- ``POST /credit`` ``{"kind", "number", "amount_fen", "reference"}`` -> 200 result
- ``POST /reverse`` ``{"original_reference", "reference"}`` -> 200 result
- ``GET /status/{reference}`` -> 200 result, or 404 ``{"error"}`` when BOSS never saw it
- ``GET /balance/{kind}/{number}`` -> 200 ``{"kind", "number", "balance_fen"}``
- ``POST /cancel`` ``{"reference"}`` -> 200 result: ``ok=true`` if BOSS had applied it (nothing is
  cancelled), else ``ok=false`` (its failure, or reason ``cancelled``) and BOSS refuses every later
  credit under it for good; idempotent
- ``GET /credits?date=YYYY-MM-DD`` -> 200 ``{"date", "credits": [{"reference", "kind", "number",
  "amount_fen", "ok", "reason", "at"}]}``: every credit BOSS received that business day (Asia/
  Shanghai), applied, refused and cancelled; ``at`` is ISO 8601 with offset; 400 on a bad date

A result is ``{"ok": bool, "reference": str, "account_type": "prepaid"|"postpaid",
"bill_month": "YYYY-MM"|null, "reason": str}``; ``ok=false`` is a final failure. Errors carry
``{"error": str}``: 400 a malformed request (not applied), 503 BOSS down (not applied), 504 BOSS
timed out (maybe applied).

Exceptions: ``BillingUnavailable`` means the call certainly did not take effect (nothing
listening, connection refused, 503 or 4xx). ``BillingTimeout`` means it may have: the per-call
``timeout`` ran out, 504, or, for the writes (credit, reverse, cancel), the connection broke
mid-call, a 5xx or an unreadable answer; resolve it with ``status(reference)`` (or by repeating
the cancel). Reads (status, balance, credits) map every failure other than a timeout to
``BillingUnavailable``. Answers are parsed strictly (``smsmenu.core.billing_wire``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from functools import partial
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

from smsmenu.core.billing_wire import (
    balance_from_json,
    credits_from_json,
    result_from_json,
    result_to_json,
)
from smsmenu.core.errors import BillingTimeout, BillingUnavailable
from smsmenu.core.settings import ConfigError
from smsmenu.core.types import BossCredit, CreditResult, Fen, Msisdn, TargetKind
from smsmenu.server.http1 import Broken, ConnectFailed, Origin

__all__ = ["HttpBilling", "result_from_json", "result_to_json"]

T = TypeVar("T")


class HttpBilling:
    """``Billing`` over HTTP; ``base_url`` like ``http://127.0.0.1:8081``, ``timeout`` per call
    (connecting included). Requests go over kept-alive connections (``server.http1``)."""

    def __init__(self, base_url: str, *, timeout: float = 5.0, ca_file: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        try:
            self._origin = Origin(self.base_url, ca_file=ca_file)
        except ValueError as exc:  # a URL that is no http(s) one, an unreadable CA file
            raise ConfigError(f"[billing]: {exc}") from None

    async def credit(
        self, kind: TargetKind, number: Msisdn, amount_fen: Fen, reference: str
    ) -> CreditResult:
        body = {"kind": TargetKind(kind).value, "number": number, "amount_fen": amount_fen,
                "reference": reference}
        return _found(await self._call("POST", "/credit", body, result_from_json, write=True))

    async def reverse(self, original_reference: str, reference: str) -> CreditResult:
        body = {"original_reference": original_reference, "reference": reference}
        return _found(await self._call("POST", "/reverse", body, result_from_json, write=True))

    async def status(self, reference: str) -> CreditResult | None:
        path = f"/status/{_seg(reference)}"
        return await self._call("GET", path, None, result_from_json, write=False)

    async def balance(self, kind: TargetKind, number: Msisdn) -> Fen:
        path = f"/balance/{_seg(TargetKind(kind).value)}/{_seg(number)}"
        return _found(await self._call("GET", path, None, balance_from_json, write=False))

    async def cancel(self, reference: str) -> CreditResult:
        body = {"reference": reference}
        return _found(await self._call("POST", "/cancel", body, result_from_json, write=True))

    async def credits(self, day: dt.date) -> list[BossCredit]:
        path = f"/credits?date={day.isoformat()}"
        parse = partial(credits_from_json, day=day)
        return _found(await self._call("GET", path, None, parse, write=False))

    async def aclose(self) -> None:
        """Close the kept-alive connections (a later call opens new ones)."""
        await self._origin.aclose()

    async def __aenter__(self) -> HttpBilling:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _call(
        self, method: str, path: str, body: object, parse: Callable[[Any], T], *, write: bool
    ) -> T | None:
        """The parsed JSON answer, or None for a 404 to a read; raises as the module says."""
        unknown = BillingTimeout if write else BillingUnavailable
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        try:
            async with asyncio.timeout(self.timeout):
                answer = await self._origin.request(method, path, data)
        except TimeoutError:
            raise BillingTimeout() from None
        except ConnectFailed:
            raise BillingUnavailable() from None
        except Broken:
            raise unknown() from None
        status = answer.status
        if status == 404 and not write:
            return None
        if status == 503 or 400 <= status < 500:
            raise BillingUnavailable()
        if status == 504:
            raise BillingTimeout()
        if status != 200:
            raise unknown()
        try:
            return parse(json.loads(answer.body))
        except ValueError:
            raise unknown() from None


def _found(value: T | None) -> T:
    if value is None:  # a 404 where the API has none: not a BOSS we can use
        raise BillingUnavailable()
    return value


def _seg(text: str) -> str:
    return quote(text, safe="")
