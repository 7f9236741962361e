"""What the simulated BOSS's HTTP handlers share: the app key, request reading, error answers."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from simulator.billing import BillingSimulator
from smsmenu.core.errors import BillingTimeout, BillingUnavailable

SIM = web.AppKey("billing_sim", BillingSimulator)


class BadRequest(Exception):
    """A request the simulator cannot read; answered 400."""


def error(status: int, why: str) -> web.Response:
    """An error answer ``{"error": why}``."""
    return web.json_response({"error": why}, status=status)


@web.middleware
async def faults(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Map the simulator's exceptions to answers: 503 down, 504 timed out, 400 malformed."""
    try:
        return await handler(request)
    except BillingUnavailable:
        return error(503, "billing unavailable")
    except BillingTimeout:
        return error(504, "billing timed out")
    except (BadRequest, ValueError) as exc:
        return error(400, str(exc))


async def body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body, else BadRequest."""
    try:
        data = await request.json()
    except ValueError:
        raise BadRequest("the body is not JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("the body is not a JSON object")
    return data


def get(
    data: dict[str, Any], name: str, kind: type[Any] | tuple[type[Any], ...], default: Any = ...
) -> Any:
    """``data[name]`` (or ``default``) if it has type ``kind`` (a bool is no int), else BadRequest."""
    value = data.get(name, default)
    if value is ...:
        raise BadRequest(f"{name} is missing")
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise BadRequest(f"{name} has the wrong type")
    return value
