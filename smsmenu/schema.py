"""Every table beyond the ledger's own: the menu engine's and the web portal's, created together."""

from __future__ import annotations

from smsmenu.states.engine import DDL as ENGINE_DDL
from smsmenu.web.schema import WEB_DDL

EXTRA_DDL = ENGINE_DDL + WEB_DDL
"""Passed as ``Ledger.open(..., extra_ddl=EXTRA_DDL)`` by the server and the CLI alike."""
