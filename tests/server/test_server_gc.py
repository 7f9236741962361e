"""The cyclic GC's tuning while a server runs, undone when the last one in the process stops."""

from __future__ import annotations

import gc

from smsmenu.server.main import GC_YOUNG, tuned_gc


def test_gc_is_tuned_while_serving_and_restored_after_the_last_server() -> None:
    before = gc.get_threshold()
    with tuned_gc():
        assert gc.get_threshold() == (GC_YOUNG, *before[1:])
        assert gc.get_freeze_count() > 0
        with tuned_gc():  # a second server in the same process (tests, tools)
            assert gc.get_threshold()[0] == GC_YOUNG
        assert gc.get_threshold()[0] == GC_YOUNG  # the first one still runs
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
