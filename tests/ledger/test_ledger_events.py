"""The ledger emits typed events to its notifier inside each operation's transaction."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from ledger_support import AGENT, CUSTOMER, LANDLINE, MGMT, TX, clean, recharge

from ledger import Ledger
from ledger import events as e
from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.errors import AgentLocked, UnknownAgent, WrongPassword
from smsmenu.core.settings import Settings
from smsmenu.core.types import Reply, TargetKind
from smsmenu.states.notices import SmsNotices

pytestmark = pytest.mark.both_engines

LOCAL = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 10, 10, 0, tzinfo=LOCAL)
"""The root ``clock`` fixture's time, as the events carry it (local)."""


@dataclass(frozen=True)
class Seen:
    """One event as the notifier got it, with what its connection showed at that moment."""

    event: e.Event
    in_transaction: bool
    balance_fen: int | None
    """The recipient agent's balance as the operation's own transaction sees it."""


class Recording:
    """A notifier that records each event, then words and queues it (``SmsNotices``); it
    raises instead for the event types in ``fail``."""

    def __init__(self) -> None:
        self.inner = SmsNotices()
        self.seen: list[Seen] = []
        self.queued: list[Reply] = []
        self.fail: tuple[type, ...] = ()

    def __call__(self, conn: sqlite3.Connection, event: e.Event,
                 now: dt.datetime) -> tuple[Reply, ...]:
        row = conn.execute("SELECT c.balance FROM accounts c JOIN agents a ON a.account_id = c.id "
                           "WHERE a.msisdn = ? AND a.status != 'closed'", (event.to,)).fetchone()
        self.seen.append(Seen(event, conn.in_transaction, row[0] if row else None))
        if isinstance(event, self.fail):
            raise RuntimeError("the notifier broke")
        sent = self.inner(conn, event, now)
        self.queued.extend(sent)
        return sent

    def events(self) -> list[e.Event]:
        return [s.event for s in self.seen]


@pytest.fixture
def recording() -> Recording:
    return Recording()


@pytest.fixture
async def ledger(settings: Settings, billing: BillingSimulator, clock: ManualClock,
                 recording: Recording) -> AsyncIterator[Ledger]:
    """A ledger whose notifier records (the ``agent`` fixture opens on it too)."""
    async with await Ledger.open(settings, billing, clock, notifier=recording,
                                 secret=b"k" * 32) as opened:
        yield opened
        assert clean(await opened.verify())


async def test_opening_and_depositing_emit_their_events_with_the_money(
        ledger: Ledger, recording: Recording) -> None:
    """R-3, R-8: the events carry the facts; the deposit's balance is already posted when told."""
    opened = await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX,
                                     mgmt_password=MGMT)
    done = await ledger.deposit(key="d1", msisdn=AGENT, amount_fen=50_000, channel="counter")
    assert recording.events() == [
        e.AccountOpened(AGENT, "zh", "小王", opened.account_no),
        e.DepositReceived(AGENT, "zh", 50_000, 50_000, NOW),
    ]
    assert [s.in_transaction for s in recording.seen] == [True, True]
    assert recording.seen[1].balance_fen == 50_000  # the posting, in the same transaction
    assert opened.notices + done.notices == tuple(recording.queued)


@pytest.mark.usefixtures("agent")
async def test_a_recharge_tells_the_agent_and_the_customer(ledger: Ledger,
                                                          recording: Recording) -> None:
    """R-17: one receipt event for the agent, one credit event for the mobile customer."""
    recording.seen.clear()
    done = await recharge(ledger, "r1")
    assert recording.events() == [
        e.RechargeSucceeded(AGENT, "zh", "mobile", CUSTOMER, 10_000, 200, 9_800, 40_200,
                            done.reference, done.recharge_id),
        e.CustomerCredited(CUSTOMER, "zh", "mobile", CUSTOMER, 10_000, NOW),
    ]
    assert recording.seen[0].balance_fen == 40_200  # posted before the agent is told
    assert done.notices == tuple(recording.queued[-2:])


@pytest.mark.usefixtures("agent")
async def test_refused_and_unknown_recharges_emit_their_events(
        ledger: Ledger, billing: BillingSimulator, recording: Recording) -> None:
    """A refusal carries its code and billing's detail; an unknown answer says it is pending."""
    recording.seen.clear()
    billing.fail_next(1)
    failed = await recharge(ledger, "r1", kind=TargetKind.LANDLINE, target=LANDLINE)
    billing.timeout_next(1, applied=False)
    pending = await recharge(ledger, "r2")
    assert recording.events() == [
        e.RechargeFailed(AGENT, "zh", failed.recharge_id, "landline", LANDLINE, 10_000,
                         "declined", "simulated failure"),
        e.RechargePending(AGENT, "zh", pending.recharge_id, "mobile", CUSTOMER, 10_000, 9_800),
    ]


