"""ledger.store.web_operators and web_audit: operator accounts, last logins, the audit log."""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest

from ledger import Ledger
from ledger.store import web_audit, web_operators
from ledger.store.web_operators import Account, Login
from smsmenu.core.clock import iso

pytestmark = pytest.mark.both_engines

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


async def _add(ledger: Ledger, name: str, role: str = "clerk") -> int:
    return await ledger.writer.run(partial(web_operators.insert, name=name, role=role,
                                           salt=b"s" * 16, pw_hash=b"h" * 32, created=NOW))


async def test_insert_find_and_change(ledger: Ledger) -> None:
    """An account is found by id and name; role, active flag and password change in place."""
    assert await ledger.read(web_operators.count()) == 0
    wang = await _add(ledger, "wang")
    assert await ledger.read(web_operators.count()) == 1
    assert await ledger.writer.run(partial(web_operators.name_taken, name="wang"))
    assert not await ledger.writer.run(partial(web_operators.name_taken, name="li"))
    assert await ledger.read(web_operators.by_id(wang)) == Account(wang, "wang", "clerk", True)
    assert await ledger.read(web_operators.by_name("wang")) == Login(
        Account(wang, "wang", "clerk", True), b"s" * 16, b"h" * 32)
    assert await ledger.read(web_operators.by_name("li")) is None
    await ledger.writer.run(partial(web_operators.set_role, operator_id=wang, role="supervisor"))
    await ledger.writer.run(partial(web_operators.set_active, operator_id=wang, active=False))
    await ledger.writer.run(partial(web_operators.set_password, operator_id=wang, salt=b"t" * 16,
                                    pw_hash=b"i" * 32))
    assert await ledger.writer.run(partial(web_operators.account, operator_id=wang)) == Account(
        wang, "wang", "supervisor", False)
    found = await ledger.read(web_operators.by_name("wang"))
    assert found is not None and (found.salt, found.pw_hash) == (b"t" * 16, b"i" * 32)
    assert await ledger.writer.run(partial(web_operators.account, operator_id=99)) is None


async def test_listing_with_last_logins(ledger: Ledger) -> None:
    """Active operators first, then by name; the last login replaces the one before."""
    zhao, li = await _add(ledger, "zhao"), await _add(ledger, "li")
    old = await _add(ledger, "aaa")
    await ledger.writer.run(partial(web_operators.set_active, operator_id=old, active=False))
    for at in (NOW, NOW + dt.timedelta(hours=1)):
        await ledger.writer.run(partial(web_operators.record_login, operator_id=zhao, at=at))
    rows = await ledger.read(web_operators.listing())
    assert [(r.name, r.active) for r in rows] == [("li", True), ("zhao", True), ("aaa", False)]
    row = await ledger.read(web_operators.staff_row(zhao))
    assert row is not None and row.last_login_at == iso(NOW + dt.timedelta(hours=1))
    assert row.created_at == iso(NOW)
    row = await ledger.read(web_operators.staff_row(li))
    assert row is not None and row.last_login_at is None
    assert await ledger.read(web_operators.staff_row(99)) is None


async def test_audit_lines_newest_first(ledger: Ledger) -> None:
    """Audit lines come back newest first, paged by limit and offset."""
    for n in range(3):
        line = web_audit.Line(1, "wang", "clerk", "deposit", f"A{n}", "{}", "ok")
        await ledger.writer.run(partial(web_audit.append, at=NOW + dt.timedelta(minutes=n),
                                        line=line))
    entries = await ledger.read(web_audit.page(2, 0))
    assert [e.target for e in entries] == ["A2", "A1"]
    assert entries[0].at == iso(NOW + dt.timedelta(minutes=2))
    assert (entries[0].operator, entries[0].role, entries[0].action, entries[0].detail,
            entries[0].outcome) == ("wang", "clerk", "deposit", "{}", "ok")
    assert [e.target for e in await ledger.read(web_audit.page(2, 2))] == ["A0"]
