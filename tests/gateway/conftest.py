"""Hypothesis profiles: ``HYPOTHESIS_PROFILE=chaos`` runs the property tests with 2,000 examples."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("chaos", max_examples=2000)
if os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])
