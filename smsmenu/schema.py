"""The application's tables are the ledger's migrations (``ledger/migrations``): nothing to add here."""

from __future__ import annotations

EXTRA_DDL = ""
"""Formerly the menu engine's and the web portal's DDL, passed as ``Ledger.open(...,
extra_ddl=EXTRA_DDL)``; those tables are versioned migrations now and ``extra_ddl`` is ignored.
Kept empty until no caller imports it."""
