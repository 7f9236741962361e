"""HttpBilling: the ``Billing`` client for a BOSS served over HTTP/JSON (the wire format below).

Wire format (UTF-8 JSON; amounts are integer fen in fields ending ``_fen``; kinds are
``landline|mobile|phs|broadband``; a reference in a path is percent-encoded):

- ``POST /credit`` ``{"kind", "number", "amount_fen", "reference"}`` -> 200 result
- ``POST /reverse`` ``{"original_reference", "reference"}`` -> 200 result
- ``GET /status/{reference}`` -> 200 result, or 404 ``{"error"}`` when BOSS never saw it
- ``GET /balance/{kind}/{number}`` -> 200 ``{"kind", "number", "balance_fen"}``

A result is ``{"ok": bool, "reference": str, "account_type": "prepaid"|"postpaid",
"bill_month": "YYYY-MM"|null, "reason": str}``; ``ok=false`` is a final failure. Errors carry
``{"error": str}``: 400 a malformed request (not applied), 503 BOSS down (not applied), 504 BOSS
timed out (maybe applied).

Exceptions: ``BillingUnavailable`` means the call certainly did not take effect (nothing
listening, connection refused, 503 or 4xx). ``BillingTimeout`` means it may have: the per-call
``timeout`` ran out, 504, or, for credit and reverse, the connection broke mid-call, a 5xx or an
unreadable answer; resolve it with ``status(reference)``. Reads (status, balance) map every
failure other than a timeout to ``BillingUnavailable``.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
from yarl import URL

from smsmenu.errors import BillingTimeout, BillingUnavailable
from smsmenu.types import CreditResult, Fen, Msisdn, TargetKind

__all__ = ["HttpBilling", "result_from_json", "result_to_json"]

T = TypeVar("T")


def result_to_json(result: CreditResult) -> dict[str, object]:
    """A result in the wire format."""
    return {"ok": result.ok, "reference": result.reference, "account_type": result.account_type,
            "bill_month": result.bill_month, "reason": result.reason}


def result_from_json(data: Any) -> CreditResult:
    """A result from the wire format; ValueError when it is not one."""
    try:
        ok, reference = data["ok"], data["reference"]
        account_type, month = data.get("account_type", "prepaid"), data.get("bill_month")
        reason = data.get("reason", "")
    except (TypeError, KeyError, AttributeError) as exc:
        raise ValueError(f"not a billing result: {data!r}") from exc
    texts_ok = isinstance(reference, str) and isinstance(reason, str)
    month_ok = month is None or isinstance(month, str)
    if not (isinstance(ok, bool) and texts_ok and month_ok
            and account_type in ("prepaid", "postpaid")):
        raise ValueError(f"not a billing result: {data!r}")
    return CreditResult(ok, reference, account_type, month, reason)


class HttpBilling:
    """``Billing`` over HTTP; ``base_url`` like ``http://127.0.0.1:8081``, ``timeout`` per call."""

    def __init__(self, base_url: str, *, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

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
        return _found(await self._call("GET", path, None, _balance_from_json, write=False))

    async def aclose(self) -> None:
        """Close the shared session (a later call opens a new one)."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

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
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        unknown = BillingTimeout if write else BillingUnavailable
        url = URL(self.base_url + path, encoded=True)
        try:
            async with self._session.request(
                method, url, json=body, timeout=aiohttp.ClientTimeout(total=self.timeout)
            ) as response:
                status = response.status
                if status == 404 and not write:
                    return None
                if status == 503 or 400 <= status < 500:
                    raise BillingUnavailable()
                if status == 504:
                    raise BillingTimeout()
                if status != 200:
                    raise unknown()
                return parse(await response.json(content_type=None))
        except TimeoutError:
            raise BillingTimeout() from None
        except aiohttp.ClientConnectorError:
            raise BillingUnavailable() from None
        except (aiohttp.ClientError, ValueError):
            raise unknown() from None


def _found(value: T | None) -> T:
    if value is None:  # a 404 where the API has none: not a BOSS we can use
        raise BillingUnavailable()
    return value


def _balance_from_json(data: Any) -> Fen:
    value = data.get("balance_fen") if isinstance(data, dict) else None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"not a balance: {data!r}")
    return value


def _seg(text: str) -> str:
    return quote(text, safe="")
