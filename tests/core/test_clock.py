"""Stored timestamps: ``from_iso`` reads what ``iso`` writes, and refuses what strptime refused."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsmenu.core.clock import from_iso, iso

FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def by_strptime(text: str) -> dt.datetime | type[Exception]:
    """What ``from_iso`` answered before it had a fast path: the reference."""
    try:
        return dt.datetime.strptime(text, FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        return ValueError


def by_from_iso(text: str) -> dt.datetime | type[Exception]:
    try:
        return from_iso(text)
    except ValueError:
        return ValueError


@given(st.datetimes(min_value=dt.datetime(1000, 1, 1), timezones=st.just(dt.UTC)))
def test_reads_back_what_iso_wrote(when: dt.datetime) -> None:
    parsed = from_iso(iso(when))
    assert parsed == when and parsed.tzinfo is dt.UTC


STORED = "2026-11-10T02:00:00.123456Z"


@pytest.mark.parametrize("text", [
    STORED, "2026-1-5T1:2:3.4Z", "2026-11-10T02:00:00Z", "2026-11-10 02:00:00.123456Z",
    "2026-11-10T02:00:00,123456Z", "2026-11-10T02:00:00.123456+00:00", "20261110T020000.123456Z",
    "2026-02-30T02:00:00.123456Z", "2026-11-10T24:00:00.123456Z", "2026-11-10T02:00:60.123456Z",
    "２０２６-11-10T02:00:00.123456Z", "2026-11-10T02:00:00.12345Z ", "2026-11-10T02:00:00.1234567Z",
    "2026-11-10t02:00:00.123456Z", "2026-11-10T02:00:00.123456z", "", "Z",
])  # fmt: skip
def test_same_answer_as_strptime(text: str) -> None:
    """Accepted and refused as before: other forms than ``iso``'s go to strptime itself."""
    assert by_from_iso(text) == by_strptime(text)


@given(st.lists(st.tuples(st.integers(0, 30), st.sampled_from("0123456789-T:.Z ,+٣２x")),
                min_size=1, max_size=4))  # fmt: skip
def test_same_answer_as_strptime_for_mutated_stamps(edits: list[tuple[int, str]]) -> None:
    text = list(STORED)
    for at, char in edits:
        if at < len(text):
            text[at] = char
        else:
            text.append(char)
    assert by_from_iso("".join(text)) == by_strptime("".join(text))
