"""Ledger-suite fixtures: the root ``ledger`` fixture, checked by ``verify()`` after every test.

The override below wraps ``tests/conftest.py``'s ``ledger`` (same object, same behaviour) and adds
one assertion at teardown: every invariant of ``ledger verify`` holds when the scenario is over.
Tests that corrupt the database on purpose repair it before they end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from ledger import Ledger
from ledger.store.queries import Query

Rows = list[tuple[Any, ...]]
Sql = Callable[..., Awaitable[Rows]]


@pytest.fixture
async def ledger(ledger: Ledger) -> AsyncIterator[Ledger]:
    """The root ledger; after the test, ``verify()`` must report no breach at all."""
    yield ledger
    breaches = await ledger.verify()
    assert all(not lines for lines in breaches.values()), breaches


@pytest.fixture
def sql(ledger: Ledger) -> Sql:
    """Run a read-only SELECT on the ledger's reader connection: ``await sql(query, *params)``."""
    async def run(query: str, *params: Any) -> Rows:
        return await ledger.read(Query(query, params, lambda rows: rows))
    return run
