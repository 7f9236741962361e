"""The storage boundary: the transaction runner, the schema and its migrations, and the SQL of every part."""

from __future__ import annotations
