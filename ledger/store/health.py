"""What the server asks the database about itself: alive, empty, reservations pending."""

from __future__ import annotations

from ledger.store.queries import Query


def _count(sql: str) -> Query[int]:
    return Query(sql, (), lambda rows: int(rows[0][0]) if rows else 0)


def ping() -> Query[int]:
    """A read that touches no table: the reader answers."""
    return _count("SELECT 1")


def agent_count() -> Query[int]:
    """Agents ever opened (the demo seeds an empty database only)."""
    return _count("SELECT COUNT(*) FROM agents")


def pending_reservations() -> Query[int]:
    """Reservations (transfers) still pending: the metric scraped with ``/metrics``."""
    return _count("SELECT COUNT(*) FROM transfers WHERE state = 'pending'")
