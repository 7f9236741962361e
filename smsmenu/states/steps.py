"""One message as one transaction: load the session, move it, run the money effect, save, reply."""

from __future__ import annotations

import datetime as dt
import sqlite3
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from transitions import Machine

from ledger import events, inside, money
from ledger.api import Held, Notice, Recharge, RechargeResult
from ledger.inside import Env
from ledger.store import menu_inbox, menu_sessions
from smsmenu.core import refno
from smsmenu.core.clock import iso
from smsmenu.core.errors import AgentClosed, InvalidCommand, SmsmenuError
from smsmenu.core.texts import Texts, packaged
from smsmenu.core.types import Delivery, Inbound, Reply
from smsmenu.gateway.base import SenderBusy
from smsmenu.states import card, commands, notices
from smsmenu.states.menu import PARENTS
from smsmenu.states.records import MenuSession as Session
from smsmenu.states.session import Step

BILLING_HOLD = dt.timedelta(seconds=30)
"""How long a money step's session is marked as being billed by its instance (``step``)."""
STRANGER_REPLIES = 2
"""Replies per number and hour to a sender that is no (open) agent: enough to tell a person
where to apply, too few to pump SMS to a number by sending as it."""
STRANGER_WINDOW = dt.timedelta(hours=1)


@dataclass
class Outcome:
    """The replies of one message (the agent's first), and whether the dialog ended there."""

    replies: list[Reply] = field(default_factory=list)
    final: bool = False
    pending: Recharge | None = None
    """A recharge this message reserved (or found still pending): billing is asked next."""
    fresh: bool = False
    """``pending`` was reserved by this message: its reference never went to BOSS before."""
    unrecorded: str = ""
    """With ``pending``: what to tell the agent if billing's answer cannot be recorded."""
    status: str = ""
    """After billing: the recharge's status (``succeeded``, ``pending``, ``failed``)."""
    failure: str | None = None
    replayed: bool = False
    """The message key was answered before: these are that answer's replies, recalled, and
    nothing was applied again (``/api/sms`` says ``"replayed": true``)."""


def normalize(text: str) -> str:
    """Full-width digits and symbols to ASCII; surrounding blanks dropped."""
    return unicodedata.normalize("NFKC", text).strip()


def _remember(conn: sqlite3.Connection, msg: Inbound, out: Outcome, now: dt.datetime,
              direct: str) -> Outcome:
    """Store the answer under the message key (a durable one: a key the transport made up for
    this delivery never comes again); mark what the transport delivers itself as sent.

    ``direct`` is ``all`` (HTTP answers with every reply), ``agent`` (USSD shows the agent's
    screen; notices to others still go by SMS) or ``""`` (SMS: everything waits in the outbox).
    """
    if direct:
        ids = [r.outbox_id for r in Delivery(direct).own(out.replies, msg.msisdn)
               if r.outbox_id is not None]
        inside.mark_sent(conn, ids, msg.channel.value, iso(now))
    if msg.durable_key:
        menu_inbox.remember(conn, key=msg.key, msisdn=msg.msisdn,
                            replies=[(r.to, r.text, r.outbox_id) for r in out.replies],
                            final=out.final, at=iso(now))
    return out


def prune_inbox(conn: sqlite3.Connection, env: Env, now: dt.datetime, *,
                older_than: dt.timedelta) -> int:
    """Drop remembered answers older than ``older_than``; the number dropped."""
    window = dt.timedelta(seconds=commands.WINDOW_S)
    return menu_inbox.prune(conn, answers_before=iso(now - older_than),
                            commands_before=iso(now - window),
                            strangers_before=iso(now - STRANGER_WINDOW))


def _may_answer_stranger(conn: sqlite3.Connection, msisdn: str, now: dt.datetime) -> bool:
    """Count a reply to a non-agent; False past ``STRANGER_REPLIES`` in the window."""
    return menu_inbox.count_stranger_reply(conn, msisdn=msisdn, at=iso(now),
                                           since=iso(now - STRANGER_WINDOW),
                                           limit=STRANGER_REPLIES)


def recall(conn: sqlite3.Connection, key: str) -> Outcome | None:
    """The answer remembered under a durable message ``key``, marked ``replayed``; None if
    the key is new."""
    answer = menu_inbox.recall(conn, key)
    if answer is None:
        return None
    return Outcome([Reply(to, text, oid) for to, text, oid in answer.replies], answer.final,
                   replayed=True)


def _agent_reply(conn: sqlite3.Connection, msisdn: str, lines: list[str],
                 now: dt.datetime) -> list[Reply]:
    text = "\n".join(line for line in lines if line)
    if not text:
        return []
    notice = inside.queue_sms(conn, msisdn, text, "menu", iso(now))
    return [Reply(msisdn, text, notice.outbox_id)]


def _notices(items: Iterable[Notice]) -> list[Reply]:
    """The notices an operation queued, as the step answers (and ``recall`` replays) them."""
    return [Reply(n.to, n.text, n.outbox_id) for n in items]


