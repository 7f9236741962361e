"""The menu uses the ledger's public surface only: no posting, outbox or writer internals."""

from __future__ import annotations

import ast
from pathlib import Path

STATES = Path(__file__).resolve().parents[2] / "smsmenu" / "states"
PUBLIC = {"ledger", "ledger.api", "ledger.events", "ledger.inside", "ledger.money",
          "ledger.numberplan", "ledger.store.card_counters", "ledger.store.menu_inbox",
          "ledger.store.menu_sessions"}
"""``ledger`` (the ``Ledger`` class), its types, the events it emits (worded by
``states/notices.py``), the in-transaction operations, money formatting, the number plan (the
engine cleans senders by it), and the store functions of the menu's own tables."""


def _ledger_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ledger"):
            base = node.module
            packages = ("ledger", "ledger.store")  # ``from ledger import money``: a module
            found += [f"{base}.{a.name}" if base in packages and a.name != "Ledger" else base
                      for a in node.names]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("ledger")]
    return found


def test_states_import_only_the_ledgers_public_modules() -> None:
    """Every ``ledger`` import under smsmenu/states names a public module (see ``PUBLIC``)."""
    used = {(path.name, name) for path in sorted(STATES.glob("*.py"))
            for name in _ledger_imports(path)}
    assert used
    assert sorted((m, n) for m, n in used if n not in PUBLIC) == []
