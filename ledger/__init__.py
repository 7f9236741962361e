"""The embedded double-entry ledger and the agent business operations built on it."""

from __future__ import annotations

from ledger.service import Ledger

__all__ = ["Ledger"]
