"""Prometheus metrics of one server: messages, recharges (every channel), deposits, reversals,
step latency, binds, reservations."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, cast

import prometheus_client
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from smsmenu.core.types import Health


class Reporting(Protocol):
    """What the scrape-time gauges read of a transport (``gateway.base.Gateway`` is one)."""

    name: str

    def health(self) -> Health: ...

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _child(metric: prometheus_client.metrics.MetricWrapperBase, values: tuple[object, ...]) -> Any:
    """The existing child for label values given as ``str``, read straight off the parent's
    map of children (prometheus_client keys it by the values' ``str``); else None."""
    for value in values:
        if type(value) is not str:
            return None
    return metric._metrics.get(cast("tuple[str, ...]", values))


class Counter(prometheus_client.Counter):
    """A ``Counter`` whose ``labels`` finds a child it already made without validation or lock
    (about a third of the cost, on every message); new label values go the usual way."""

    def labels(self, *labelvalues: object, **labelkwargs: object) -> Counter:
        return (None if labelkwargs else _child(self, labelvalues)) or super().labels(
            *labelvalues, **labelkwargs)


class Histogram(prometheus_client.Histogram):
    """A ``Histogram`` with the ``labels`` of ``Counter`` above."""

    def labels(self, *labelvalues: object, **labelkwargs: object) -> Histogram:
        return (None if labelkwargs else _child(self, labelvalues)) or super().labels(
            *labelvalues, **labelkwargs)


class _Live(Collector):
    """Gauges read at scrape time: SMPP binds and window use, pending ledger reservations."""

    def __init__(self, gateways: Callable[[], Sequence[Reporting]], pending: Callable[[], int],
                 oldest: Callable[[], float]) -> None:
        self._gateways = gateways
        self._pending = pending
        self._oldest = oldest

    def collect(self) -> Iterable[GaugeMetricFamily]:
        bound = GaugeMetricFamily("smsmenu_gateway_up", "1 when the transport is bound/up",
                                  labels=["gateway", "link"])
        window = GaugeMetricFamily("smsmenu_smpp_window_in_use",
                                   "submit_sm awaiting their response", labels=["gateway", "link"])
        for gateway in self._gateways():
            health = gateway.health()
            for link in health.links:
                bound.add_metric([gateway.name, link.name], float(link.bound))
                window.add_metric([gateway.name, link.name], float(link.in_flight))
            if not health.links:
                bound.add_metric([gateway.name, ""], float(health.bound))
        yield bound
        yield window
        pending = GaugeMetricFamily("smsmenu_ledger_pending_reservations",
                                    "recharges and reversals waiting for billing's answer")
        pending.add_metric([], float(self._pending()))
        yield pending
        oldest = GaugeMetricFamily("smsmenu_ledger_oldest_pending_seconds",
                                   "age of the oldest reservation BOSS has not confirmed "
                                   "(0: none); alert when it passes [billing] give_up_after_s")
        oldest.add_metric([], self._oldest())
        yield oldest


class Metrics:
    """One registry per server (no globals), so tests and several servers never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.messages_in = Counter("smsmenu_messages_in", "messages received, by channel",
                                   ["channel"], registry=self.registry)
        self.messages_out = Counter("smsmenu_messages_out", "messages handed to a transport",
                                    ["gateway"], registry=self.registry)
        self.recharges = Counter(
            "smsmenu_recharges", "recharges billing answered (or left pending), by outcome, kind "
            "and channel (sms, ussd, http, web, ...)", ["outcome", "kind", "channel"],
            registry=self.registry)
        self.deposits = Counter(
            "smsmenu_deposits", "deposits (counter R-8, online R-9) by channel and outcome "
            "(succeeded, refused)", ["channel", "outcome"], registry=self.registry)
        self.deposited_fen = Counter("smsmenu_deposited_fen", "fen deposited, by channel",
                                     ["channel"], registry=self.registry)
        self.reversals = Counter(
            "smsmenu_reversals", "reversals by outcome (succeeded, failed, pending, refused)",
            ["outcome"], registry=self.registry)
        self.step_seconds = Histogram(
            "smsmenu_step_seconds", "time to handle one message, commit included",
            ["channel"], registry=self.registry,
            buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0))
        self.pending = 0
        self.oldest_pending_s = 0.0

    def watch(self, gateways: Callable[[], Sequence[Reporting]]) -> None:
        """Add the scrape-time gauges; ``gateways`` lists the transports to report."""
        self.registry.register(_Live(gateways, lambda: self.pending,
                                     lambda: self.oldest_pending_s))

    def render(self) -> bytes:
        return generate_latest(self.registry)
