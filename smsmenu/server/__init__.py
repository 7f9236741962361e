"""The server process: wiring, listeners, the HTTP app, dispatch, modes and the embedded simulators."""

from __future__ import annotations
