"""Transports that turn wire messages into (msisdn, text) and back."""

from __future__ import annotations

from smsmenu.gateway.base import Gateway, MockGateway, Outbound, SendResult

__all__ = ["Gateway", "MockGateway", "Outbound", "SendResult"]
