"""The menu's message memory: answers by message key (``inbox``), one-line command keys
(``line_commands``) and the replies counted to strangers (``stranger_replies``)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

Stored = tuple[str, str, int | None]
"""One remembered reply: to, text, its outbox row."""

_REMEMBER = ("INSERT INTO inbox (key, msisdn, replies, final, at) VALUES (?, ?, ?, ?, ?) "
             "ON CONFLICT (key) DO UPDATE SET msisdn = excluded.msisdn, "
             "replies = excluded.replies, final = excluded.final, at = excluded.at")
_RECALL = "SELECT replies, final FROM inbox WHERE key = ?"
_STRANGER = "SELECT since, count FROM stranger_replies WHERE msisdn = ?"
_STRANGER_FIRST = ("INSERT INTO stranger_replies (msisdn, since, count) VALUES (?, ?, 1) "
                   "ON CONFLICT (msisdn) DO UPDATE SET since = excluded.since, count = 1")
_STRANGER_MORE = "UPDATE stranger_replies SET count = count + 1 WHERE msisdn = ?"
_LINE_FIND = ("SELECT key FROM line_commands WHERE msisdn = ? AND digest = ? AND "
              "first_at > ? AND first_at <= ? ORDER BY first_at DESC LIMIT 1")
_LINE_ADD = ("INSERT INTO line_commands (msisdn, digest, first_at, key) VALUES (?, ?, ?, ?) "
             "ON CONFLICT DO NOTHING")


@dataclass(frozen=True, slots=True)
class Answer:
    """The answer given to one message key: its replies, and whether the dialog ended."""

    replies: list[Stored]
    final: bool


def remember(conn: sqlite3.Connection, *, key: str, msisdn: str, replies: list[Stored],
             final: bool, at: str) -> None:
    """Store the answer to message ``key`` (a redelivery gets it again)."""
    conn.execute(_REMEMBER, (key, msisdn, json.dumps([list(r) for r in replies],
                                                     ensure_ascii=False), int(final), at))


def recall(conn: sqlite3.Connection, key: str) -> Answer | None:
    row = conn.execute(_RECALL, (key,)).fetchone()
    if row is None:
        return None
    return Answer([(to, text, oid) for to, text, oid in json.loads(row[0])], bool(row[1]))


def prune(conn: sqlite3.Connection, *, answers_before: str, commands_before: str,
          strangers_before: str) -> int:
    """Drop answers, command keys and stranger counts older than their limits; the number of
    answers dropped."""
    cur = conn.execute("DELETE FROM inbox WHERE at < ?", (answers_before,))
    conn.execute("DELETE FROM line_commands WHERE first_at < ?", (commands_before,))
    conn.execute("DELETE FROM stranger_replies WHERE since < ?", (strangers_before,))
    return cur.rowcount


def count_stranger_reply(conn: sqlite3.Connection, *, msisdn: str, at: str, since: str,
                         limit: int) -> bool:
    """Count one reply to a number that is no agent; False once ``limit`` replies were counted
    since ``since`` (the window restarts at ``at`` when the last one began before)."""
    row = conn.execute(_STRANGER, (msisdn,)).fetchone()
    if row is None or row[0] < since:
        conn.execute(_STRANGER_FIRST, (msisdn, at))
        return True
    if row[1] >= limit:
        return False
    conn.execute(_STRANGER_MORE, (msisdn,))
    return True


def line_command_key(conn: sqlite3.Connection, *, msisdn: str, digest: str, first: str,
                     since: str, key: str) -> str:
    """The key of the same command first received in (``since``, ``first``]; else ``key``,
    stored as the key of this command from ``first`` on."""
    row = conn.execute(_LINE_FIND, (msisdn, digest, since, first)).fetchone()
    if row is not None:
        return str(row[0])
    conn.execute(_LINE_ADD, (msisdn, digest, first, key))
    return key


def recharge_attempts(conn: sqlite3.Connection, recharge_id: int) -> int:
    """How often a recharge was tried (0 for an unknown id): a retried command's key names it."""
    row = conn.execute("SELECT attempts FROM recharges WHERE id = ?", (recharge_id,)).fetchone()
    return int(row[0]) if row else 0
