"""Tests of the simulated BOSS's books on disk (simulator.billing_store)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.billing import BillingSimulator, Books
from simulator.billing_store import BooksFile, books_from_json, books_to_json
from smsmenu.core.clock import ManualClock
from smsmenu.core.errors import BillingTimeout
from smsmenu.core.types import TargetKind

MOBILE, LANDLINE = TargetKind.MOBILE, TargetKind.LANDLINE
PHONE, LINE = "18912345678", "02787654321"


def same(a: Books, b: Books) -> bool:
    """Equal books: accounts, entries (in order) and reversals."""
    return (a.accounts == b.accounts and list(a.entries.items()) == list(b.entries.items())
            and a.reversed_by == b.reversed_by)


async def busy_books(ops: list[tuple[str, int, int]], seed: int) -> Books:
    """Books after ``ops`` (credit, reverse, cancel, open) under random faults."""
    clock = ManualClock("2024-05-31T23:58:00")
    sim = BillingSimulator(clock=clock, seed=seed, failure_rate=0.2, timeout_rate=0.2)
    sim.open_account(LANDLINE, LINE, "postpaid", balance_fen=100, bills={"2024-05": 8000})
    for op, ref, amount in ops:
        clock.advance(seconds=37)
        try:
            if op == "credit":
                await sim.credit(MOBILE if ref % 2 else LANDLINE, PHONE if ref % 2 else LINE,
                                 amount, f"r{ref}")
            elif op == "reverse":
                await sim.reverse(f"r{ref}", f"v{ref}")
            elif op == "cancel":
                await sim.cancel(f"r{ref}")
            else:
                sim.open_account(TargetKind.PHS, f"027{ref}", balance_fen=amount)
        except BillingTimeout:
            pass
    return sim.books


OPS = st.lists(st.tuples(st.sampled_from(["credit", "reverse", "cancel", "open"]),
                         st.integers(0, 6), st.integers(-5, 3000)), max_size=30)


@settings(max_examples=60, deadline=None)
@given(ops=OPS, seed=st.integers(0, 1000))
def test_books_round_trip_through_json(ops: list[tuple[str, int, int]], seed: int) -> None:
    """Any books written to JSON text and read back are the same books."""
    books = asyncio.run(busy_books(ops, seed))
    text = json.dumps(books_to_json(books), ensure_ascii=False)
    assert same(books_from_json(json.loads(text)), books)


async def test_file_round_trip_and_no_leftovers(tmp_path: Path) -> None:
    """save then load gives the same books; only the books file is left in the folder."""
    books = await busy_books([("credit", 1, 500), ("cancel", 2, 0), ("reverse", 1, 0),
                              ("credit", 2, 70), ("credit", 3, 0)], seed=1)
    store = BooksFile(tmp_path / "books.json")
    store.save(books)
    store.save(books)
    assert same(store.load(), books)
    assert os.listdir(tmp_path) == ["books.json"]


def test_missing_file_is_empty_books(tmp_path: Path) -> None:
    """A books file that does not exist yet loads as empty books with the given auto_create."""
    books = BooksFile(tmp_path / "none.json").load(auto_create=False)
    assert (books.accounts, books.entries, books.reversed_by, books.auto_create) == (
        {}, {}, {}, False)


async def test_simulator_saves_before_answering(tmp_path: Path) -> None:
    """With on_change = save, a credit is on disk by the time the call returns."""
    store = BooksFile(tmp_path / "books.json")
    sim = BillingSimulator()
    sim.on_change = store.save
    await sim.credit(MOBILE, PHONE, 1000, "r1")
    await sim.cancel("r2")
    loaded = store.load()
    assert same(loaded, sim.books)
    assert loaded.entries["r2"].cancelled and loaded.accounts[(MOBILE, PHONE)].balance_fen == 1000


def test_failed_save_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A save that fails before the rename leaves the previous books and no temporary file."""
    store = BooksFile(tmp_path / "books.json")
    old = Books()
    store.save(old)
    new = Books()
    new.open(MOBILE, PHONE, balance_fen=5)

    def broken(fd: int) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OSError, match="fire"):
        store.save(new)
    monkeypatch.undo()
    assert same(store.load(), old) and os.listdir(tmp_path) == ["books.json"]


def good() -> dict[str, Any]:
    return {"version": 1,
            "accounts": [{"kind": "mobile", "number": PHONE, "account_type": "prepaid",
                          "balance_fen": 5, "bills": {"2024-05": {"due_fen": 1, "paid_fen": 0}}}],
            "entries": [{"reference": "r1", "request": ["credit", "mobile", PHONE, "5"],
                         "result": {"ok": True, "reference": "r1", "account_type": "prepaid",
                                    "bill_month": None, "reason": ""},
                         "key": ["mobile", PHONE], "amount_fen": 5,
                         "at": "2024-05-15T12:00:00+08:00", "cancelled": False}],
            "reversed_by": {}}


def spoil(path: str, value: object) -> dict[str, Any]:
    """``good()`` with the item at dotted ``path`` replaced by ``value``."""
    data = good()
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[int(last) if last.isdigit() else last] = value
    return data


def test_good_sample_loads() -> None:
    """The sample used for the malformed cases below is itself well formed."""
    books = books_from_json(good())
    assert books.entries["r1"].key == (MOBILE, PHONE)


@pytest.mark.parametrize("data", [
    pytest.param([], id="not-an-object"),
    pytest.param(spoil("version", 2), id="other-version"),
    pytest.param(spoil("accounts", {}), id="accounts-not-a-list"),
    pytest.param(spoil("accounts.0.kind", "fax"), id="bad-kind"),
    pytest.param(spoil("accounts.0.account_type", "gold"), id="bad-account-type"),
    pytest.param(spoil("accounts.0.balance_fen", 5.0), id="float-balance"),
    pytest.param(spoil("accounts.0.bills.2024-05", 7), id="bill-not-an-object"),
    pytest.param(spoil("entries.0.request", []), id="empty-request"),
    pytest.param(spoil("entries.0.key", ["mobile"]), id="short-key"),
    pytest.param(spoil("entries.0.amount_fen", True), id="bool-amount"),
    pytest.param(spoil("entries.0.cancelled", 0), id="int-cancelled"),
    pytest.param(spoil("entries.0.result", {"ok": 1}), id="bad-result"),
    pytest.param(spoil("reversed_by", {"r1": 5}), id="bad-reversal"),
])
def test_malformed_books_are_refused(data: object) -> None:
    """Anything but books in the stored format raises ValueError."""
    with pytest.raises(ValueError):
        books_from_json(data)
