"""ledger.store.web_codes: one-time codes, newest live one per purpose and number."""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest

from ledger import Ledger
from ledger.store import web_codes
from ledger.store.web_codes import LiveCode

pytestmark = pytest.mark.both_engines

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
TTL = dt.timedelta(minutes=5)
NUMBER = "18912345678"


async def _insert(ledger: Ledger, code_hash: bytes, purpose: str = "login") -> None:
    await ledger.writer.run(partial(web_codes.insert, purpose=purpose, msisdn=NUMBER, agent_id=3,
                                    code_hash=code_hash, created=NOW, expires=NOW + TTL))


async def _live(ledger: Ledger, purpose: str = "login",
                now: dt.datetime = NOW) -> LiveCode | None:
    return await ledger.writer.run(partial(web_codes.live, purpose=purpose, msisdn=NUMBER,
                                           now=now))


async def test_the_newest_live_code_until_it_expires(ledger: Ledger) -> None:
    """``live`` gives the newest unused code of the purpose, none once it expired."""
    await _insert(ledger, b"first")
    await _insert(ledger, b"second")
    found = await _live(ledger)
    assert found is not None and (found.agent_id, found.code_hash, found.attempts) == (
        3, b"second", 0)
    assert await _live(ledger, "bind") is None
    assert await _live(ledger, now=NOW + TTL) is None


async def test_void_miss_and_spend(ledger: Ledger) -> None:
    """A miss counts (and may spend the code); ``spend`` and ``void_live`` end codes."""
    await _insert(ledger, b"one")
    first = await _live(ledger)
    assert first is not None
    await ledger.writer.run(partial(web_codes.record_miss, code_id=first.id, attempts=1,
                                    spent=False))
    assert await _live(ledger) == LiveCode(first.id, 3, b"one", 1)
    await ledger.writer.run(partial(web_codes.record_miss, code_id=first.id, attempts=2,
                                    spent=True))
    assert await _live(ledger) is None
    await _insert(ledger, b"two")
    await _insert(ledger, b"bind", purpose="bind")
    await ledger.writer.run(partial(web_codes.void_live, purpose="login", msisdn=NUMBER))
    assert await _live(ledger) is None
    bind = await _live(ledger, "bind")
    assert bind is not None
    await ledger.writer.run(partial(web_codes.spend, code_id=bind.id))
    assert await _live(ledger, "bind") is None
