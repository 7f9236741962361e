"""USSD in the aggregator callback convention: ``POST /ussd``, answers ``CON ...`` or ``END ...``.

Form fields ``sessionId``, ``serviceCode``, ``phoneNumber`` and ``text``, where ``text`` holds
every input of the session so far joined by ``*`` (empty on the first callback). Each new input
is fed to the engine as one key press; a session's first callback starts at the main menu. The
password is always the last input of a dialog, so no later callback repeats it.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from aiohttp import web

from smsmenu.errors import InvalidCommand
from smsmenu.gateway.http import MSISDN
from smsmenu.states.engine import Engine
from smsmenu.types import Channel, Clock, Inbound

MAX_SCREEN = 182
SESSION_TTL_S = 600


class UssdSessions:
    """How many inputs of each USSD session were already fed (bounded, expiring)."""

    def __init__(self, limit: int = 100_000) -> None:
        self._seen: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self.limit = limit

    def take_new(self, session_id: str, inputs: list[str]) -> list[str]:
        now = time.monotonic()
        seen, at = self._seen.pop(session_id, (None, now))
        if seen is None or now - at > SESSION_TTL_S:
            seen = max(len(inputs) - 1, 0)  # unknown (restart): the last input is the new one
        self._seen[session_id] = (len(inputs), now)
        while len(self._seen) > self.limit:
            self._seen.popitem(last=False)
        # nothing new (the aggregator repeated a callback): the last input again, under the same
        # key, so that the engine answers the same screen without applying it twice
        return inputs[min(seen, len(inputs) - 1):]


def routes(engine: Engine, clock: Clock) -> list[web.RouteDef]:
    sessions = UssdSessions()

    async def ussd(request: web.Request) -> web.Response:
        form = await request.post()
        session_id, phone = str(form.get("sessionId", "")), str(form.get("phoneNumber", ""))
        text = str(form.get("text", ""))
        if not session_id or not MSISDN.fullmatch(phone):
            raise InvalidCommand(why="sessionId and phoneNumber (digits) are required")
        msisdn = phone.removeprefix("+").removeprefix("86") if len(phone) > 11 else phone
        inputs = text.split("*") if text else []
        fresh = sessions.take_new(session_id, inputs) if inputs else ["00"]
        reply, final = "", False
        for n, key_press in enumerate(fresh, len(inputs) - len(fresh)):
            out = await engine.handle(Inbound(msisdn, key_press, Channel.USSD, clock.now(),
                                              f"ussd:{session_id}:{n}"))
            mine = [r.text for r in out.replies if r.to == msisdn]
            reply, final = (mine[0] if mine else reply), out.final
        screen = reply[:MAX_SCREEN]
        return web.Response(text=("END " if final else "CON ") + screen,
                            content_type="text/plain", charset="utf-8")

    return [web.post("/ussd", ussd)]