@pytest.mark.usefixtures("agent")
async def test_credentials_and_closing_emit_their_events(ledger: Ledger,
                                                        recording: Recording) -> None:
    """R-21, R-7, R-6: password and number changes and the close, each told by an event;
    an operator's switch tells nobody."""
    other = "18912349999"
    await ledger.open_agent(msisdn=other, name="小李", tx_password=TX, mgmt_password=MGMT)
    recording.seen.clear()
    await ledger.change_password(msisdn=AGENT, purpose="tx", old=TX, new="112233")
    await ledger.change_msisdn(msisdn=AGENT, new_msisdn="18912340000", mgmt_password=MGMT)
    await ledger.set_flag(msisdn="18912340000", suspended=False)
    closed = await ledger.close_agent(key="c1", msisdn=other)
    assert recording.events() == [
        e.PasswordChanged(AGENT, "zh", "tx"),
        e.MsisdnChanged("18912340000", "zh"),
        e.AccountClosed(other, "zh", 0),
    ]
    assert closed.notices == tuple(recording.queued[-1:])


@pytest.mark.usefixtures("agent")
async def test_a_reversal_emits_its_event_with_the_money_back(
        ledger: Ledger, billing: BillingSimulator, recording: Recording) -> None:
    """R-23..R-25: the reversal is told once posted: the charge is back in the balance."""
    billing.open_account(TargetKind.LANDLINE, LANDLINE, "postpaid", bills={"2026-11": 10_000})
    done = await recharge(ledger, "r1", kind=TargetKind.LANDLINE, target=LANDLINE)
    recording.seen.clear()
    rv = await ledger.reverse(key="rv-1", recharge_id=done.recharge_id, operator="10000")
    assert recording.events() == [
        e.ReversalDone(AGENT, "zh", done.reference, 10_000, 9_800, 50_000, done.recharge_id)]
    assert recording.seen[0].balance_fen == 50_000
    assert rv.notices == tuple(recording.queued[-1:])


@pytest.mark.usefixtures("agent")
async def test_a_lock_emits_its_event_once(ledger: Ledger, recording: Recording) -> None:
    """R-2: the fifth wrong password locks the money for 30 minutes and tells the agent once."""
    recording.seen.clear()
    for _ in range(4):
        with pytest.raises(WrongPassword):
            await ledger.check_password(AGENT, "tx", "000000")
    for _ in range(2):  # the fifth locks; one more while locked is refused uncounted
        with pytest.raises(AgentLocked):
            await ledger.check_password(AGENT, "tx", "000000")
    assert recording.events() == [
        e.LockSet(AGENT, "zh", "tx", 5, NOW + dt.timedelta(minutes=30), False)]


@pytest.mark.parametrize("broken", [
    pytest.param(e.AccountOpened, id="open"),
    pytest.param(e.DepositReceived, id="deposit"),
])
async def test_a_failing_notifier_rolls_the_operation_back(
        ledger: Ledger, recording: Recording, broken: type) -> None:
    """The event is emitted in the operation's transaction: no SMS, no money, no agent."""
    if broken is e.DepositReceived:
        await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
    recording.fail = (broken,)
    with pytest.raises(RuntimeError, match="notifier broke"):
        if broken is e.AccountOpened:
            await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX,
                                    mgmt_password=MGMT)
        else:
            await ledger.deposit(key="d1", msisdn=AGENT, amount_fen=50_000, channel="counter")
    assert recording.seen[-1].in_transaction
    recording.fail = ()
    if broken is e.AccountOpened:
        with pytest.raises(UnknownAgent):
            await ledger.agent(AGENT)  # never opened
        await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
    else:
        assert (await ledger.agent(AGENT)).balance_fen == 0
        await ledger.deposit(key="d1", msisdn=AGENT, amount_fen=50_000, channel="counter")
        assert (await ledger.agent(AGENT)).balance_fen == 50_000  # the key was not spent
    assert [n.kind for n in recording.queued] == ["opened"] + (
        ["deposit"] if broken is e.DepositReceived else [])
