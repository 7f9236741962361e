"""Gateways are asked through their declared interface (bound, health), never probed with getattr/hasattr."""

from __future__ import annotations

import ast
from pathlib import Path

from smsmenu.core.metrics import Metrics
from smsmenu.core.types import Reply
from smsmenu.gateway.base import Gateway, Health, LinkHealth, MockGateway, SendResult

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [*sorted((ROOT / "smsmenu").rglob("*.py")), *sorted((ROOT / "ledger").rglob("*.py"))]
INTERFACE = {"bound", "health", "in_flight", "links"}
"""What ``Gateway`` declares for its state (and its ``Health`` carries): asked for, never probed."""


def probes(path: Path) -> list[str]:
    """``getattr(x, "bound", ...)``, ``hasattr(x, "health")``... in one module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "hasattr") and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant) and node.args[1].value in INTERFACE):
            found.append(f"{path}:{node.lineno} {node.func.id}({node.args[1].value!r})")
    return found


def test_no_module_probes_a_gateway_with_getattr_or_hasattr() -> None:
    """dispatch, readiness, metrics and the app read ``bound``/``health`` off the ``Gateway``."""
    assert len(SOURCES) > 50
    assert [hit for path in SOURCES for hit in probes(path)] == []


def test_the_probe_finder_finds_a_probe(tmp_path: Path) -> None:
    """The scan above would see the probes it forbids."""
    module = tmp_path / "probing.py"
    module.write_text('def f(g):\n    return getattr(g, "bound", True) and hasattr(g, "health")\n',
                      "utf-8")
    assert len(probes(module)) == 2


async def test_a_gateway_without_a_connection_is_bound_and_says_so() -> None:
    """The defaults every transport inherits: bound, and a health of just that."""

    async def accept(message: Reply) -> SendResult:
        return SendResult("m1")

    gateway = MockGateway(accept)
    assert gateway.bound is True
    assert gateway.health() == Health(bound=True)
    assert await gateway.send(Reply("18900000001", "hi")) == SendResult("m1")


class Down(Gateway):
    """A transport with two links, one of them down."""

    name = "down"

    @property
    def bound(self) -> bool:
        return False

    def health(self) -> Health:
        return Health(False, 3, (LinkHealth("a@smsc:1", False, 0), LinkHealth("b@smsc:2", True, 3)))

    async def send(self, message: Reply) -> SendResult:
        raise AssertionError("not bound")


def test_metrics_report_each_link_of_a_gateway() -> None:
    """/metrics: one ``smsmenu_gateway_up`` and window gauge per link of a gateway's health
    (before, an SMPP gateway's links were never reported: its health was probed as a dict)."""
    metrics = Metrics()
    gateways: list[Gateway] = [Down()]
    metrics.watch(lambda: gateways)
    text = metrics.render().decode()
    assert 'smsmenu_gateway_up{gateway="down",link="a@smsc:1"} 0.0' in text
    assert 'smsmenu_gateway_up{gateway="down",link="b@smsc:2"} 1.0' in text
    assert 'smsmenu_smpp_window_in_use{gateway="down",link="b@smsc:2"} 3.0' in text
