"""Golden transcripts: every path of the menu in zh and en, one file each, run through the engine."""

from __future__ import annotations

import pytest
from states_support import TRANSCRIPTS, MakeRig, transcript_files

from simulator.transcript import play

pytestmark = pytest.mark.both_engines


@pytest.mark.parametrize(("lang", "source"), [
    pytest.param(p.parent.name, p.read_text("utf-8"), id=f"{p.parent.name}/{p.name}")
    for p in transcript_files()])
async def test_transcript(lang: str, source: str, make_rig: MakeRig) -> None:
    """The engine answers exactly as the transcript says, and the books balance afterwards."""
    rig = await make_rig(lang=lang)
    await play(source, rig.send, rig.directive)
    breaches = await rig.ledger.verify()
    assert not any(breaches.values()), breaches


def test_every_transcript_exists_in_both_languages() -> None:
    """zh and en hold the same transcripts, so every path is checked in both languages."""
    names = {lang: {p.name for p in (TRANSCRIPTS / lang).glob("*.txt")} for lang in ("zh", "en")}
    assert names["zh"] == names["en"]
    assert len(names["zh"]) >= 20
