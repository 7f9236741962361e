"""ledger.store.web_sessions: the portal's session rows, by token hash."""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest

from ledger import Ledger
from ledger.store import web_sessions
from ledger.store.web_sessions import Session
from smsmenu.core.clock import iso

pytestmark = pytest.mark.both_engines

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


async def _start(ledger: Ledger, token_hash: bytes, kind: str = "operator", subject_id: int = 7,
                 created: dt.datetime = NOW) -> None:
    await ledger.writer.run(partial(web_sessions.insert, token_hash=token_hash, kind=kind,
                                    subject_id=subject_id, created=created,
                                    expires=created + HOUR))


async def test_insert_lookup_extend_delete(ledger: Ledger) -> None:
    """A session is found by its hash (kind, subject, expiry), extended, then deleted."""
    await _start(ledger, b"a" * 32)
    assert await ledger.read(web_sessions.lookup(b"a" * 32)) == Session(
        "operator", 7, iso(NOW + HOUR))
    assert await ledger.read(web_sessions.lookup(b"b" * 32)) is None
    await ledger.writer.run(partial(web_sessions.extend, token_hash=b"a" * 32, until=NOW + 2 * HOUR))
    found = await ledger.read(web_sessions.lookup(b"a" * 32))
    assert found is not None and found.expires_at == iso(NOW + 2 * HOUR)
    await ledger.writer.run(partial(web_sessions.delete, token_hash=b"a" * 32))
    assert await ledger.read(web_sessions.lookup(b"a" * 32)) is None


async def test_delete_subject_ends_only_that_subjects_sessions(ledger: Ledger) -> None:
    """Every session of one operator ends; another operator's and an agent's same id stay."""
    await _start(ledger, b"1" * 32, subject_id=7)
    await _start(ledger, b"2" * 32, subject_id=7)
    await _start(ledger, b"3" * 32, subject_id=8)
    await _start(ledger, b"4" * 32, kind="agent", subject_id=7)
    await ledger.writer.run(partial(web_sessions.delete_subject, kind="operator", subject_id=7))
    left = [await ledger.read(web_sessions.lookup(h * 32)) for h in (b"1", b"2", b"3", b"4")]
    assert [s.subject_id if s else None for s in left] == [None, None, 8, 7]


async def test_purge_expired_keeps_live_sessions(ledger: Ledger) -> None:
    """Sessions that expired before ``now`` are forgotten; one still live stays."""
    await _start(ledger, b"o" * 32, created=NOW - 2 * HOUR)
    await _start(ledger, b"n" * 32, created=NOW)
    await ledger.writer.run(partial(web_sessions.purge_expired, now=NOW))
    assert await ledger.read(web_sessions.lookup(b"o" * 32)) is None
    assert await ledger.read(web_sessions.lookup(b"n" * 32)) is not None
