"""The operator CLI's money commands: recharge, retry, records, reversal, invoice, ledger."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_cli_support import AGENT, CUSTOMER, LANDLINE, SECRET_HEX, TX, Cli, isolated

from ledger import Ledger, recharge
from ledger.api import RechargeRequest
from simulator.billing import BillingSimulator
from smsmenu.cli import common as cli_common
from smsmenu.core.refno import quote
from smsmenu.core.settings import load_settings
from smsmenu.core.types import TargetKind
from smsmenu.states.notices import SmsNotices

DOWN = "http://127.0.0.1:1"
"""A billing URL where nothing listens: every credit is certainly not applied."""


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    """An in-process CLI on a temp database; afterwards no password may appear in its output."""
    with isolated(tmp_path, monkeypatch) as clock:
        runner = Cli(tmp_path, capsys, clock)
        yield runner
        runner.assert_no_password()


@pytest.fixture
def boss(run: Cli, monkeypatch: pytest.MonkeyPatch) -> BillingSimulator:
    """One simulator shared by every invocation, with a postpaid landline owing 100 yuan."""
    sim = BillingSimulator(clock=run.clock)
    sim.open_account(TargetKind.LANDLINE, LANDLINE, "postpaid", bills={"2026-11": 10_000})
    monkeypatch.setattr(cli_common, "make_billing", lambda args, settings, clock: sim)
    return sim


def test_recharge_human_output(run: Cli) -> None:
    """R-16/R-17: a recharge prints amount, commission and charge in yuan and the queued SMS."""
    run.agent()
    done = run.recharge("100")
    assert done.code == 0 and "充值成功" in done.out
    assert "佣金: 2.00 元" in done.out and "扣款: 98.00 元" in done.out
    assert done.out.count("待发短信") == 2  # agent receipt and customer notice


def test_repeated_key_charges_once(run: Cli) -> None:
    """A retried command with the same --key returns the first recharge and never pays twice."""
    run.agent()
    first = run.recharge("100", "mobile", CUSTOMER, "--key", "r1", "--json").json
    again = run.recharge("100", "mobile", CUSTOMER, "--key", "r1", "--json").json
    assert again["recharge_id"] == first["recharge_id"]
    shown = run.ok("agent", "show", "--msisdn", AGENT, "--json").json
    assert shown["balance_fen"] == 100_000 - 9_800


def test_failed_recharge_listed_then_retried(run: Cli) -> None:
    """R-18: billing down -> failed (exit 6, nothing charged); `retry` completes it once."""
    run.agent()
    failed = run.recharge("100", "landline", LANDLINE, "--billing-url", DOWN, sim=False)
    assert failed.code == 6 and "充值失败" in failed.out and "计费系统暂不可用" in failed.out
    listed = run.ok("failed", "--msisdn", AGENT, "--json").json
    assert [r["recharge_id"] for r in listed["recharges"]] == [1]
    assert run.ok("agent", "show", "--msisdn", AGENT, "--json").json["balance_fen"] == 100_000
    retried = run.ok("retry", "--msisdn", AGENT, "--recharge", quote(1), "--tx-password", TX,
                     "--json")  # the 单号 the agent quotes (a plain id works too)
    assert retried.json["status"] == "succeeded" and retried.json["attempts"] == 2
    assert run.ok("failed", "--msisdn", AGENT, "--json").json["count"] == 0
    assert run.ok("agent", "show", "--msisdn", AGENT, "--json").json["balance_fen"] == 90_200
    human = run.ok("failed", "--msisdn", AGENT, "--lang", "en")
    assert "Failed recharges (count: 0)" in human.out


def test_recharge_option_takes_an_id_or_a_reference() -> None:
    """Issue 13: ``--recharge`` takes the plain id or the agent's 单号; a mistyped 单号 (its
    check digits wrong) is an argument error, not another recharge."""
    assert cli_common.recharge_ref("42") == cli_common.recharge_ref(quote(42)) == 42
    with pytest.raises(argparse.ArgumentTypeError):
        cli_common.recharge_ref("0000004268")


def test_retry_unknown_recharge(run: Cli) -> None:
    """Retrying a recharge that does not exist is refused with its rule (R-18), exit 3."""
    run.agent()
    result = run("retry", "--msisdn", AGENT, "--recharge", "99", "--tx-password", TX)
    assert result.code == 3 and "(R-18)" in result.err


def test_records_between_business_days(run: Cli) -> None:
    """R-21: --from/--to are local days, inclusive: 23:59 is in the day, 00:00 the next is not."""
    run.agent()
    run.clock.set("2026-11-09T23:59:59")
    run.recharge("10")
    run.clock.set("2026-11-10T00:00:00")
    run.recharge("20")
    run.clock.set("2026-11-11T23:59:59")
    run.recharge("30")

    def amounts(*dates: str) -> list[int]:
        data = run.ok("records", "--msisdn", AGENT, *dates, "--json").json
        return [r["amount_fen"] for r in data["recharges"]]

    assert amounts("--from", "2026-11-09", "--to", "2026-11-09") == [1_000]
    assert amounts("--from", "2026-11-10", "--to", "2026-11-10") == [2_000]
    assert amounts("--from", "2026-11-10", "--to", "2026-11-11") == [3_000, 2_000]
    assert amounts("--from", "2026-11-10") == [3_000, 2_000]
    assert amounts("--to", "2026-11-09") == [1_000]
    assert amounts() == [3_000, 2_000, 1_000]
    human = run.ok("records", "--msisdn", AGENT, "--from", "2026-11-09", "--to", "2026-11-09")
    assert "2026-11-09 23:59:59" in human.out and "10.00 元" in human.out
    backwards = run("records", "--msisdn", AGENT, "--from", "2026-11-11", "--to", "2026-11-10")
    assert backwards.code == 2 and backwards.err.startswith("error:")


def test_reversal_of_prepaid_refused(run: Cli) -> None:
    """R-24: the simulator's prepaid customer cannot be reversed; --check shows which check."""
    run.agent()
    run.recharge("100")
    refused = run("reversal", "--recharge", "1")
    assert refused.code == 5 and "(R-24)" in refused.err
    checks = run("reversal", "--recharge", "1", "--check", "--json")
    assert checks.code == 5 and checks.json["ok"] is False
    failing = {c["check"]: c["rule"] for c in checks.json["checks"] if c["passed"] is False}
    assert failing["prepaid"] == "R-24"


