"""Double-entry primitives: post, reserve, commit and void transfers with no-overdraft checks."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from ledger.money import format_yuan
from ledger.store.schema import FIXED_IDS
from smsmenu.core.errors import InsufficientFunds, StaleState

Posting = tuple[int, int]
"""(account id, amount in fen): positive credits the account, negative debits it."""


def account_id(conn: sqlite3.Connection, code: str) -> int:
    """The id of an account by code; the operator's fixed accounts need no query."""
    if code in FIXED_IDS:
        return FIXED_IDS[code]
    row = conn.execute("SELECT id FROM accounts WHERE code = ?", (code,)).fetchone()
    if row is None:
        raise LookupError(f"no account {code}")
    return int(row[0])


def _new_transfer(conn: sqlite3.Connection, op: str, state: str, postings: Sequence[Posting],
                  now: str, reference: str | None) -> int:
    legs = [(acc, amount) for acc, amount in postings if amount != 0]
    if sum(amount for _, amount in legs) != 0 or len(legs) < 2:
        raise ValueError(f"unbalanced transfer {op}: {postings}")
    transfer_id = int(conn.execute(
        "INSERT INTO transfers (op, state, reference, created_at, resolved_at) "
        "VALUES (?, ?, ?, ?, ?) RETURNING id",
        (op, state, reference, now, now if state == "posted" else None),
    ).fetchone()[0])
    conn.executemany(
        "INSERT INTO postings (transfer_id, account_id, amount) VALUES (?, ?, ?)",
        [(transfer_id, acc, amount) for acc, amount in legs],
    )
    return transfer_id


def _refuse(conn: sqlite3.Connection, account: int, need: int) -> InsufficientFunds:
    row = conn.execute("SELECT balance - reserved FROM accounts WHERE id = ?", (account,)).fetchone()
    return InsufficientFunds(need=format_yuan(need), available=format_yuan(int(row[0])))


def post(conn: sqlite3.Connection, op: str, postings: Sequence[Posting], now: str,
         reference: str | None = None) -> int:
    """Record a transfer and apply it at once; refuse if a no-overdraft account would go negative."""
    transfer_id = _new_transfer(conn, op, "posted", postings, now, reference)
    for acc, amount in postings:
        if amount == 0:
            continue
        cur = conn.execute(
            "UPDATE accounts SET balance = balance + ?1 WHERE id = ?2 "
            "AND (no_overdraft = 0 OR balance - reserved + ?1 >= 0)",
            (amount, acc),
        )
        if cur.rowcount != 1:
            raise _refuse(conn, acc, -amount)
    return transfer_id


def reserve(conn: sqlite3.Connection, op: str, postings: Sequence[Posting], now: str,
            reference: str | None = None) -> int:
    """Record a pending transfer: its debits are held (reserved), its credits wait for commit."""
    transfer_id = _new_transfer(conn, op, "pending", postings, now, reference)
    for acc, amount in postings:
        if amount >= 0:
            continue
        cur = conn.execute(
            "UPDATE accounts SET reserved = reserved - ?1 WHERE id = ?2 "
            "AND (no_overdraft = 0 OR balance - reserved + ?1 >= 0)",
            (amount, acc),
        )
        if cur.rowcount != 1:
            raise _refuse(conn, acc, -amount)
    return transfer_id


_RESOLVE = "UPDATE transfers SET state = ?, resolved_at = ? WHERE id = ? AND state = 'pending'"
_LEGS = "SELECT account_id, amount FROM postings WHERE transfer_id = ?"
_COMMIT_LEG = "UPDATE accounts SET balance = balance + ?, reserved = reserved + ? WHERE id = ?"
_VOID_LEG = "UPDATE accounts SET reserved = reserved + ? WHERE id = ?"


def _resolve(conn: sqlite3.Connection, transfer_id: int, state: str, now: str,
             legs: Sequence[Posting] | None) -> list[Posting]:
    cur = conn.execute(_RESOLVE, (state, now, transfer_id))
    if cur.rowcount != 1:
        raise StaleState(why=f"transfer {transfer_id} is not pending")
    if legs is not None:  # as stored: zero legs dropped, in primary-key (account id) order
        return sorted((acc, amount) for acc, amount in legs if amount != 0)
    return [(int(a), int(b)) for a, b in conn.execute(_LEGS, (transfer_id,)).fetchall()]


def commit(conn: sqlite3.Connection, transfer_id: int, now: str,
           legs: Sequence[Posting] | None = None) -> None:
    """Post a pending transfer: held debits leave the balance, credits arrive.

    ``legs``, when the caller has them, are the postings the transfer was reserved with (as
    given to ``reserve``): they save reading them back.
    """
    for acc, amount in _resolve(conn, transfer_id, "posted", now, legs):
        conn.execute(_COMMIT_LEG, (amount, amount if amount < 0 else 0, acc))


def void(conn: sqlite3.Connection, transfer_id: int, now: str,
         legs: Sequence[Posting] | None = None) -> None:
    """Cancel a pending transfer: held debits are released, nothing moves. ``legs``: as for
    ``commit``."""
    for acc, amount in _resolve(conn, transfer_id, "voided", now, legs):
        if amount < 0:
            conn.execute(_VOID_LEG, (amount, acc))


def available(conn: sqlite3.Connection, account: int) -> int:
    row = conn.execute("SELECT balance - reserved FROM accounts WHERE id = ?", (account,)).fetchone()
    return int(row[0])
