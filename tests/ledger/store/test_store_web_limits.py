"""ledger.store.web_limits: rate-limit events counted per bucket in a window."""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest

from ledger import Ledger
from ledger.store import web_limits

pytestmark = pytest.mark.both_engines

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


async def test_count_forget_and_clear(ledger: Ledger) -> None:
    """Events after ``since`` count per bucket; older ones can be forgotten, a bucket cleared."""
    for minutes, bucket in ((0, "a"), (5, "a"), (10, "a"), (10, "b")):
        await ledger.writer.run(partial(web_limits.insert, bucket=bucket,
                                        at=NOW + minutes * MINUTE))
    assert await ledger.read(web_limits.count_since("a", NOW)) == 2
    assert await ledger.read(web_limits.count_since("a", NOW - MINUTE)) == 3
    assert await ledger.read(web_limits.count_since("c", NOW)) == 0
    assert await ledger.writer.run(web_limits.count_since("b", NOW).run) == 1
    await ledger.writer.run(partial(web_limits.forget_before, bucket="a", before=NOW + MINUTE))
    assert await ledger.read(web_limits.count_since("a", NOW - MINUTE)) == 2
    await ledger.writer.run(partial(web_limits.clear, bucket="a"))
    assert await ledger.read(web_limits.count_since("a", NOW - MINUTE)) == 0
    assert await ledger.read(web_limits.count_since("b", NOW - MINUTE)) == 1
