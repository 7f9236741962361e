"""Rate limits kept in the database: events per bucket in a sliding window (logins, codes).

Failed web logins are counted per source address here (agents' and operators' together); per
agent account the ledger's web lock counts them (``ledger.lockout``), per operator name here.
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3

from ledger import Ledger
from ledger.store.queries import Query, scalar
from smsmenu.core.clock import iso
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


def _count(bucket: str, since: str) -> Query[int]:
    return scalar("SELECT COUNT(*) FROM web_rate WHERE bucket = ? AND at > ?", bucket, since)


def check(conn: sqlite3.Connection, now: dt.datetime, bucket: str,
          rule: tuple[int, dt.timedelta]) -> None:
    """Raise RateLimited when ``bucket`` already had ``limit`` events within ``window``."""
    limit, window = rule
    if int(_count(bucket, iso(now - window)).run(conn) or 0) >= limit:
        raise RateLimited(wait=max(1, math.ceil(window.total_seconds() / 60)))


def hit(conn: sqlite3.Connection, now: dt.datetime, *buckets: str) -> None:
    """Record one event in each bucket; forget events older than a day."""
    for bucket in buckets:
        conn.execute("DELETE FROM web_rate WHERE bucket = ? AND at < ?",
                     (bucket, iso(now - KEEP)))
        conn.execute("INSERT INTO web_rate (bucket, at) VALUES (?, ?)", (bucket, iso(now)))


def login_buckets(ip: str, who: str) -> list[tuple[str, tuple[int, dt.timedelta]]]:
    return [(f"login-ip:{ip}", LOGIN_FAILURES_IP), (f"login:{who.strip().upper()}", LOGIN_FAILURES)]


def check_address(conn: sqlite3.Connection, now: dt.datetime, ip: str) -> None:
    """An address with too many failed logins lately may not try again yet (RateLimited)."""
    check(conn, now, f"login-ip:{ip}", LOGIN_FAILURES_IP)


def fail_address(conn: sqlite3.Connection, now: dt.datetime, ip: str) -> None:
    """Count one failed agent login against its source address."""
    hit(conn, now, f"login-ip:{ip}")


def fail_login(conn: sqlite3.Connection, now: dt.datetime, ip: str, who: str) -> None:
    hit(conn, now, *(bucket for bucket, _ in login_buckets(ip, who)))


async def login_blocked(ledger: Ledger, now: dt.datetime, ip: str, who: str) -> bool:
    """Read-only pre-check (before an expensive password hash): is any login bucket full?"""
    for bucket, (limit, window) in login_buckets(ip, who):
        seen = await ledger.read(_count(bucket, iso(now - window)))
        if int(seen or 0) >= limit:
            return True
    return False