def test_reversal_of_postpaid_bill(run: Cli, boss: BillingSimulator) -> None:
    """R-23..R-25: every check passes, the reversal succeeds; a second one that month is refused."""
    run.agent()
    assert run.recharge("100", "landline", LANDLINE).code == 0
    checks = run.ok("reversal", "--recharge", "1", "--check")
    assert checks.out.count("OK ") == 9 and "FAIL" not in checks.out
    done = run.ok("reversal", "--recharge", "1", "--operator", "hall-7", "--json").json
    assert done["status"] == "succeeded" and done["operator"] == "hall-7"
    assert run.ok("agent", "show", "--msisdn", AGENT, "--json").json["balance_fen"] == 100_000
    assert boss.account(TargetKind.LANDLINE, LANDLINE).balance_fen == 0  # type: ignore[union-attr]
    run.recharge("100", "landline", LANDLINE)
    again = run("reversal", "--recharge", "2", "--lang", "en")
    assert again.code == 5 and "(R-23)" in again.err and "monthly" in again.err


@pytest.mark.parametrize(("start", "minutes", "check"), [
    pytest.param("2026-11-10T10:00:00", 31, "late", id="after-30-minutes"),
    pytest.param("2026-11-30T10:00:00", 1, "month_end", id="last-day-of-month"),
])
def test_reversal_checks_by_time(run: Cli, boss: BillingSimulator, start: str, minutes: int,
                                 check: str) -> None:
    """R-25: 31 minutes later, or on the last day of the month, the reversal is refused."""
    run.clock.set(start)
    run.agent()
    run.recharge("100", "landline", LANDLINE)
    run.clock.advance(minutes=minutes)
    result = run("reversal", "--recharge", "1", "--check", "--json").json
    assert [c["check"] for c in result["checks"] if c["passed"] is False] == [check]
    refused = run("reversal", "--recharge", "1")
    assert refused.code == 5 and "(R-25)" in refused.err


def test_invoice_blocks_reversal(run: Cli, boss: BillingSimulator) -> None:
    """R-25: after `invoice` the recharge shows invoice_taken and cannot be reversed."""
    run.agent()
    run.recharge("100", "landline", LANDLINE)
    marked = run.ok("invoice", "--recharge", "1", "--json").json
    assert marked["invoice_taken"] == 1
    refused = run("reversal", "--recharge", "1", "--json")
    assert refused.code == 5 and refused.json["error"]["code"] == "E_REVERSAL_INVOICE"
    assert run("invoice", "--recharge", "42").code == 3


