"""The ``smsmenu`` command line: one module per command group."""

from __future__ import annotations

from smsmenu.cli.entry import main

__all__ = ["main"]
