"""Logging: structlog configured once, console on a terminal, JSON otherwise, passwords redacted."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

SECRET_KEYS = re.compile(r"pass(word)?|pwd|\bpin\b|secret|otp", re.IGNORECASE)
SIX_DIGITS = re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])")
MASK = "******"


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return SIX_DIGITS.sub(MASK, value)
    if isinstance(value, dict):
        return {k: MASK if SECRET_KEYS.search(str(k)) else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v) for v in value)
    return value


def redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Mask values under password-like keys and any standalone 6-digit run in text.

    A 6-digit run is what a password looks like; msisdns (11 digits), amounts in fen and
    references are longer or shorter, so they survive. Over-masking is the safe side.
    """
    for key in list(event):
        if SECRET_KEYS.search(key) and key != "event":
            event[key] = MASK
        else:
            event[key] = _scrub(event[key])
    return event


def configure(level: str = "info", json: bool | None = None) -> None:
    """Configure structlog and the stdlib root logger; call once, at the edge (CLI, server)."""
    as_json = not sys.stderr.isatty() if json is None else json
    renderer: Any = (structlog.processors.JSONRenderer(ensure_ascii=False) if as_json
                     else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            redact,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=level.upper(), stream=sys.stderr, format="%(name)s %(message)s")
