"""No password leaves the engine: not in a log line, not in the sessions table, not in a key."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import structlog
from states_support import AGENT, TRANSCRIPTS, MakeRig, Rig

from simulator.transcript import parse, play
from smsmenu.core import logs

NEW = "472958"
"""A new password that is no substring of anything else in the database (numbers, times)."""


@pytest.fixture
def json_logs(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], str]]:
    """The server's real logging (``logs.configure``: JSON, redaction) at debug level, captured.

    Only the output stream is swapped for a buffer; the processor chain is the configured one.
    Standard-library records (aiohttp, aiosqlite, transitions) are captured by ``caplog``.
    """
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    buffer = io.StringIO()
    caplog.set_level(logging.DEBUG)
    logs.configure(level="debug", json=True)
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=buffer))
    assert logs.redact in structlog.get_config()["processors"]
    yield lambda: buffer.getvalue() + caplog.text
    structlog.configure(**saved)
    root.handlers[:], root.level = handlers, level


def passwords_in(source: str) -> set[str]:
    """Every 6-digit field the transcript sends: the passwords (and nothing that is not one)."""
    sent = [s.text for s in parse(source).steps if s.op == "send"]
    return {m for text in sent for m in re.findall(r"(?<![0-9])[0-9]{6}(?![0-9])", text)}


async def test_no_password_in_any_log_line_of_a_transcript_run(
        make_rig: MakeRig, json_logs: Callable[[], str]) -> None:
    """Recharges, commands, password changes: no log line holds a password, yet steps are logged."""
    secrets: set[str] = set()
    for name in ("change_tx_password", "change_mgmt_password", "commands", "wrong_password",
                 "restart"):
        source = (TRANSCRIPTS / "zh" / f"{name}.txt").read_text("utf-8")
        secrets |= passwords_in(source)
        rig = await make_rig(name=name)
        await play(source, rig.send, rig.directive)
    structlog.get_logger("probe").info("probe", text=f"CZ*2*18012345678*50*{NEW}", pin=NEW)
    out = json_logs()
    events = [json.loads(line)["event"] for line in out.splitlines() if line.startswith("{")]
    assert events.count("menu.step") >= 30 and "menu.recharge" in events and "probe" in events
    assert {"123456", "111111", "777777", NEW} <= secrets | {NEW}
    leaked = {p for p in secrets | {NEW} if re.search(rf"(?<![0-9]){p}(?![0-9])", out)}
    assert not leaked


def _db_bytes(rig: Rig) -> bytes:
    db = Path(rig.settings.ledger.db)
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


async def test_no_new_password_in_the_database_during_and_after_a_change(rig: Rig) -> None:
    """The sessions table keeps a keyed digest of the pending new password, never the password."""
    for text in ("3", "2", "123456", NEW):
        await rig.send(AGENT, text)
    state = await rig.ledger.op(lambda conn, env, now: conn.execute(
        "SELECT state, data FROM menu_sessions WHERE msisdn = ? AND channel = 'sms'", (AGENT,)).fetchone())
    assert state[0] == "tx_again" and "new" in json.loads(state[1])
    assert NEW.encode() not in _db_bytes(rig)
    assert "已修改" in (await rig.send(AGENT, NEW))[-1][1]
    await rig.restart()
    assert NEW.encode() not in _db_bytes(rig)
    assert "余额500.00元" in (await rig.send(AGENT, f"YE*{NEW}"))[0][1]


async def test_a_one_line_command_leaves_no_brute_forceable_trace_of_its_password(rig: Rig) -> None:
    """A command's idempotency key must not hash the password: 10^6 guesses would reverse it."""
    await rig.send(AGENT, "CZ*2*18012345678*50*123456")
    await rig.send(AGENT, "CZ*2*18012345678*50*123456")  # the double send: answered, not charged
    keys = await rig.ledger.op(lambda conn, env, now: [
        r[0] for r in conn.execute("SELECT key FROM idempotency WHERE key LIKE 'line:%'")])
    guess = hashlib.sha256(b"recharge 2 18012345678 50 123456").hexdigest()[:20]
    assert len(keys) == 1 and guess not in keys[0]
    assert (await rig.ledger.agent(AGENT)).balance_fen == 45_100