def step(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, machine: Machine,
         msg: Inbound, idle: dt.timedelta, direct: str, texts: Texts | None = None,
         instance: str = "", hold: dt.timedelta = BILLING_HOLD) -> Outcome:
    """Handle one message; a redelivered key returns the first answer and changes nothing.

    ``texts``: the menu's words (by default the shipped ones). ``instance`` (this server's id)
    and ``hold`` mark a money step's session while billing is asked: another instance that gets
    the agent's next message meanwhile answers the processing screen (``_move``)."""
    texts = texts or packaged()
    menu_sessions.lock(conn, msg.msisdn)  # one step of an agent at a time, across instances
    if msg.durable_key and (done := recall(conn, msg.key)) is not None:
        done.replies = card.replay(conn, msg, done.replies, now, direct)
        return done
    agent = inside.find_agent(conn, msg.msisdn)
    if agent is None or agent.status == "closed":
        if not _may_answer_stranger(conn, msg.msisdn, now):
            return _remember(conn, msg, Outcome([], True), now, direct)
        lang = agent.lang if agent else env.lang
        text = (texts.render(lang, "menu.not_agent") if agent is None
                else AgentClosed().message(lang))
        return _remember(conn, msg, Outcome(_agent_reply(conn, msg.msisdn, [text], now), True),
                         now, direct)
    session = Session.load(conn, msg.msisdn, msg.channel.dialog)
    billing_key = session.data.get("key") if session.state == "billing" else None
    if not card.fresh_counter(conn, msg, billing_key, now):
        text = texts.render(agent.lang, "menu.card_stale", counter=msg.meta["counter"])
        return _remember(conn, msg, Outcome(_agent_reply(conn, msg.msisdn, [text], now), True),
                         now, direct)
    s = Step(conn, env, now, agent, normalize(msg.text), channel=msg.channel, texts=texts)
    session.begin(s)
    lines = _move(session, s, machine, msg, idle, instance)
    if s.pending is not None and s.pending.status == "pending":
        session.data = {"recharge_id": s.pending.id, "key": msg.key, "by": instance,
                        "until": iso(now + hold)}
        session.state = "billing"
        session.save(conn, now)
        # remembered when billing has answered (finish)
        return Outcome(pending=s.pending, fresh=s.fresh, unrecorded=summary(conn, texts, s.pending))
    if s.pending is not None:  # a retry of one already done, or a repeated command
        session.go("main")
        lines = [summary(conn, texts, s.pending)]
    session.save(conn, now)
    replies = _agent_reply(conn, msg.msisdn, lines, now) + _notices(s.notices)
    final = session.state == "main" and bool(s.result or s.notices or s.fatal or s.pending)
    return _remember(conn, msg, Outcome(replies, final), now, direct)


def _move(session: Session, s: Step, machine: Machine, msg: Inbound,
          idle: dt.timedelta, instance: str = "") -> list[str]:
    """Apply the input to the session; the lines of the agent's reply."""
    if session.state != "billing":
        return _apply(session, s, machine, msg, idle)
    r = inside.get_recharge(s.conn, session.data["recharge_id"])
    again = session.data.get("key") == msg.key
    by = session.data.get("by", "")
    if r.status == "pending" and by and by != instance and session.data["until"] > iso(s.now):
        # Another instance is asking billing right now (its hold has not run out). The very
        # message it is billing, delivered here again: not answered (not acknowledged), so it
        # comes back once that instance has recorded the outcome. Any other message does not
        # fit that screen, so the agent gets it again; nothing changes.
        if again:
            raise SenderBusy(why="this message's recharge is being billed by another instance")
        return [session.t("menu.processing")]
    # Left by a step whose billing answer was never recorded (a crash, storage failing): the
    # receipt follows by SMS. The message that started it, sent again under its key, gets the
    # recharge's outcome; any other runs from the main menu, like any other message.
    session.go("main")
    if again:
        return [summary(s.conn, s.texts, r)]
    lines = _apply(session, s, machine, msg, idle)
    help_ = session.t("menu.help")
    note = "menu.pending_note" if r.status == "pending" else "menu.settled_note"
    return [session.t(note, id=refno.quote(r.id)), *(line for line in lines if line != help_)]


def _apply(session: Session, s: Step, machine: Machine, msg: Inbound,
           idle: dt.timedelta) -> list[str]:
    if session.state != "main" and session.idle(s.now, idle):
        session.go("main")
        return [session.t("menu.expired"), session.screen()]
    if s.text == "00" or (s.text == "0" and (session.state == "main"
                                             or PARENTS.get(session.state))):
        session.go("main" if s.text == "00" else PARENTS[session.state] or "main")
        return [session.screen()]
    try:
        command = commands.parse(s.text, session.lang)
        if command is not None:
            run_command(session, command, msg)
            session.go("main")
            return [s.error or "", *s.result]
    except SmsmenuError as exc:
        return [exc.message(session.lang)]
    moved = machine.events["key"].trigger(session)
    if s.result:  # a dialog's answer, then what next: back at main, 0 shows the menu
        return [*s.result, session.t("menu.next")] if session.state == "main" \
            else [*s.result, session.screen()]
    if s.pending is not None:
        return []
    help_ = None if moved or s.error else session.t("menu.help")
    return [s.error or help_ or "", session.screen()]


