"""Transcripts: readable files of messages sent and replies expected, a parser, a player and a recorder.

Format, one instruction per line (trailing blanks are ignored)::

    @agent 18912345678     header: the default handset (``@key value`` headers are kept for the caller)
    @mode card             header: card mode (``>`` is a key on the UTK card, ``<`` also its screens)
    # a comment            ignored, like blank lines
    > 1                    the agent sends "1"
    >18900009999 1         another handset sends "1" (``>`` alone sends an empty text)
    < 充值成功 ... 单号{ref}  the next reply to the agent is this text
    <@18012345678 ...      the next reply (a notice) to 18012345678 is this text
    ! clock +181s          a directive for the test rig, passed as written to the directive callback

A reply is a block of consecutive ``<`` lines with the same addressee, one line of the reply each
(joined with "\\n"); any other line, a blank one included, ends the block, so two replies to the
same number in a row are two blocks separated by a blank line. ``<`` alone is an empty line.

In expected text ``{name}`` matches a non-empty run of characters within one line; the first
match binds ``name`` and every later ``{name}`` (in replies, or in a ``>`` line, where it is
replaced) must be that same value; ``{}`` matches without binding; ``{{`` and ``}}`` are braces.

Replies are matched per addressee in order: ``<`` takes the first pending reply to the agent and
``<@N`` the first pending reply to N. Every reply must be expected before the next ``>`` or ``!``
and at the end. The player raises ``TranscriptMismatch`` (expected, got, line) on the first miss.
Directives used by the tests: ``clock +Ns|+Nm``, ``billing fail N``, ``billing timeout N
applied|lost``, ``billing down|up``, ``restart``, ``agent suspend|resume|unlock|close [NUMBER]``,
``agent open NUMBER [YUAN]``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field

Send = Callable[[str, str], Awaitable[list[tuple[str, str]]]]
"""``send(number, text)``: deliver one message, return its replies as ``(to, text)``."""
Directive = Callable[[str], Awaitable[None]]
_FIELD = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)?\}")


class TranscriptError(ValueError):
    """A transcript that cannot be read (a line that is none of the forms above)."""


class TranscriptMismatch(AssertionError):
    """A reply that differs from the transcript; the message shows expected and got."""

    def __init__(self, line: int, summary: str, expected: str, got: str) -> None:
        self.line, self.expected, self.got = line, expected, got
        diff = "\n".join(d.rstrip() for d in difflib.ndiff(expected.splitlines(), got.splitlines()))
        super().__init__(f"line {line}: {summary}\n--- expected\n{expected}\n+++ got\n{got}\n"
                         f"--- diff\n{diff}")


@dataclass
class Step:
    """One instruction: ``send`` (number, text), ``expect`` (number, text) or ``directive``."""

    line: int
    op: str
    number: str
    text: str


@dataclass
class Transcript:
    agent: str
    steps: list[Step]
    headers: dict[str, str] = field(default_factory=dict)


def _read(n: int, line: str) -> tuple[str, str, str]:
    """One line as (op, number or header key, text); number "" means the agent."""
    if m := re.fullmatch(r">(\+?[0-9]+)?(?: (.*))?", line):
        return "send", m[1] or "", m[2] or ""
    if m := re.fullmatch(r"<(?:@(\+?[0-9]+))?(?: (.*))?", line):
        return "expect", m[1] or "", m[2] or ""
    if m := re.fullmatch(r"!\s*(\S.*)", line):
        return "directive", "", m[1]
    if m := re.fullmatch(r"@([A-Za-z_]+) +(\S.*)", line):
        return "header", m[1], m[2]
    raise TranscriptError(f"line {n}: cannot read {line!r} (see simulator.transcript)")


def parse(source: str, agent: str = "") -> Transcript:
    """Read a transcript; consecutive ``<`` lines to one number become one expected reply."""
    script = Transcript(agent, [])
    block: Step | None = None
    for n, raw in enumerate(source.splitlines(), 1):
        line = raw.rstrip()
        if not line or line.startswith("#"):
            block = None
            continue
        op, number, text = _read(n, line)
        if op == "header":
            script.headers[number] = text
            script.agent = script.headers.get("agent", script.agent)
            block = None
            continue
        number = number or (script.agent if op != "directive" else "")
        if op == "expect" and block is not None and block.number == number:
            block.text += "\n" + text
            continue
        step = Step(n, op, number, text)
        script.steps.append(step)
        block = step if op == "expect" else None
    return script


def _pattern(expected: str, bound: dict[str, str]) -> re.Pattern[str]:
    parts: list[str] = []
    seen: set[str] = set()
    pos = 0
    for m in _FIELD.finditer(expected):
        parts.append(re.escape(expected[pos:m.start()]))
        name, pos = m[1], m.end()
        if m[0] in ("{{", "}}"):
            parts.append(re.escape(m[0][0]))
        elif name is None:
            parts.append(".+?")
        elif name in bound:
            parts.append(re.escape(bound[name]))
        else:
            parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
            seen.add(name)
    return re.compile("".join(parts) + re.escape(expected[pos:]))


def substitute(text: str, bound: dict[str, str]) -> str:
    """A ``>`` line with its ``{name}`` fields replaced by the values bound so far."""
    def value(m: re.Match[str]) -> str:
        if m[0] in ("{{", "}}"):
            return m[0][0]
        if m[1] not in bound:
            raise TranscriptError(f"{{{m[1] or ''}}} in {text!r} is not bound by a reply before")
        return bound[m[1]]
    return _FIELD.sub(value, text)


def _show(replies: Iterable[tuple[str, str]], agent: str) -> str:
    return "\n".join(_block(to, text, agent, False) for to, text in replies) or "(nothing)"


async def play(script: Transcript | str, send: Send, directive: Directive | None = None,
               agent: str = "") -> dict[str, str]:
    """Run a transcript; returns the values bound by ``{name}`` fields."""
    script = parse(script, agent) if isinstance(script, str) else script
    bound: dict[str, str] = {}
    pending: list[tuple[str, str]] = []
    last = 0

    def settle(line: int) -> None:
        if pending:
            raise TranscriptMismatch(line, f"reply not in the transcript (sent at line {last})",
                                     "(nothing more)", _show(pending, script.agent))

    for step in script.steps:
        if step.op == "expect":
            mine = [i for i, (to, _) in enumerate(pending) if to == step.number]
            got = pending.pop(mine[0])[1] if mine else None
            text = "\n".join(line.rstrip() for line in (got or "").split("\n"))
            m = _pattern(step.text, bound).fullmatch(text) if got is not None else None
            if m is None:
                where = "no reply" if got is None else "reply differs"
                raise TranscriptMismatch(
                    step.line, f"{where} to {step.number} (message sent at line {last})",
                    _block(step.number, step.text, script.agent, False),
                    _show([(step.number, got)] if got is not None else pending, script.agent))
            bound.update({k: v for k, v in m.groupdict().items() if v is not None})
            continue
        settle(step.line)
        if step.op == "directive":
            if directive is None:
                raise TranscriptError(f"line {step.line}: no handler for '! {step.text}'")
            await directive(step.text)
        else:
            last = step.line
            pending = list(await send(step.number, substitute(step.text, bound)))
    settle(last)
    return bound


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _block(to: str, text: str, agent: str, escape: bool = True) -> str:
    head = "<" if to == agent else f"<@{to}"
    lines = (_escape(text) if escape else text).split("\n")
    return "\n".join(f"{head} {line}".rstrip() for line in lines)


def record(exchanges: Sequence[tuple[str | tuple[str, str], Sequence[tuple[str, str]]]],
           agent: str) -> str:
    """A transcript of ``(sent, replies)`` pairs; ``sent`` is the agent's text or (number, text)."""
    out = [f"@agent {agent}"]
    for sent, replies in exchanges:
        number, text = (agent, sent) if isinstance(sent, str) else sent
        out += ["", f"> {_escape(text)}" if number == agent else f">{number} {_escape(text)}"]
        for i, (to, reply) in enumerate(replies):
            if i and replies[i - 1][0] == to:
                out.append("")
            out.append(_block(to, reply, agent))
    return "\n".join(out) + "\n"
