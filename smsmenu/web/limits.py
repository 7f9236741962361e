"""Rate limits kept in the database: events per bucket in a sliding window (logins, codes).

Failed web logins are counted per source address here (agents' and operators' together); per
agent account the ledger's web lock counts them (``ledger.lockout``), per operator name here.
"""

from __future__ import annotations

import datetime as dt
import math

from ledger import Ledger
from ledger.store import Conn, web_limits
from smsmenu.web.errors import RateLimited

KEEP = dt.timedelta(days=1)
LOGIN_FAILURES = (10, dt.timedelta(minutes=15))
"""Failed logins allowed per operator name in the window (agents: the ledger's web lock)."""
LOGIN_FAILURES_IP = (20, dt.timedelta(hours=1))
"""Failed logins (agents' passwords and codes, operators') allowed per client address in the
window; past it the address may not try to log in at all until the window slides past."""
CODE_RESEND = (1, dt.timedelta(seconds=60))
CODE_HOURLY = (5, dt.timedelta(hours=1))
CODE_IP_HOURLY = (20, dt.timedelta(hours=1))


def check(conn: Conn, now: dt.datetime, bucket: str,
          rule: tuple[int, dt.timedelta]) -> None:
    """Raise RateLimited when ``bucket`` already had ``limit`` events within ``window``."""
    limit, window = rule
    if web_limits.count_since(bucket, now - window).run(conn) >= limit:
        raise RateLimited(wait=max(1, math.ceil(window.total_seconds() / 60)))


def hit(conn: Conn, now: dt.datetime, *buckets: str) -> None:
    """Record one event in each bucket; forget events older than a day."""
    for bucket in buckets:
        web_limits.forget_before(conn, bucket=bucket, before=now - KEEP)
        web_limits.insert(conn, bucket=bucket, at=now)


def login_buckets(ip: str, who: str) -> list[tuple[str, tuple[int, dt.timedelta]]]:
    """The login buckets of an address and a name: the address's first."""
    return [(f"login-ip:{ip}", LOGIN_FAILURES_IP), (f"login:{who.strip().upper()}", LOGIN_FAILURES)]


def check_address(conn: Conn, now: dt.datetime, ip: str) -> None:
    """An address with too many failed logins lately may not try again yet (RateLimited)."""
    check(conn, now, f"login-ip:{ip}", LOGIN_FAILURES_IP)


def fail_address(conn: Conn, now: dt.datetime, ip: str) -> None:
    """Count one failed agent login against its source address."""
    hit(conn, now, f"login-ip:{ip}")


def fail_login(conn: Conn, now: dt.datetime, ip: str, who: str) -> None:
    """Count one failed operator login against its address and its name."""
    hit(conn, now, *(bucket for bucket, _ in login_buckets(ip, who)))


async def login_blocked(ledger: Ledger, now: dt.datetime, ip: str, who: str) -> bool:
    """Read-only pre-check (before an expensive password hash): is any login bucket full?"""
    for bucket, (limit, window) in login_buckets(ip, who):
        if await ledger.read(web_limits.count_since(bucket, now - window)) >= limit:
            return True
    return False


def forget_login(conn: Conn, who: str) -> None:
    """Forget the failed logins counted against a name (not those against addresses)."""
    for bucket, _rule in login_buckets("-", who)[1:]:
        web_limits.clear(conn, bucket=bucket)
