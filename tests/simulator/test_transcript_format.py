"""The transcript format itself: parsing, wildcards, readable mismatches and the recorder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulator.transcript import (
    Send,
    TranscriptError,
    TranscriptMismatch,
    parse,
    play,
    record,
)

ME, CUSTOMER = "18912345678", "18012345678"


def canned(*answers: list[tuple[str, str]]) -> tuple[Send, list[tuple[str, str]]]:
    """A ``send`` that answers each message with the next canned reply list; logs what was sent."""
    sent: list[tuple[str, str]] = []
    it: Iterator[list[tuple[str, str]]] = iter(answers)

    async def send(number: str, text: str) -> list[tuple[str, str]]:
        sent.append((number, text))
        return next(it)
    return send, sent


def test_parse_reads_every_kind_of_line() -> None:
    """Headers, comments, sends (own and other handset), multi-line replies, notices, directives."""
    script = parse("# hello\n@agent 18912345678\n@lang en\n\n> 1\n< line one\n< line two\n<\n"
                   "< after empty\n<@18012345678 notice\n< second reply\n\n< third reply\n"
                   ">18900000002 CZ*1\n! clock +181s\n")
    assert script.agent == ME and script.headers == {"agent": ME, "lang": "en"}
    assert [(s.line, s.op, s.number, s.text) for s in script.steps] == [
        (5, "send", ME, "1"),
        (6, "expect", ME, "line one\nline two\n\nafter empty"),
        (10, "expect", CUSTOMER, "notice"),
        (11, "expect", ME, "second reply"),
        (13, "expect", ME, "third reply"),
        (14, "send", "18900000002", "CZ*1"),
        (15, "directive", "", "clock +181s"),
    ]


@pytest.mark.parametrize("line", [
    pytest.param("? what", id="unknown-prefix"),
    pytest.param(">>1", id="double-send"),
    pytest.param("!", id="empty-directive"),
    pytest.param("<@abc hi", id="non-digit-addressee"),
    pytest.param("@agent", id="header-without-value"),
])
def test_parse_refuses_unreadable_lines_with_their_number(line: str) -> None:
    """A line of no known form is an error naming its line number."""
    with pytest.raises(TranscriptError, match="line 3"):
        parse(f"@agent {ME}\n\n{line}\n")


async def test_named_wildcards_bind_and_are_substituted_into_sends() -> None:
    """``{ref}`` binds on first match, must match the same value later, and fills ``>`` lines."""
    send, sent = canned([(ME, "ok ref RC1 id 7")], [(ME, "again RC1")])
    bound = await play(f"@agent {ME}\n> go\n< ok ref {{ref}} id {{id}}\n> CF*{{id}}\n"
                       "< again {ref}\n", send)
    assert bound == {"ref": "RC1", "id": "7"} and sent[1] == (ME, "CF*7")


async def test_a_named_wildcard_must_keep_its_value() -> None:
    """The same name matching another value later is a mismatch."""
    send, _ = canned([(ME, "ref RC1")], [(ME, "ref RC2")])
    with pytest.raises(TranscriptMismatch) as exc:
        await play(f"@agent {ME}\n> a\n< ref {{ref}}\n> b\n< ref {{ref}}\n", send)
    assert exc.value.line == 5


async def test_anonymous_wildcards_and_literal_braces() -> None:
    """``{}`` matches without binding; ``{{`` and ``}}`` are literal braces; no newline is spanned."""
    send, _ = canned([(ME, "at 10:00 {x}")], [(ME, "a\nb")])
    assert await play(f"@agent {ME}\n> a\n< at {{}} {{{{x}}}}\n> b\n< a\n< b\n", send) == {}
    send, _ = canned([(ME, "a\nb")])
    with pytest.raises(TranscriptMismatch):
        await play(f"@agent {ME}\n> a\n< {{}}\n", send)


async def test_replies_are_matched_per_addressee_in_order() -> None:
    """A notice may be written before the agent's reply; each number's replies keep their order."""
    send, _ = canned([(ME, "receipt"), (CUSTOMER, "n1"), (CUSTOMER, "n2")])
    await play(f"@agent {ME}\n> pay\n<@{CUSTOMER} n1\n< receipt\n\n<@{CUSTOMER} n2\n", send)


async def test_a_different_reply_raises_a_readable_diff() -> None:
    """The error names the line, the sending line, and shows expected, got and a diff."""
    send, _ = canned([(ME, "充值\n1固定电话\n0返回")])
    with pytest.raises(TranscriptMismatch) as exc:
        await play(f"@agent {ME}\n# walk\n> 1\n< 充值\n< 1固定电话\n< 00返回\n", send)
    text = str(exc.value)
    assert exc.value.line == 4 and "line 4: reply differs to 18912345678" in text
    assert "message sent at line 3" in text
    assert "--- expected\n< 充值\n< 1固定电话\n< 00返回\n+++ got\n< 充值\n< 1固定电话\n< 0返回" in text
    assert "--- diff\n  < 充值\n  < 1固定电话\n- < 00返回\n" in text and "\n+ < 0返回" in text


async def test_a_missing_reply_shows_what_came_instead() -> None:
    """Expecting a reply to a number that got none says so and lists the pending replies."""
    send, _ = canned([(ME, "receipt")])
    with pytest.raises(TranscriptMismatch, match=r"(?s)no reply to 18012345678.*< receipt"):
        await play(f"@agent {ME}\n> pay\n<@{CUSTOMER} notice\n", send)


@pytest.mark.parametrize("source", [
    pytest.param(f"@agent {ME}\n> a\n> b\n", id="before-next-send"),
    pytest.param(f"@agent {ME}\n> a\n! clock +1s\n", id="before-directive"),
    pytest.param(f"@agent {ME}\n> a\n", id="at-end"),
])
async def test_an_unexpected_reply_is_a_mismatch(source: str) -> None:
    """Every reply must be in the transcript: left-overs fail before the next step or at the end."""
    send, _ = canned([(ME, "surprise")], [])

    async def directive(_: str) -> None:
        return None
    with pytest.raises(TranscriptMismatch, match="reply not in the transcript"):
        await play(source, send, directive)


async def test_directives_go_to_the_callback_and_need_one() -> None:
    """``! text`` is handed over as written; without a handler it is an error."""
    seen: list[str] = []

    async def directive(text: str) -> None:
        seen.append(text)
    send, _ = canned()
    await play(f"@agent {ME}\n! billing timeout 1 applied\n!restart\n", send, directive)
    assert seen == ["billing timeout 1 applied", "restart"]
    with pytest.raises(TranscriptError, match="line 2"):
        await play(f"@agent {ME}\n! restart\n", send)


async def test_an_unbound_field_in_a_send_is_an_error() -> None:
    """``> CF*{id}`` before any reply bound ``id`` cannot be sent."""
    send, _ = canned()
    with pytest.raises(TranscriptError, match="id"):
        await play(f"@agent {ME}\n> CF*{{id}}\n", send)


async def test_record_writes_a_transcript_that_plays_back() -> None:
    """``record`` gives the documented layout (braces escaped) and its output replays exactly."""
    exchanges: list[tuple[str | tuple[str, str], list[tuple[str, str]]]] = [
        ("1", [(ME, "充值\n0返回")]),
        ("123456", [(ME, "main"), (ME, "notice {x}"), (CUSTOMER, "hi")]),
        (("18900009999", "1"), [("18900009999", "not an agent")]),
    ]
    text = record(exchanges, ME)
    assert text == (f"@agent {ME}\n\n> 1\n< 充值\n< 0返回\n\n> 123456\n< main\n\n< notice {{{{x}}}}\n"
                    f"<@{CUSTOMER} hi\n\n>18900009999 1\n<@18900009999 not an agent\n")
    send, sent = canned(*(replies for _, replies in exchanges))
    await play(text, send)
    assert sent == [(ME, "1"), (ME, "123456"), ("18900009999", "1")]