def run_command(session: Session, command: commands.Command, msg: Inbound) -> None:
    """Execute a one-line command through the same checks the menu uses."""
    s = session.step
    key = _money_key(s.conn, msg, command)
    recharge_id = refno.read(command.args[0]) if command.verb == "retry" else None
    s.text = command.args[-1]  # the password comes last (the new one for MM)
    if command.verb == "balance":
        session.showed_balance()
    elif command.verb == "records":
        session.listed_records()
    elif command.verb == "password":
        session.changed_by_command(command.args[0], command.args[1], command.args[2])
    elif command.verb == "retry":
        if recharge_id is None:  # not a 单号 (a typo its check digits caught, or no number)
            raise InvalidCommand(why=commands.usage("retry", session.lang))
        session.data = {"retry": {"id": recharge_id}}
        session._try(lambda: session._reserve(lambda: inside.begin_retry(
            s.conn, s.env, s.now, key=key, msisdn=msg.msisdn, recharge_id=recharge_id,
            tx_password=s.text)))
    else:
        notice = command.args[3] if len(command.args) == 5 else None

        def begin() -> Held:
            return inside.begin_recharge(s.conn, s.env, s.now, session.recharge_request(
                key, command.kind(session.lang), command.args[1],
                money.parse_yuan(command.args[2]), notice))
        session._try(lambda: session._reserve(begin))


def _money_key(conn: sqlite3.Connection, msg: Inbound, command: commands.Command) -> str:
    """The idempotency key of a money command: a card's is its card key (so a copy never
    charges twice however late it comes); a typed one's is ``line_key``'s, with the attempt
    number for a retry (a failed retry may be retried). "" for the other verbs."""
    if command.verb not in commands.MONEY:
        return ""
    if card.is_card(msg):
        return msg.key
    key = line_key(conn, msg.msisdn, command, msg.received_at)
    if command.verb == "retry" and (recharge_id := refno.read(command.args[0])) is not None:
        key += f":a{menu_inbox.recharge_attempts(conn, recharge_id)}"
    return key


def line_key(conn: sqlite3.Connection, msisdn: str, command: commands.Command,
             received_at: dt.datetime) -> str:
    """The idempotency key of a money command: that of the same command (same sender, same
    fields but the password) first received less than ``WINDOW_S`` ago, else a new one.

    The window slides from the first copy; the caller holds the agent's turn, and the lookup
    and the insert share the step's transaction."""
    digest, first = command.digest(), iso(received_at)
    since = iso(received_at - dt.timedelta(seconds=commands.WINDOW_S))
    return menu_inbox.line_command_key(conn, msisdn=msisdn, digest=digest, first=first,
                                       since=since, key=f"line:{msisdn}:{digest}:{first}")


def summary(conn: sqlite3.Connection, texts: Texts, r: Recharge) -> str:
    """A recharge's outcome as a receipt, for one whose notices were sent before: the words
    of the event the ledger emitted for it (``ledger.events``), with today's balance."""
    agent = inside.agent_by_id(conn, r.agent_id)
    event: events.Event
    if r.status == "pending":
        event = events.RechargePending(agent.msisdn, agent.lang, r.id, r.kind, r.target,
                                       r.amount, r.charge)
    elif r.status in ("succeeded", "reversed"):
        event = events.RechargeSucceeded(agent.msisdn, agent.lang, r.kind, r.target, r.amount,
                                         r.commission, r.charge, inside.available(conn, agent),
                                         r.reference, r.id)
    else:
        code, _, detail = (r.failure or "lost").partition(": ")  # as ledger.recharge.finish
        event = events.RechargeFailed(agent.msisdn, agent.lang, r.id, r.kind, r.target,
                                      r.amount, code, detail)
    return notices.render(texts, event)


def finish(conn: sqlite3.Connection, env: Env, now: dt.datetime, done: RechargeResult, *,
           msg: Inbound, direct: str, texts: Texts | None = None) -> Outcome:
    """End the dialog and reply with the receipts, in the transaction that recorded billing's
    answer (``Ledger.bill``)."""
    recharge_id = done.recharge_id
    session = Session.load(conn, msg.msisdn, msg.channel.dialog)
    if session.state == "billing" and session.data.get("recharge_id") == recharge_id:
        session.state, session.data = "main", {}
        session.save(conn, now)
    replies = _notices(done.notices)
    if not replies:
        replies = _agent_reply(conn, msg.msisdn, [summary(
            conn, texts or packaged(), inside.get_recharge(conn, recharge_id))], now)
    return _remember(conn, msg, Outcome(replies, True, status=str(done.status),
                                        failure=done.failure), now, direct)
