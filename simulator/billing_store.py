"""The simulated BOSS's books as a JSON file: (de)serialization and atomic, durable saves.

Format (UTF-8 JSON, amounts integer fen): ``{"version": 1, "accounts": [{"kind", "number",
"account_type", "balance_fen", "bills": {"YYYY-MM": {"due_fen", "paid_fen"}}}], "entries":
[{"reference", "request": [str, ...], "result": <billing result>, "key": [kind, number] | null,
"amount_fen", "at", "cancelled"}], "reversed_by": {original: reversal}}``; entries keep their order.
``BooksFile.save`` writes a temporary file, fsyncs it, renames it over the file and fsyncs the
directory: after a crash at any moment the file holds either the old books or the new ones.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from simulator.billing_state import Account, Bill, Books, Entry
from smsmenu.core.billing_wire import result_from_json, result_to_json
from smsmenu.core.types import TargetKind

VERSION = 1


def books_to_json(books: Books) -> dict[str, Any]:
    """The books as a JSON-ready dict (``auto_create`` is a setting, not part of the books)."""
    accounts = [{"kind": a.kind.value, "number": a.number, "account_type": a.account_type,
                 "balance_fen": a.balance_fen,
                 "bills": {m: {"due_fen": b.due_fen, "paid_fen": b.paid_fen}
                           for m, b in a.bills.items()}}
                for a in books.accounts.values()]
    entries = [{"reference": ref, "request": list(e.request), "result": result_to_json(e.result),
                "key": None if e.key is None else [e.key[0].value, e.key[1]],
                "amount_fen": e.amount_fen, "at": e.at, "cancelled": e.cancelled}
               for ref, e in books.entries.items()]
    return {"version": VERSION, "accounts": accounts, "entries": entries,
            "reversed_by": dict(books.reversed_by)}


def books_from_json(data: Any, auto_create: bool = True) -> Books:
    """Books from ``books_to_json``'s format; ValueError when ``data`` is not that."""
    top = _dict(data, "books")
    if top.get("version") != VERSION:
        raise ValueError(f"unknown books version {top.get('version')!r}")
    books = Books(auto_create)
    for item in _list(top.get("accounts"), "accounts"):
        account = _account(_dict(item, "account"))
        books.accounts[(account.kind, account.number)] = account
    for item in _list(top.get("entries"), "entries"):
        reference, entry = _entry(_dict(item, "entry"))
        books.entries[reference] = entry
    for original, reversal in _dict(top.get("reversed_by"), "reversed_by").items():
        books.reversed_by[original] = _typed(reversal, str, "reversed_by")
    return books


class BooksFile:
    """Books kept in the JSON file ``path`` (missing: empty books)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self, auto_create: bool = True) -> Books:
        """The books on file, or empty books; ValueError for a file that is not books."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Books(auto_create)
        return books_from_json(json.loads(text), auto_create)

    def save(self, books: Books) -> None:
        """Replace the file with ``books``, atomically and durably (returns once on disk)."""
        data = json.dumps(books_to_json(books), ensure_ascii=False, separators=(",", ":"))
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        folder = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def _account(item: dict[str, Any]) -> Account:
    account_type = item.get("account_type")
    if account_type not in ("prepaid", "postpaid"):
        raise ValueError(f"bad account_type {account_type!r}")
    bills = {}
    for month, bill in _dict(item.get("bills"), "bills").items():
        bill = _dict(bill, "bill")
        bills[month] = Bill(_int(bill.get("due_fen")), _int(bill.get("paid_fen")))
    return Account(TargetKind(_typed(item.get("kind"), str, "kind")),
                   _typed(item.get("number"), str, "number"), account_type,
                   _int(item.get("balance_fen")), bills)


def _entry(item: dict[str, Any]) -> tuple[str, Entry]:
    request = tuple(_typed(part, str, "request") for part in _list(item.get("request"), "request"))
    if not request:
        raise ValueError("empty request")
    key = None
    if item.get("key") is not None:
        parts = _list(item["key"], "key")
        if len(parts) != 2:
            raise ValueError(f"key: expected [kind, number], got {parts!r}")
        key = (TargetKind(_typed(parts[0], str, "key")), _typed(parts[1], str, "key"))
    entry = Entry(request, result_from_json(item.get("result")), key, _int(item.get("amount_fen")),
                  _typed(item.get("at"), str, "at"), _typed(item.get("cancelled"), bool, "cancelled"))
    return _typed(item.get("reference"), str, "reference"), entry


def _typed(value: Any, kind: type[Any], what: str) -> Any:
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ValueError(f"{what}: expected {kind.__name__}, got {value!r}")
    return value


def _int(value: Any) -> int:
    return int(_typed(value, int, "amount"))


def _dict(value: Any, what: str) -> dict[str, Any]:
    return dict(_typed(value, dict, what))


def _list(value: Any, what: str) -> list[Any]:
    return list(_typed(value, list, what))
