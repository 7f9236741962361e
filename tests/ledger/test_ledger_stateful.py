"""A hypothesis state machine drives random sequences of every ledger operation against a model.

After every step: ``verify()`` reports no breach, and each agent's available balance and status
equal the model's. Each operation's outcome (result or refusal) is predicted by the model first.
"""

from __future__ import annotations

import asyncio
import calendar
import datetime as dt
import itertools
import shutil
import tempfile
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from pg import Pool

from ledger import Ledger
from ledger.api import RechargeRequest, RechargeResult
from ledger.money import check_counter_deposit, check_online_deposit
from ledger.store import queries
from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.errors import (
    AgentClosed,
    AgentSuspended,
    CloseRefused,
    DuplicateAgent,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    ReversalRefused,
    SmsmenuError,
    UnknownAgent,
    UnknownRecharge,
)
from smsmenu.core.settings import load_settings
from smsmenu.core.types import TargetKind
from smsmenu.states.notices import SmsNotices

pytestmark = pytest.mark.both_engines

T = TypeVar("T")
AGENTS = ("18912345678", "18987654321")
PASSWORD = "123456"
POSTPAID = "02787654321"
TARGETS = {"mobile-1": (TargetKind.MOBILE, "18900000001"),
           "mobile-2": (TargetKind.MOBILE, "18900000002"),
           "postpaid-landline": (TargetKind.LANDLINE, POSTPAID)}
TARGET_MIX = ("postpaid-landline", "mobile-1", "postpaid-landline", "mobile-2")
FAULTS = ("none", "none", "fail", "timeout-applied", "timeout-lost", "down")
WINDOW = dt.timedelta(minutes=30)


@dataclass
class ModelAgent:
    gen: int
    balance: int = 0
    closed: bool = False
    suspended: bool = False
    rate_ppm: int = 20_000


@dataclass
class ModelRecharge:
    id: int
    msisdn: str
    gen: int
    kind: TargetKind
    target: str
    amount: int
    charge: int
    status: str
    completed: dt.datetime
    account_type: str | None = None
    bill_month: str | None = None
    invoice: bool = False


@dataclass
class Model:
    agents: dict[str, ModelAgent] = field(default_factory=dict)
    recharges: list[ModelRecharge] = field(default_factory=list)
    reversal_months: set[tuple[int, str]] = field(default_factory=set)
    deposits: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)


