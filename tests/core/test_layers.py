"""The house's layers hold literally: each part imports only what ARCHITECTURE.md allows it."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SIMULATORS = "smsmenu/server/simulators.py"


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every module ``path`` imports (TYPE_CHECKING and function-level imports included)."""
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module


def breaches(folder: str, allowed: tuple[str, ...], watched: tuple[str, ...]) -> list[str]:
    """Imports from ``folder`` of a ``watched`` package that no ``allowed`` prefix covers."""
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for line, module in imports(path):
            top = module.split(".")[0]
            if top in watched and not any(module == a or module.startswith(a + ".")
                                          for a in allowed):
                found.append(f"{rel}:{line} imports {module}")
    return found


PARTS = ("smsmenu", "ledger", "simulator")


@pytest.mark.parametrize(("folder", "allowed"), [
    pytest.param("smsmenu/core", ("smsmenu.core",), id="core-imports-only-itself"),
    pytest.param("ledger", ("ledger", "smsmenu.core"), id="ledger-knows-no-server"),
    pytest.param("simulator", ("simulator", "ledger", "smsmenu.core", "smsmenu.gateway",
                               "smsmenu.states.notices"), id="simulators-import-no-server"),
    pytest.param("smsmenu/web", ("smsmenu.web", "smsmenu.core", "ledger"),
                 id="web-imports-core-and-ledger"),
    pytest.param("smsmenu/gateway", ("smsmenu.gateway", "smsmenu.core", "ledger.numberplan"),
                 id="transports-know-no-menu-nor-server"),
    pytest.param("smsmenu/card", ("smsmenu.card", "smsmenu.core", "ledger"),
                 id="card-push-imports-core-and-ledger"),
])
def test_part_imports_only_what_it_may(folder: str, allowed: tuple[str, ...]) -> None:
    """No import of a part runs against the layers (the list names each breach)."""
    assert breaches(folder, allowed, PARTS) == []


@pytest.mark.parametrize("module", [
    pytest.param("smsmenu.core.texts", id="ledger-holds-no-words"),
])
def test_the_ledger_imports_no_app_module(module: str) -> None:
    """The ledger emits events (``ledger.events``); the words are the notifier's, outside it."""
    found = [f"{path.relative_to(ROOT)}:{line}" for path in sorted((ROOT / "ledger").rglob("*.py"))
             for line, name in imports(path) if name == module or name.startswith(module + ".")]
    assert found == []


@pytest.mark.parametrize(("package", "importers"), [
    pytest.param("smsmenu.cli", ("smsmenu/cli", "smsmenu/__main__.py"), id="cli-is-the-top"),
    pytest.param("smsmenu.server", ("smsmenu/server", "smsmenu/cli"), id="server-below-cli-only"),
])
def test_upper_parts_are_imported_only_from_above(package: str, importers: tuple[str, ...]) -> None:
    """Nothing in ``smsmenu``, ``ledger`` or ``simulator`` below a part imports it."""
    found = []
    for part in PARTS:
        for b in breaches(part, ("smsmenu.core",), ("smsmenu",)):
            module = b.rsplit(" imports ", 1)[1]
            if (module == package or module.startswith(package + ".")) and not b.startswith(
                    importers):
                found.append(b)
    assert found == []


def test_only_one_module_of_the_server_imports_the_simulators() -> None:
    """``smsmenu/server/simulators.py`` is the only importer of ``simulator`` in ``smsmenu/``."""
    found = [b for b in breaches("smsmenu", ("smsmenu", "ledger"), ("simulator",))
             if not b.startswith(SIMULATORS)]
    assert found == []


def test_a_production_server_loads_no_simulator() -> None:
    """Importing the server, the CLI and wiring a production billing client loads no simulator."""
    probe = ("import sys\n"
             "import smsmenu.cli.entry, smsmenu.server.main as m\n"
             "from smsmenu.core.clock import SystemClock\n"
             "from smsmenu.core.settings import load_settings\n"
             "s = load_settings(env={}).replace('billing', mode='http', url='http://127.0.0.1:9')\n"
             "m.make_billing(s, SystemClock('Asia/Shanghai'))\n"
             "print(sorted(n for n in sys.modules if n.split('.')[0] == 'simulator'))\n")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, check=True, env={"PATH": "/usr/bin:/bin",
                                                     "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "[]", out.stderr


SQL = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|WITH|CREATE|DROP|ALTER|PRAGMA|BEGIN)\b")
"""A statement's first word, upper case as this project writes SQL (prose never shouts it)."""


def sql_texts(folder: str) -> list[str]:
    """String constants under ``folder`` that read as SQL statements."""
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and SQL.match(node.value):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:40]!r}")
    return found


@pytest.mark.parametrize("folder", ["smsmenu", "simulator"])
def test_no_sql_outside_the_storage_boundary(folder: str) -> None:
    """Every SQL statement of the system is in ``ledger/`` (``ledger/store`` for the app's tables)."""
    assert sql_texts(folder) == []


def test_the_sql_finder_finds_sql() -> None:
    """The scan above would see a statement (it reads this tree's own store modules)."""
    assert len(sql_texts("ledger/store")) > 20


def test_callers_run_their_steps_through_typed_transactions() -> None:
    """Outside ``ledger/`` no code calls ``Ledger.op(fn, **kw)`` (the ledger's own escape hatch):
    a caller's step goes through ``Ledger.transaction(step)`` or a typed method."""
    found = []
    for folder in ("smsmenu", "simulator"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                        and node.func.attr == "op":
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []
