"""Simulated peers for testers: SMSC, billing (BOSS), terminal phone, load generator."""

from __future__ import annotations