class LedgerMachine(RuleBasedStateMachine):
    """One ledger on a temp file (or a pool's PostgreSQL database), driven on its own event
    loop (the ledger is async)."""

    pool: ClassVar[Pool | None] = None

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.dir = tempfile.mkdtemp(prefix="ledger-machine-")
        self.clock = ManualClock("2026-11-10T10:00:00")
        self.billing = BillingSimulator(clock=self.clock)
        self.billing.open_account(TargetKind.LANDLINE, POSTPAID, "postpaid")
        self.database = self.pool.take() if self.pool else ""
        db = (self.pool.cluster.url(self.database) if self.pool
              else str(Path(self.dir) / "ledger.db"))
        conf = load_settings(env={}).replace("ledger", db=db,
                                             secret_file=str(Path(self.dir) / "secret"),
                                             synchronous="OFF")
        self.ledger = self.run(Ledger.open(conf, self.billing, self.clock,
                                           notifier=SmsNotices(), secret=b"k" * 32))
        self.model = Model()
        self.keys = itertools.count()
        self.gens = itertools.count()

    def teardown(self) -> None:
        try:
            self.run(self.ledger.aclose())
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()
            shutil.rmtree(self.dir, ignore_errors=True)
            if self.pool:
                self.pool.give_back(self.database)

    # -- helpers ---------------------------------------------------------------------------------
    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def attempt(self, coro: Coroutine[Any, Any, T], expected: type[SmsmenuError] | None) -> T | None:
        """Run ``coro``; it must raise ``expected`` (when given) or succeed (when None)."""
        try:
            result = self.run(coro)
        except SmsmenuError as exc:
            assert expected is not None and isinstance(exc, expected), (expected, exc)
            return None
        assert expected is None, f"expected {expected.__name__}, got {result!r}"
        return result

    def key(self) -> str:
        return f"k{next(self.keys)}"

    def refusal(self, msisdn: str) -> type[SmsmenuError] | None:
        """Why this number cannot pay a recharge now (R-1, R-5, R-6), or None."""
        agent = self.model.agents.get(msisdn)
        if agent is None:
            return UnknownAgent
        if agent.closed:
            return AgentClosed
        if agent.suspended:
            return AgentSuspended
        return None

    def inject(self, fault: str) -> str:
        """Arm BOSS for the next credit; the status the recharge must end in."""
        if fault == "fail":
            self.billing.fail_next(1)
        elif fault == "timeout-applied":
            self.billing.timeout_next(1, applied=True)
        elif fault == "timeout-lost":
            self.billing.timeout_next(1, applied=False)
        elif fault == "down":
            self.billing.down = True
        # timeout-lost: unknown at first (pending), then the follow-up's re-send applies it
        return "succeeded" if fault in ("none", "timeout-applied", "timeout-lost") else "failed"

    def followed_up(self, done: RechargeResult) -> RechargeResult:
        """An unknown outcome stays pending until the follow-up settles it with BOSS."""
        if done.status != "pending":
            return done
        self.run(self.ledger.recover())
        return self.run(self.ledger.get_recharge(done.recharge_id)).result()

    def disarm(self) -> None:
        self.billing.down = False
        assert self.billing._fail_next == 0 and not self.billing._timeouts, "a fault was not used"

    def completed(self, r: ModelRecharge, result: RechargeResult) -> None:
        r.status = str(result.status)
        r.completed = self.clock.now()
        if r.status == "succeeded":
            self.model.agents[r.msisdn].balance -= r.charge
            r.account_type = "postpaid" if r.target == POSTPAID else "prepaid"
            r.bill_month = self.month() if r.target == POSTPAID else None
            assert (result.account_type, result.bill_month) == (r.account_type, r.bill_month)

    def month(self) -> str:
        return self.clock.now().strftime("%Y-%m")

    # -- rules -----------------------------------------------------------------------------------
    @initialize(deposit=st.sampled_from([50_000, 100_000, 300_000]))
    def first_agent(self, deposit: int) -> None:
        """R-1/R-8: the run starts with one agent and a counter deposit."""
        self.open_agent(AGENTS[0], None)
        self.deposit(AGENTS[0], deposit, "counter")

    @rule(who=st.sampled_from(AGENTS), rate=st.sampled_from([None, 0, 12_345, 50_000]))
    def open_agent(self, who: str, rate: int | None) -> None:
        """R-1: one open agent per number; a closed agent's number may be reopened."""
        current = self.model.agents.get(who)
        expected = DuplicateAgent if current and not current.closed else None
        opened = self.attempt(self.ledger.open_agent(msisdn=who, name="代办", tx_password=PASSWORD,
                                                     mgmt_password="654321", rate_ppm=rate),
                              expected)
        if opened is not None:
            self.model.agents[who] = ModelAgent(next(self.gens),
                                                rate_ppm=20_000 if rate is None else rate)

    @rule(who=st.sampled_from(AGENTS),
          amount=st.sampled_from([1_000, 50_000, 51_000, 100_000, 0, 1_500, 49_900, 50_500]),
          channel=st.sampled_from(["counter", "online"]))
    def deposit(self, who: str, amount: int, channel: str) -> None:
        """R-8/R-9: valid deposits credit the agent; invalid ones are refused before anything."""
        check = check_counter_deposit if channel == "counter" else check_online_deposit
        try:
            check(amount)
            expected: type[SmsmenuError] | None = self.refusal(who)
            if expected is AgentSuspended:
                expected = None  # a suspended phone may still receive deposits
        except InvalidAmount:
            expected = InvalidAmount
        key = self.key()
        fields = {"msisdn": who, "amount_fen": amount, "channel": channel}
        done = self.attempt(self.ledger.deposit(key=key, **fields), expected)
        if done is not None:
            self.model.agents[who].balance += amount
            self.model.deposits.append((key, fields, done))

    @precondition(lambda self: bool(self.model.deposits))
    @rule(data=st.data(), change=st.booleans())
    def replay_deposit(self, data: st.DataObject, change: bool) -> None:
        """R-8: a deposit re-sent with its key returns the first result; changed, it conflicts."""
        key, fields, first = data.draw(st.sampled_from(self.model.deposits))
        if change:
            fields = {**fields, "amount_fen": fields["amount_fen"] + 1_000}
        again = self.attempt(self.ledger.deposit(key=key, **fields),
                             IdempotencyConflict if change else None)
        assert again is None or again == first

    @rule(who=st.sampled_from(AGENTS), to=st.sampled_from(TARGET_MIX),
          amount=st.sampled_from([1_000, 5_000, 10_000, 50_000, 100_000, 990]),
          fault=st.sampled_from(FAULTS))
    def recharge(self, who: str, to: str, amount: int, fault: str) -> None:
        """R-13..R-16: refusals are predicted; billing failures fail it, successes charge it."""
        kind, number = TARGETS[to]
        expected = self.refusal(who)
        agent = self.model.agents.get(who)
        charge = 0
        if expected is None and amount % 1_000:
            expected = InvalidAmount
        if expected is None and agent is not None:
            charge = amount - amount * agent.rate_ppm // 1_000_000
            if charge > agent.balance:
                expected = InsufficientFunds
        status = self.inject(fault) if expected is None else None
        done = self.attempt(self.ledger.recharge(RechargeRequest(
                key=self.key(), msisdn=who, kind=kind, target=number, amount_fen=amount,
                tx_password=PASSWORD)), expected)
        self.disarm()
        if done is None:
            return
        done = self.followed_up(done)
        assert agent is not None and done.status == status, (done, status)
        assert done.charge_fen == charge
        r = ModelRecharge(done.recharge_id, who, agent.gen, kind, number, amount, charge,
                          "pending", self.clock.now())
        self.model.recharges.append(r)
        self.completed(r, done)

    @precondition(lambda self: any(r.status == "failed" for r in self.model.recharges))
    @rule(data=st.data(), fault=st.sampled_from(FAULTS))
    def retry(self, data: st.DataObject, fault: str) -> None:
        """R-18: a failed recharge is completed by a retry, or stays failed; never paid twice."""
        failed = [r for r in self.model.recharges if r.status == "failed"]
        r = data.draw(st.sampled_from(failed))
        expected = self.refusal(r.msisdn)
        agent = self.model.agents[r.msisdn]
        if expected is None and agent.gen != r.gen:
            expected = UnknownRecharge  # the number now belongs to a newer agent
        if expected is None and r.charge > agent.balance:
            expected = InsufficientFunds
        status = self.inject(fault) if expected is None else None
        done = self.attempt(self.ledger.retry(key=self.key(), msisdn=r.msisdn, recharge_id=r.id,
                                              tx_password=PASSWORD), expected)
        self.disarm()
        if done is not None:
            done = self.followed_up(done)
            assert done.status == status, (done, status)
            self.completed(r, done)

    def reversal_refusal(self, r: ModelRecharge) -> str | None:
        """R-23..R-25 as the handbook states them, in the ledger's order of checks."""
        local = self.clock.now()
        last_day = calendar.monthrange(local.year, local.month)[1]
        account = self.billing.account(r.kind, r.target)
        balance = account.balance_fen if account else 0
        checks = [
            ("not_done", r.status in ("succeeded", "reversed")),
            ("reversed", r.status != "reversed"),
            ("prepaid", r.account_type == "postpaid"),
            ("monthly", (r.gen, self.month()) not in self.model.reversal_months),
            ("late", local - r.completed <= WINDOW),
            ("invoice", not r.invoice),
            ("month_end", local.day != last_day),
            ("other_month", r.bill_month == self.month()),
            ("balance", balance >= r.amount),
        ]
        return next((name for name, passed in checks if not passed), None)

    @precondition(lambda self: bool(self.model.recharges))
    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        """R-23..R-25: a reversal is refused by the first failing check, else posts the inverse."""
        r = data.draw(st.sampled_from(self.model.recharges))
        refusal = self.reversal_refusal(r)
        closed = self.model.agents[r.msisdn].gen != r.gen or self.model.agents[r.msisdn].closed
        try:
            done = self.run(self.ledger.reverse(key=self.key(), recharge_id=r.id,
                                                operator="10000"))
        except ReversalRefused as exc:
            assert exc.check == refusal, (exc.check, refusal)
            return
        except AgentClosed:
            assert refusal is None and closed
            return
        assert refusal is None and not closed, (refusal, closed)
        assert done.status == "succeeded"
        r.status = "reversed"
        self.model.agents[r.msisdn].balance += r.charge
        self.model.reversal_months.add((r.gen, self.month()))

    @precondition(lambda self: bool(self.model.recharges))
    @rule(data=st.data())
    def take_invoice(self, data: st.DataObject) -> None:
        """R-25: the customer takes an invoice for a recharge; it can no longer be reversed."""
        r = data.draw(st.sampled_from(self.model.recharges))
        self.run(self.ledger.mark_invoice(r.id))
        r.invoice = True

    @rule(who=st.sampled_from(AGENTS))
    def close(self, who: str) -> None:
        """R-6: under 10 yuan is refunded and the agent closed; 10 yuan or more is refused."""
        expected = self.refusal(who)
        if expected is AgentSuspended:
            expected = None  # closing does not need the phone
        agent = self.model.agents.get(who)
        if expected is None and agent is not None and agent.balance >= 1_000:
            expected = CloseRefused
        done = self.attempt(self.ledger.close_agent(key=self.key(), msisdn=who), expected)
        if done is not None and agent is not None:
            assert done.refund_fen == agent.balance
            agent.balance, agent.closed = 0, True

    @rule(who=st.sampled_from(AGENTS), suspended=st.booleans())
    def suspend_or_resume(self, who: str, suspended: bool) -> None:
        """R-5: the operator suspends or resumes the agent's own phone."""
        expected = self.refusal(who)
        if expected is AgentSuspended:
            expected = None
        if self.attempt(self.ledger.set_flag(msisdn=who, suspended=suspended),
                        expected) is not None:
            self.model.agents[who].suspended = suspended

    @rule(who=st.sampled_from(AGENTS), rate=st.sampled_from([0, 15_000, 20_000, 199_999]))
    def set_rate(self, who: str, rate: int) -> None:
        """R-16: the operator sets an agent's commission rate."""
        expected = self.refusal(who)
        if expected is AgentSuspended:
            expected = None
        if self.attempt(self.ledger.set_flag(msisdn=who, rate_ppm=rate), expected) is not None:
            self.model.agents[who].rate_ppm = rate

    @rule(step=st.sampled_from([dt.timedelta(seconds=1), dt.timedelta(minutes=29),
                                dt.timedelta(minutes=31), dt.timedelta(hours=14),
                                dt.timedelta(days=1), dt.timedelta(days=19)]))
    def advance_clock(self, step: dt.timedelta) -> None:
        """R-25: time passes (30-minute window, month ends, new months)."""
        self.clock.advance(seconds=step.total_seconds())

    # -- after every step ------------------------------------------------------------------------
    @invariant()
    def books_are_sound(self) -> None:
        """R-15: every invariant of ``ledger verify`` holds."""
        report = self.run(self.ledger.verify())
        assert all(not lines for lines in report.values()), report

    @invariant()
    def balances_match_the_model(self) -> None:
        """R-15/R-16: each agent's available balance and status are the model's."""
        for msisdn, agent in self.model.agents.items():
            view = self.run(self.ledger.agent(msisdn))
            assert view.available_fen == agent.balance, (msisdn, view, agent)
            assert view.reserved_fen == 0
            assert view.status == ("closed" if agent.closed else "active")
            if not agent.closed:
                assert view.phone_suspended is agent.suspended

    @invariant()
    def boss_agrees_with_the_ledger(self) -> None:
        """R-16: what BOSS credited (net of reversals) is what the ledger settled, per kind."""
        boss = {kind: 0 for kind in TargetKind}
        for account in self.billing.books.accounts.values():
            boss[account.kind] += account.balance_fen
        ledger = self.run(self.ledger.read(queries.balances()))
        for kind, total in boss.items():
            assert ledger[f"settlement:{kind.value}"][0] == total, (kind, ledger, boss)


def test_random_operation_sequences_keep_the_ledger_sound(engine: str,
                                                          request: pytest.FixtureRequest) -> None:
    """R-1..R-25: random sequences of every operation keep the invariants and match the model
    (60 sequences on SQLite, 15 on PostgreSQL: the same rules, a quarter of the time)."""
    pool = request.getfixturevalue("pg_pool") if engine == "postgres" else None
    machine = type("OnEngine", (LedgerMachine,), {"pool": pool})
    run_state_machine_as_test(machine, settings=settings(
        max_examples=60 if pool is None else 15, stateful_step_count=40, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
