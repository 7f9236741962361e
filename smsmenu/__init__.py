"""smsmenu: an air-recharge platform driven by an SMS menu over SMPP."""

from __future__ import annotations

__version__ = "0.1.0"
