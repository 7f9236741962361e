"""The portal holds no SQL: its statements live behind the storage boundary (ledger/store)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import smsmenu.web

WEB = Path(smsmenu.web.__file__).parent
SQL = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|PRAGMA)\s+\S", re.IGNORECASE)
TABLE = re.compile(r"\b(FROM|INTO|UPDATE|JOIN)\s+web_\w+", re.IGNORECASE)
"""SQL split across f-string pieces still names a table after one of these words."""


def _modules() -> list[Path]:
    return sorted(WEB.rglob("*.py"))


def _sql_strings(tree: ast.AST) -> list[str]:
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and (SQL.match(node.value) or TABLE.search(node.value))]


def test_the_scan_sees_sql() -> None:
    """The check itself finds a statement, also one in an f-string or after whitespace."""
    tree = ast.parse('x = f"""\n  select a FROM web_rate WHERE b = {c}"""\ny = "Pragma foo"')
    assert len(_sql_strings(tree)) == 2
    assert _sql_strings(ast.parse('x = "Selected agents"; y = "withdraw"; z = "create"')) == []


def test_no_sql_text_in_the_web_modules() -> None:
    """No string constant in smsmenu/web/*.py looks like SQL."""
    assert len(_modules()) > 20
    found = {path.name: hits for path in _modules()
             if (hits := _sql_strings(ast.parse(path.read_text("utf-8"))))}
    assert found == {}


def test_no_database_driver_in_the_web_modules() -> None:
    """The web modules import no sqlite3: connections are typed ``ledger.store.Conn``."""
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] != "sqlite3" for a in node.names), path.name
            elif isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[0] != "sqlite3", path.name
