"""The connection type the portal's transaction bodies take, so the web code imports no driver."""

from __future__ import annotations

from ledger.store import Conn

__all__ = ["Conn"]
