"""bench/cpu_per_mo.py end to end in short: both sides measured, every MO answered, sane figures."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "cpu_per_mo.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cpu_per_mo", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("cpu_per_mo", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.timeout(110)
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="CPU time is read from /proc")
async def test_cpu_per_mo_short(tmp_path: Path) -> None:
    """One short round of each side (no timed assertion): the figures exist and are positive,
    the server answered every MO its agents sent, and the ledger verifies."""
    bench = _bench()
    opts = bench.Options(window_s=1.0, windows=2, warmup=0.5, handsets=50, echo_window=50,
                         agents=10, server_window=10)  # fmt: skip
    result = await bench.run_async(opts, rounds=1, logs=tmp_path)
    for side in ("echo", "server"):
        figures = result[side]
        assert figures["windows"] == 2, figures
        assert figures["cpu_us_per_mo"] > 0 and figures["mo_per_s"] > 0, figures
        assert all(w["answered"] > 0 and w["cpu_s"] > 0 for r in figures["rounds"]
                   for w in r["windows"]), figures  # fmt: skip
    assert result["ratio"] > 0
    server = result["server"]["rounds"][0]
    assert server["mo_sent"] > 0 and server["mo_answered"] == server["mo_sent"], server
    assert result["answered_every_mo"] and result["verify_clean"], server
    assert "server/echo CPU per MO" in bench.table(result)


def test_cpu_seconds_reads_this_process() -> None:
    """utime + stime of a live process; they only grow."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("CPU time is read from /proc")
    bench = _bench()
    first = bench.cpu_seconds(os.getpid())
    sum(i * i for i in range(200_000))
    assert bench.cpu_seconds(os.getpid()) >= first >= 0
