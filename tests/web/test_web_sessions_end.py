"""A new management password or bound number ends the agent's older web sessions (any channel)."""

from __future__ import annotations

import sqlite3

from web_support import AGENT, MGMT, TX, Browser

from ledger import Ledger
from ledger.store import schema
from smsmenu.core.clock import ManualClock

NEW_MGMT = "246813"


async def _home(browser: Browser) -> str:
    return (await browser.get("/web/")).url


async def test_changing_the_management_password_on_the_web_ends_other_browsers(
        browser: Browser, other: Browser, agent: dict[str, object], clock: ManualClock) -> None:
    """R-21: this browser goes on (and can still post forms); another one must log in again."""
    await browser.login_agent(AGENT, MGMT)
    await other.login_agent(AGENT, MGMT)
    clock.advance(seconds=1)
    await browser.get("/web/account")
    done = await browser.post("/web/account/password", {
        "purpose": "mgmt", "old": MGMT, "new": NEW_MGMT, "again": NEW_MGMT})
    assert done.status == 200 and 'id="done"' in done.text
    assert await _home(other) == "/web/login"
    assert await _home(browser) != "/web/login"
    again = await browser.post("/web/account/password", {
        "purpose": "tx", "old": TX, "new": "135791", "again": "135791"})
    assert again.status == 200, "the renewed session's CSRF token must be accepted"


async def test_a_password_changed_by_sms_ends_web_sessions(
        browser: Browser, ledger: Ledger, agent: dict[str, object], clock: ManualClock) -> None:
    """A management password changed in the SMS menu (the ledger) logs the web session out."""
    await browser.login_agent(AGENT, MGMT)
    clock.advance(seconds=1)
    await ledger.change_password(msisdn=AGENT, purpose="mgmt", old=MGMT, new=NEW_MGMT)
    assert await _home(browser) == "/web/login"


async def test_a_new_transaction_password_keeps_web_sessions(
        browser: Browser, ledger: Ledger, agent: dict[str, object], clock: ManualClock) -> None:
    """The transaction password is not the web login: changing it logs nobody out."""
    await browser.login_agent(AGENT, MGMT)
    clock.advance(seconds=1)
    await ledger.change_password(msisdn=AGENT, purpose="tx", old=TX, new="135791")
    assert await _home(browser) != "/web/login"


def test_an_older_database_gains_the_credentials_column() -> None:
    """A database made before ``credentials_at`` existed is migrated in place on open."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE agents (id INTEGER PRIMARY KEY, msisdn TEXT) STRICT")
    schema._migrate(conn)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(agents)")}
    assert "credentials_at" in columns