def test_verify_sound_then_breached(run: Cli) -> None:
    """`ledger verify` exits 0 listing each invariant OK; after tampering, 1 with BREACH lines."""
    run.agent()
    run.recharge("100")
    sound = run.ok("ledger", "verify")
    # the eight money invariants and the audit chain
    assert "BREACH" not in sound.out and sound.out.count("OK ") == 9
    with sqlite3.connect(run.db) as conn:
        conn.execute("UPDATE accounts SET balance = balance + 1 WHERE code LIKE 'agent:%'")
    conn.close()
    breached = run("ledger", "verify")
    assert breached.code == 1 and "BREACH balances equal postings" in breached.out
    assert "cached balance 90201 != postings 90200" in breached.out
    as_json = run("ledger", "verify", "--json")
    assert as_json.code == 1 and as_json.json["ok"] is False
    assert as_json.json["invariants"]["ledger sums to zero"] == ["all balances sum to 1 fen"]


async def _reserve_without_billing(db: str, clock: Any) -> int:
    """A recharge reserved but never settled, as a crash would leave it."""
    settings = load_settings(env={}).replace("ledger", db=db, synchronous="OFF")
    async with await Ledger.open(settings, BillingSimulator(), clock, notifier=SmsNotices(),
                                 secret=bytes.fromhex(SECRET_HEX)) as ledger:
        r = (await ledger.op(recharge.begin, request=RechargeRequest(
                key="crash", msisdn=AGENT, kind=TargetKind.MOBILE, target=CUSTOMER,
                amount_fen=10_000, tx_password=TX))).recharge
        return r.id


def test_recover_resolves_a_crashed_reservation(run: Cli) -> None:
    """A stale pending recharge is a verify breach until `ledger recover` settles it."""
    run.agent()
    asyncio.run(_reserve_without_billing(run.db, run.clock))
    run.clock.advance(minutes=5)
    stale = run("ledger", "verify")
    assert stale.code == 1 and "BREACH no stale reservation" in stale.out
    down = run("ledger", "recover", "--billing-url", DOWN, "--json", sim=False)
    assert down.code == 6 and down.json == {"posted": 0, "voided": 0, "kept": 1}
    recovered = run.ok("ledger", "recover", "--json").json
    assert recovered == {"posted": 1, "voided": 0, "kept": 0}
    run.ok("ledger", "verify")
    shown = run.ok("records", "--msisdn", AGENT, "--json").json
    assert shown["recharges"][0]["status"] == "succeeded"


def test_unknown_outcome_pending_reconcile_and_cancel(run: Cli, boss: BillingSimulator) -> None:
    """Issue 9: a timed-out credit BOSS never saw is pending (exit 6, never 'failed'); `ledger
    pending` lists it, `ledger reconcile` reports it (exit 1), an operator's `ledger cancel`
    voids it once BOSS confirms, and a credit BOSS made under a reference we never made shows."""
    run.agent()
    boss.timeout_next(1, applied=False)
    held = run.recharge("100", "mobile", CUSTOMER, "--json")
    assert held.code == 6 and held.json["status"] == "pending"
    human = run("recharge", "--msisdn", AGENT, "--kind", "mobile", "--target", CUSTOMER,
                "--amount", "100", "--tx-password", TX, "--key", "other")
    assert human.code == 0 and "充值成功" in human.out  # another recharge: BOSS answers again
    listed = run.ok("ledger", "pending", "--json").json["pending"]
    assert [(p["op"], p["id"], p["answer"], p["tries"]) for p in listed] == [
        ("recharge", held.json["recharge_id"], "timeout", 1)]
    asyncio.run(boss.credit(TargetKind.MOBILE, CUSTOMER, 500, "RC9999999999"))
    day = run.clock.now().date().isoformat()
    report = run("ledger", "reconcile", "--date", day, "--json")
    assert report.code == 1
    assert [(m["kind"], m["reference"]) for m in report.json["mismatches"]] == [
        ("unknown_to_us", "RC9999999999"), ("pending", held.json["reference"])]
    assert report.json["posted_fen"] == 10_000 and report.json["credited_fen"] == 10_500
    cancelled = run.ok("ledger", "cancel", "--recharge", str(held.json["recharge_id"]),
                       "--operator", "li", "--json").json
    assert (cancelled["status"], cancelled["failure"]) == ("failed", "cancelled")
    assert run.ok("ledger", "pending", "--json").json["pending"] == []
    after = run("ledger", "reconcile", "--date", day, "--lang", "en")
    assert after.code == 1 and "unknown_to_us" in after.out and "pending" not in after.out
    assert run.ok("agent", "show", "--msisdn", AGENT, "--json").json["balance_fen"] == 90_200


def test_no_boss_configured_stops_before_holding_money(run: Cli) -> None:
    """Without [billing] url a recharge stops with exit 78 naming --billing-url; nothing held."""
    run.agent()
    done = run.recharge("100", "mobile", CUSTOMER, sim=False)
    assert done.code == 78 and "--billing-url" in done.out + done.err
    assert run.ok("agent", "show", "--msisdn", AGENT, "--json").json["reserved_fen"] == 0
