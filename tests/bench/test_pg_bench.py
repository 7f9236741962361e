"""bench/pg_bench.py in short: the ledger and the bare-psycopg ceiling both measured on a durable
private cluster, every recharge succeeded, the books verify clean."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from pg import binaries

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _bench() -> ModuleType:
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location("pg_bench", BENCH / "pg_bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("pg_bench", module)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH))
    return module


@pytest.mark.slow
def test_pg_bench_measures_the_ledger_against_its_ceiling() -> None:
    """One level, short runs: both rates positive, a ratio, no failed recharge, verify clean."""
    if binaries() is None:
        pytest.skip("PostgreSQL is not installed (scripts/install-peers.sh installs it)")
    result = _bench().run(0.2, levels=(2,))
    row, = result["levels"]
    assert row["ops_per_s"] > 0 and row["ceiling_ops_per_s"] > 0
    assert 0 < row["ratio"] and row["not_succeeded"] == 0 and row["verify_clean"]
    assert "synchronous_commit=on" in result["server"]
