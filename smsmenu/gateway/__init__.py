"""Transports that turn wire messages into (msisdn, text) and back."""

from __future__ import annotations

from smsmenu.gateway.base import FunctionHandler, Gateway, Health, MockGateway, SendResult

__all__ = ["FunctionHandler", "Gateway", "Health", "MockGateway", "SendResult"]
