"""The shared base every part may import: types, errors, clock, settings, texts, tokens."""

from __future__ import annotations
