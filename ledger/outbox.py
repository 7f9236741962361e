"""The durable outbox: every SMS an operation owes, written in that operation's transaction."""

from __future__ import annotations

import sqlite3

from ledger.store.engine import skip_locked
from smsmenu.core.types import Reply

Notice = Reply
"""An outbox row is a ``Reply`` (the one outgoing message type); this name stays for the
ledger modules that still say ``outbox.Notice`` in their annotations."""


def enqueue(conn: sqlite3.Connection, to: str, text: str, kind: str, now: str) -> Reply:
    """Queue one SMS in the caller's transaction; the row as a ``Reply`` with its id."""
    row = conn.execute(
        "INSERT INTO outbox (to_msisdn, text, kind, created_at, next_at) VALUES (?, ?, ?, ?, ?) "
        "RETURNING id", (to, text, kind, now, now)).fetchone()
    return Reply(to, text, int(row[0]), kind)


def due(conn: sqlite3.Connection, now: str, limit: int = 100) -> list[Reply]:
    """Queued messages whose time has come, oldest first."""
    rows = conn.execute(
        "SELECT id, to_msisdn, text, kind FROM outbox WHERE status = 'queued' AND next_at <= ? "
        "ORDER BY id LIMIT ?",
        (now, limit),
    ).fetchall()
    return [Reply(r[1], r[2], int(r[0]), r[3]) for r in rows]


def mark_sent(conn: sqlite3.Connection, ids: list[int], gateway: str, now: str,
              message_ids: list[str | None] | None = None) -> None:
    ids_ = message_ids or [None] * len(ids)
    conn.executemany(
        "UPDATE outbox SET status = 'sent', sent_at = ?, gateway = ?, message_id = ?, "
        "attempts = attempts + 1, claimed_by = NULL WHERE id = ? AND status = 'queued'",
        [(now, gateway, mid, oid) for oid, mid in zip(ids, ids_, strict=True)],
    )


def mark_retry(conn: sqlite3.Connection, outbox_id: int, next_at: str, max_attempts: int) -> None:
    """Count a failed send; retry later, or give up (status failed) after ``max_attempts``."""
    conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, next_at = ?, claimed_by = NULL, "
        "status = CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE 'queued' END "
        "WHERE id = ? AND status = 'queued'",
        (next_at, max_attempts, outbox_id),
    )


def record_receipt(conn: sqlite3.Connection, message_id: str, stat: str) -> bool:
    """Store a delivery receipt against the message it reports on; False if none matches."""
    cur = conn.execute("UPDATE outbox SET receipt = ? WHERE message_id = ?", (stat, message_id))
    return cur.rowcount > 0


def claim(conn: sqlite3.Connection, now: str, lease_until: str, limit: int = 100,
          holder: str = "") -> list[Reply]:
    """Due messages, leased to ``holder`` until ``lease_until`` so no other drain sends them.

    A sender that dies mid-send leaves the lease: another instance sends the message once the
    lease ends, the same instance (``holder``) as soon as it starts again (``release``); at
    least once, never lost. On PostgreSQL the rows are selected ``FOR UPDATE SKIP LOCKED``:
    two instances claiming at once take disjoint rows, neither waits for the other.
    """
    rows = conn.execute(
        "SELECT id, to_msisdn, text, kind FROM outbox WHERE status = 'queued' AND next_at <= ? "
        "ORDER BY id LIMIT ?" + skip_locked(conn), (now, limit)).fetchall()
    notices = [Reply(r[1], r[2], int(r[0]), r[3]) for r in rows]
    conn.executemany("UPDATE outbox SET next_at = ?, claimed_by = ? WHERE id = ?",
                     [(lease_until, holder or None, n.outbox_id) for n in notices])
    return notices


def lease(conn: sqlite3.Connection, ids: list[int], holder: str, until: str) -> None:
    """Lease rows just queued to ``holder`` (the instance that sends them at once, in the
    transaction that wrote them): no other instance's drain claims them meanwhile; if the
    holder dies first, its restart (``release``) or the lease's end makes them due again."""
    if len(ids) == 1:  # the usual step: one reply (executemany costs more for one row)
        conn.execute(_LEASE, (until, holder, ids[0]))
    else:
        conn.executemany(_LEASE, [(until, holder, i) for i in ids])


_LEASE = "UPDATE outbox SET next_at = ?, claimed_by = ? WHERE id = ? AND status = 'queued'"


def release(conn: sqlite3.Connection, holder: str, now: str) -> int:
    """End every lease ``holder`` still has (it crashed, or stopped mid-send): those rows are
    due at ``now``. Leases of other holders stay. The number of rows released."""
    cur = conn.execute(
        "UPDATE outbox SET next_at = ?, claimed_by = NULL "
        "WHERE status = 'queued' AND claimed_by = ? AND next_at > ?", (now, holder, now))
    return cur.rowcount
