"""The storage boundary: the transaction runner, the schema and its migrations, and the SQL of every part."""

from __future__ import annotations

import sqlite3
from typing import TypeAlias

Conn: TypeAlias = sqlite3.Connection
"""The connection the writer hands each transaction body (``ledger.store.writer``); callers outside
the store pass it on to store functions and never run SQL on it."""
