"""A simulated bank: a payment page for online top-ups (R-9) that calls the merchant back with an
HMAC-signed notice, and can repeat that notice (a real bank does, until it hears "success").

Every answer carries the security headers; a form it cannot read is a 400, an unexpected error a
plain 500 (logged), never a traceback."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from html import escape
from urllib.parse import urlencode

import aiohttp
import structlog
from aiohttp import web

from smsmenu.core.bank_wire import sign, verify

FIELDS = ("merchant", "order", "amount_fen", "notify_url", "return_url")
"""A payment request: what the merchant signs and the bank checks before showing its page."""
HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; style-src 'self'; frame-ancestors 'none'; "
                                "base-uri 'none'"),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}
"""On every answer. No form-action: the payment form's answer redirects to the merchant."""
AMOUNT = re.compile(r"[0-9]{1,12}")
log = structlog.get_logger("bank")
CSS = ("body{font:16px/1.5 system-ui,sans-serif;background:#eef3f7;margin:0;padding:2rem 1rem}"
       "main{max-width:26rem;margin:auto;background:#fff;border-radius:12px;padding:1.5rem;"
       "box-shadow:0 2px 10px #0002}h1{font-size:1.3rem;color:#0b5394}.amount{font-size:2rem;"
       "font-weight:700}button{font-size:1rem;padding:.6rem 1.2rem;margin-right:.5rem;"
       "border-radius:8px;border:0;background:#0b5394;color:#fff}button.cancel{background:#888}")


@dataclass
class Payment:
    order: str
    notice: dict[str, str]
    notify_url: str
    answers: list[str] = field(default_factory=list)


@dataclass
class Bank:
    """The bank's state: its key shared with the merchant, and every payment made."""

    key: bytes
    payments: dict[str, Payment] = field(default_factory=dict)
    timeout: float = 5.0

    async def notify(self, payment: Payment) -> str:
        """Send (or repeat) the signed notice; the merchant's answer ("success" when taken)."""
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(self.timeout)) as s:
                async with s.post(payment.notify_url, data=payment.notice) as response:
                    answer = f"{response.status} {(await response.text())[:200]}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            answer = f"error {type(exc).__name__}"
        payment.answers.append(answer)
        return answer

    def pay(self, request: Mapping[str, str]) -> Payment:
        """Take the money once per order; paying the same order again repeats the notice."""
        if (done := self.payments.get(request["order"])) is not None:
            return done
        notice = {"merchant": request["merchant"], "order": request["order"],
                  "amount_fen": request["amount_fen"], "status": "paid",
                  "txn": f"B{secrets.token_hex(6).upper()}"}
        notice["sign"] = sign(self.key, notice)
        payment = Payment(request["order"], notice, request["notify_url"])
        self.payments[payment.order] = payment
        return payment


BANK = web.AppKey("bank", Bank)


def _page(title: str, body: str, status: int = 200) -> web.Response:
    html = (f'<!doctype html><html lang="zh"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width,initial-scale=1"><title>{escape(title)}</title>'
            f'<link rel="stylesheet" href="bank.css"></head><body><main>{body}</main></body></html>')
    return web.Response(text=html, content_type="text/html", status=status)


def _refused(status: int, zh: str, en: str) -> web.Response:
    return _page("Error", f"<h1>{escape(zh)} · {escape(en)}</h1>", status)


def _request(fields: Mapping[str, str], key: bytes) -> dict[str, str] | None:
    data = {k: str(fields.get(k, "")) for k in (*FIELDS, "sign")}
    return data if verify(key, data) and AMOUNT.fullmatch(data["amount_fen"]) else None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Headers on every answer, errors included; a bug is logged and answered with a plain 500."""
    response: web.StreamResponse
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc if exc.status < 400 else _refused(exc.status, str(exc.status), exc.reason)
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
    except Exception:  # the last line: logged, answered without a traceback
        log.exception("bank.unexpected", method=request.method, path=request.path)
        response = _refused(500, "系统错误", "Internal error")
    response.headers.update(HEADERS)
    if request.path.endswith("/bank.css") and response.status == 200:
        response.headers["Cache-Control"] = "public, max-age=3600"
    if isinstance(response, web.HTTPException):
        raise response
    return response


async def pay_page(request: web.Request) -> web.Response:
    data = _request(request.query, request.app[BANK].key)
    if data is None:
        return _refused(403, "签名无效", "Bad signature")
    hidden = "".join(f'<input type="hidden" name="{k}" value="{escape(v)}">'
                     for k, v in data.items())
    yuan = f"{int(data['amount_fen']) // 100}.{int(data['amount_fen']) % 100:02d}"
    return _page("模拟网上银行", (
        f"<h1>模拟网上银行 · Simulated bank</h1><p>商户 Merchant: {escape(data['merchant'])}<br>"
        f"订单 Order: {escape(data['order'])}</p><p class=\"amount\">¥ {yuan}</p>"
        f'<form method="post" action="{escape(request.path)}">{hidden}'
        '<button name="decision" value="pay">确认支付 Pay</button>'
        '<button class="cancel" name="decision" value="cancel">取消 Cancel</button></form>'))


async def pay(request: web.Request) -> web.StreamResponse:
    bank = request.app[BANK]
    try:
        form = await request.post()
    except web.HTTPException:
        raise
    except Exception:  # a bad multipart boundary, an unknown charset...
        return _refused(400, "无法读取表单", "Unreadable form: send UTF-8 "
                                               "application/x-www-form-urlencoded")
    data = _request({k: v for k, v in form.items() if isinstance(v, str)}, bank.key)
    if data is None:
        return _refused(403, "签名无效", "Bad signature")
    back = data["return_url"]
    if form.get("decision") != "pay":
        raise web.HTTPSeeOther(f"{back}?{urlencode({'cancelled': '1'})}")
    payment = bank.pay(data)
    answer = await bank.notify(payment)
    if not answer.endswith("success"):
        return _page("Notice", f"<h1>已付款，商户未确认 · Paid, merchant said:</h1>"
                               f"<p>{escape(answer)}</p>", 502)
    raise web.HTTPSeeOther(back)


async def notify_again(request: web.Request) -> web.Response:
    """Repeat the notice of a paid order (what a bank does when it hears no "success")."""
    bank = request.app[BANK]
    payment = bank.payments.get(request.match_info["order"])
    if payment is None:
        return web.json_response({"error": "no such payment"}, status=404)
    return web.json_response({"answer": await bank.notify(payment)})


async def stylesheet(request: web.Request) -> web.Response:
    return web.Response(text=CSS, content_type="text/css")


def bank_app(key: bytes) -> web.Application:
    """The bank as an aiohttp app: mount it (``/bank/``) or serve it on its own port."""
    app = web.Application(client_max_size=16 * 1024, middlewares=[guard])
    app[BANK] = Bank(key)
    app.add_routes([web.get("/pay", pay_page), web.post("/pay", pay),
                    web.post("/notify-again/{order}", notify_again),
                    web.get("/bank.css", stylesheet)])
    return app
