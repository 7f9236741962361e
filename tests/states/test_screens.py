"""Every screen fits one SMS (70 UCS2 characters in zh), and the transcripts show every screen."""

from __future__ import annotations

import re
import string
from typing import Any

import pytest
from states_support import TRANSCRIPTS, MakeRig, transcript_files

from ledger import money
from ledger.numberplan import NumberPlan
from simulator.transcript import parse, play
from smsmenu.core.texts import Texts
from smsmenu.core.types import TargetKind
from smsmenu.states.checks import PAGE

TEXTS = Texts.load()
LIMIT = {"zh": 70, "en": 160}
"""One SMS: 70 UCS2 characters (any Chinese text), 160 GSM 7-bit characters (plain English)."""
LONGEST = "071287654321"
"""A PHS number with a 4-digit Hubei area code and an 8-digit local number: the longest target."""


def _keys(node: dict[str, Any], prefix: str) -> list[str]:
    out: list[str] = []
    for key, value in node.items():
        out += _keys(value, f"{prefix}{key}.") if isinstance(value, dict) else [prefix + key]
    return out


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def worst_case(lang: str) -> dict[str, str]:
    """The longest realistic value of every screen field: 1000 yuan to the longest number."""
    assert NumberPlan.load_default().validate(TargetKind.PHS, LONGEST) == LONGEST
    item = TEXTS.render(lang, "menu.retry_item", n=PAGE, kind=TEXTS.render(lang, "kind.phs"),
                        target=LONGEST, amount=money.format_yuan(100_000))
    status = max(TEXTS.tables[lang]["record_status"].values(), key=len)
    record = TEXTS.render(lang, "menu.record_item", at="12-31", target=LONGEST, amount="1000",
                          status=status)
    return {"target": LONGEST, "amount": money.format_yuan(100_000), "at": "12-31",
            "status": status,
            "records": "\n".join([record] * PAGE),
            "charge": money.format_yuan(98_000), "balance": money.format_yuan(9_999_999),
            "available": money.format_yuan(9_999_999), "items": "\n".join([item] * PAGE),
            "more": TEXTS.render(lang, "menu.more"), "n": str(PAGE), "id": "1234567",
            "counter": "9999999999"}


def screens(lang: str) -> list[tuple[str, str]]:
    """Every ``[menu]`` text rendered with worst-case values, once per kind name it can show."""
    out = []
    for key in _keys(TEXTS.tables[lang]["menu"], "menu."):
        template = TEXTS.get(lang, key)
        section = "kind_menu" if key == "menu.confirm" else "kind"
        for kind in TargetKind if "kind" in _fields(template) else [TargetKind.MOBILE]:
            values = {**worst_case(lang), "kind": TEXTS.render(lang, f"{section}.{kind}")}
            if key in ("menu.records", "menu.records_line"):
                values["items"] = values["records"]
            out.append((f"{key}[{kind}]", template.format(**values)))
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_menu_screen_fits_one_sms(lang: str) -> None:
    """R-13 max amount, longest number, a full retry page: each screen is still one SMS."""
    too_long = {key: (len(text), text) for key, text in screens(lang) if len(text) > LIMIT[lang]}
    assert not too_long


TYPICAL = {"kind": "固话", "target": "02787654321", "amount": "100.00", "commission": "2.00",
           "charge": "98.00", "balance": "402.00", "reference": "RC0000000002", "id": "12",
           "reason": "计费系统拒绝", "time": "11-10 10:00", "which": "交易密码"}


@pytest.mark.parametrize("values", [
    pytest.param(TYPICAL, id="typical-100-yuan"),
    pytest.param({**TYPICAL, "amount": "1000.00", "commission": "20.00", "charge": "980.00",
                  "balance": "1020.00"}, id="1000-yuan"),
])
def test_recharge_receipts_fit_one_sms_in_zh(values: dict[str, str]) -> None:
    """The agent's receipt, the failure notice and the customer notice are one SMS each."""
    for key in ("notice.recharge_ok", "notice.recharge_failed", "notice.recharge_pending",
                "notice.customer", "notice.password_changed"):
        text = TEXTS.render("zh", key, **values)
        assert len(text) <= LIMIT["zh"], (key, len(text), text)


async def test_every_reply_of_the_zh_transcripts_fits_one_sms(make_rig: MakeRig) -> None:
    """Error line plus screen, receipts, notices: every real reply in zh is at most 70 characters."""
    too_long: list[tuple[str, int, str]] = []
    for path in (TRANSCRIPTS / "zh").glob("*.txt"):
        rig = await make_rig(name=path.stem)

        async def send(number: str, text: str, rig: Any = rig, name: str = path.name
                       ) -> list[tuple[str, str]]:
            replies: list[tuple[str, str]] = await rig.send(number, text)
            too_long.extend((name, len(t), t) for _, t in replies if len(t) > LIMIT["zh"])
            return replies
        await play(path.read_text("utf-8"), send, rig.directive)
    assert not too_long


def test_the_transcripts_show_every_menu_screen() -> None:
    """Each ``[menu]`` text appears in some zh transcript (``processing``, ``pending_note``,
    ``settled_note``: only after a crash, shown by test_engine_restart)."""
    replies = [s.text for p in transcript_files() if p.parent.name == "zh"
               for s in parse(p.read_text("utf-8")).steps if s.op == "expect"]
    unseen = []
    for key in _keys(TEXTS.tables["zh"]["menu"], "menu."):
        template = TEXTS.get("zh", key)
        pattern = re.compile("".join(
            re.escape(literal) + ("(?s:.+?)" if field else "")
            for literal, field, _, _ in string.Formatter().parse(template)))
        after_crash = key in ("menu.processing", "menu.pending_note", "menu.settled_note")
        if not after_crash and not any(pattern.search(r) for r in replies):
            unseen.append(key)
    assert not unseen
