"""One-time SMS codes (login, binding a new number): hashed, expiring, single use, rate limited."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from ledger import outbox
from ledger.store import Conn, web_codes
from smsmenu.core.clock import iso
from smsmenu.web import limits
from smsmenu.web.errors import CodeRefused
from smsmenu.web.i18n import translator

TTL = dt.timedelta(minutes=5)
MAX_TRIES = 5
"""Wrong guesses allowed per code; then it is spent."""


def _hash(key: bytes, purpose: str, msisdn: str, code: str) -> bytes:
    return hmac.new(key, f"{purpose}|{msisdn}|{code}".encode(), hashlib.sha256).digest()


def throttle(conn: Conn, now: dt.datetime, *, msisdn: str, ip: str) -> None:
    """Count one code request per number and per address, or refuse it (RateLimited).

    Any number counts, an agent's or not: the answer never tells which numbers are agents.
    """
    for bucket, rule in ((f"code:{msisdn}", limits.CODE_RESEND),
                         (f"code:{msisdn}", limits.CODE_HOURLY),
                         (f"code-ip:{ip}", limits.CODE_IP_HOURLY)):
        limits.check(conn, now, bucket, rule)
    limits.hit(conn, now, f"code:{msisdn}", f"code-ip:{ip}")


def issue(conn: Conn, now: dt.datetime, *, key: bytes, purpose: str, msisdn: str,
          agent_id: int, lang: str, ip: str) -> None:
    """Throttle, then send a code (see ``send``)."""
    throttle(conn, now, msisdn=msisdn, ip=ip)
    send(conn, now, key=key, purpose=purpose, msisdn=msisdn, agent_id=agent_id, lang=lang)


def send(conn: Conn, now: dt.datetime, *, key: bytes, purpose: str, msisdn: str,
         agent_id: int, lang: str) -> None:
    """Queue a fresh 6-digit code to ``msisdn`` by SMS (the outbox); earlier ones stop working."""
    code = f"{secrets.randbelow(10 ** 6):06d}"
    web_codes.void_live(conn, purpose=purpose, msisdn=msisdn)
    web_codes.insert(conn, purpose=purpose, msisdn=msisdn, agent_id=agent_id,
                     code_hash=_hash(key, purpose, msisdn, code), created=now, expires=now + TTL)
    text = translator(lang)(f"sms.code_{purpose}", code=code, minutes=int(TTL.total_seconds() // 60))
    outbox.enqueue(conn, msisdn, text, f"code_{purpose}", iso(now))


def check(conn: Conn, now: dt.datetime, *, key: bytes, purpose: str,
          msisdn: str, code: str, agent_id: int | None = None) -> tuple[int, int]:
    """(code id, agent id) of the live code; a wrong guess counts (and sticks), five spend it.

    The code stays usable until ``spend``: a step after it that fails leaves it valid.
    """
    found = web_codes.live(conn, purpose=purpose, msisdn=msisdn, now=now)
    if found is None or (agent_id is not None and found.agent_id != agent_id):
        _hash(key, purpose, msisdn, code.strip())  # the work of a wrong guess: timing tells nothing
        raise CodeRefused()
    if not hmac.compare_digest(_hash(key, purpose, msisdn, code.strip()), found.code_hash):
        web_codes.record_miss(conn, code_id=found.id, attempts=found.attempts + 1,
                              spent=found.attempts + 1 >= MAX_TRIES)
        raise CodeRefused()
    return found.id, found.agent_id


def spend(conn: Conn, code_id: int) -> None:
    """Single use: a spent code never works again."""
    web_codes.spend(conn, code_id=code_id)
