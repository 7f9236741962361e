"""bench/smgp_bench.py in short: SMGP round trips on both sides, every MO answered, a table."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _bench() -> ModuleType:
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location("smgp_bench", BENCH / "smgp_bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("smgp_bench", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_smgp_round_trips_short() -> None:
    """One short round of echo and engine over SMGP (no timed assertion): both answered MO,
    the engine's recharges verify, status reports were stored; the table reads."""
    bench = _bench()
    result = bench.round_trips(0.6, 5, 1, warmup=0.3)
    for side in ("echo", "engine"):
        assert result[side]["round_trips"] > 0 and result[side]["esme_cpu_us_per_mo"] > 0
    engine = result["engine"]
    assert engine["verify_clean"] and engine["recharges"] > 0 and engine["receipts_stored"] > 0
    cpu = {"cpu_us_per_mo": 300.0, "mo_per_s": 900.0, "busy": 1.0, "ratio": 2.5,
           "answered_every_mo": True, "verify_clean": True}  # fmt: skip
    text = bench.table({"round_trips": result,
                        "server_cpu": {"echo_cpu_us_per_mo": 120.0, "smgp": cpu, "smpp": cpu}})
    assert "SMGP engine/echo" in text and "SMPP " in text
