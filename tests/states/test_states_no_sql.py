"""The menu holds no SQL: its tables are read and written through ``ledger.store`` functions."""

from __future__ import annotations

import ast
import re
from pathlib import Path

STATES = Path(__file__).resolve().parents[2] / "smsmenu" / "states"
SQL = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH|PRAGMA|REPLACE|CREATE)\b", re.I)


def _sql_strings(path: Path) -> list[str]:
    """String constants that start like SQL; docstrings (prose) are not code and are skipped."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    prose = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    return [f"{path.name}:{node.lineno}: {node.value[:40]!r}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in prose and SQL.match(node.value)]


def test_no_module_under_states_holds_sql_text() -> None:
    """No string constant under smsmenu/states starts like an SQL statement."""
    modules = sorted(STATES.glob("*.py"))
    assert modules
    assert [hit for path in modules for hit in _sql_strings(path)] == []


def test_the_scan_sees_sql() -> None:
    """The scan itself finds a statement, however it is written (case, leading blanks)."""
    assert SQL.match("  select 1") and SQL.match("INSERT INTO x") and not SQL.match("selected")
