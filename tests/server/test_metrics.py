"""GET /metrics: Prometheus text with messages, recharges, step latency and reservations."""

from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestClient, TestServer

from ledger import Ledger
from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.metrics import Metrics
from smsmenu.core.settings import Settings
from smsmenu.core.types import TargetKind
from smsmenu.gateway.base import MockGateway, SendResult
from smsmenu.server.app import create_app
from tests.conftest import AGENT, TX

TOKEN = "metrics-test-api-token-01"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def _value(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name} missing from /metrics"
    return float(match.group(1))


async def test_metrics_count_messages_recharges_and_reservations(
        settings: Settings, ledger: Ledger, billing: BillingSimulator, clock: ManualClock,
        agent: dict[str, object]) -> None:
    """A recharge dialog over HTTP shows up in the counters; the gateway gauge reports it up."""
    gateway = MockGateway(lambda message: SendResult("m1"))
    app = create_app(settings.replace("api", token=(TOKEN,)), ledger, billing, [gateway], clock)
    async with TestClient(TestServer(app)) as client:
        for n, text in enumerate(["1", "2", "18900001111", "100", "1", TX]):
            response = await client.post("/api/sms", json={"from": AGENT, "text": text, "id": n},
                                         headers=BEARER)
            assert response.status == 200
        response = await client.get("/metrics")
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await response.text()
    assert _value(text, 'smsmenu_messages_in_total{channel="http"}') == 6
    assert _value(text, 'smsmenu_recharges_total{channel="http",kind="mobile",'
                        'outcome="succeeded"}') == 1
    assert _value(text, 'smsmenu_step_seconds_count{channel="http"}') == 6
    assert _value(text, "smsmenu_ledger_pending_reservations") == 0
    assert _value(text, 'smsmenu_gateway_up{gateway="mock",link=""}') == 1


async def test_oldest_pending_gauge_shows_an_unconfirmed_credit_by_age(
        settings: Settings, ledger: Ledger, billing: BillingSimulator, clock: ManualClock,
        agent: dict[str, object]) -> None:
    """A credit BOSS has not confirmed shows as pending, and its age grows with the clock."""
    app = create_app(settings.replace("api", token=(TOKEN,)), ledger, billing, [], clock)
    billing.timeout_next(1, applied=False)
    async with TestClient(TestServer(app)) as client:
        sent = await client.post("/api/sms", json={"from": AGENT, "id": "a",
                                                   "text": f"CZ*2*18900001111*100*{TX}"},
                                 headers=BEARER)
        assert sent.status == 200
        clock.advance(seconds=42)
        text = await (await client.get("/metrics")).text()
    assert _value(text, "smsmenu_ledger_pending_reservations") == 1
    assert _value(text, "smsmenu_ledger_oldest_pending_seconds") == 42
    assert _value(text, 'smsmenu_recharges_total{channel="http",kind="mobile",'
                        'outcome="pending"}') == 1


def test_labelled_children_are_reused_and_counted_as_prometheus_counts() -> None:
    """``labels`` finds a child it made before (the per-message fast path) and makes new ones,
    for any value type, as prometheus_client does; ``remove`` and ``clear`` still forget them."""
    metrics = Metrics()
    sms = metrics.messages_in.labels("sms")
    assert metrics.messages_in.labels("sms") is sms
    assert metrics.messages_in.labels(channel="sms") is sms
    sms.inc()
    metrics.messages_in.labels("sms").inc()
    metrics.step_seconds.labels("sms").observe(0.003)
    metrics.recharges.labels("succeeded", TargetKind.MOBILE, "sms").inc()
    metrics.recharges.labels(outcome="succeeded", kind="mobile", channel="sms").inc()
    text = metrics.render().decode()
    assert _value(text, 'smsmenu_messages_in_total{channel="sms"}') == 2
    assert _value(text, 'smsmenu_step_seconds_count{channel="sms"}') == 1
    assert _value(text, 'smsmenu_recharges_total{channel="sms",kind="mobile",'
                        'outcome="succeeded"}') == 2
    metrics.messages_in.remove("sms")
    assert metrics.messages_in.labels("sms") is not sms
    metrics.messages_in.clear()
    assert 'channel="sms"' not in metrics.render().decode().split("smsmenu_messages_out")[0]
    with pytest.raises(ValueError, match="label count"):
        metrics.messages_in.labels("sms", "extra")
