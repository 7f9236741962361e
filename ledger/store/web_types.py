"""The connection type the portal's transaction bodies take, so the web code imports no driver."""

from __future__ import annotations

import sqlite3
from typing import TypeAlias

Conn: TypeAlias = sqlite3.Connection
"""What the writer hands each operation (``ledger.store.writer``)."""
