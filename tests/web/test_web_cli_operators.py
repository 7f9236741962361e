"""`smsmenu operator reset-password | deactivate | activate` as the portal's login sees them."""

from __future__ import annotations

import json

import pytest
from web_support import OPERATOR_PASSWORD, Browser, sql

from ledger import Ledger
from smsmenu.cli.operator_accounts import change, set_active, set_password
from smsmenu.web import create_operator
from smsmenu.web.errors import OwnAccount, PageNotFound
from smsmenu.web.operators import hashed

NEW_PASSWORD = "from-the-shell-9"
SESSIONS = "SELECT COUNT(*) FROM web_sessions WHERE kind = 'operator' AND subject_id = ?"


async def _reset(ledger: Ledger, name: str, password: str) -> None:
    await change(ledger, "operator_password", name, {}, set_password, **await hashed(password))


async def _active(ledger: Ledger, name: str, on: bool) -> None:
    await change(ledger, "operator_reactivate" if on else "operator_deactivate", name,
                 {"active": on}, set_active, active=on)


async def _audit(ledger: Ledger) -> list[tuple[str, str, str, dict[str, object], str]]:
    rows = await sql(ledger, "SELECT operator, action, target, detail, outcome FROM web_audit "
                             "WHERE action != 'login' AND role != 'system' ORDER BY id")
    return [(who, action, target, json.loads(detail), outcome)
            for who, action, target, detail, outcome in rows]


async def test_reset_password_logs_in_with_the_new_one_only(
        browser: Browser, other: Browser, ledger: Ledger, operators: dict[str, str]) -> None:
    """After a reset the new password logs in, the old one is refused, the operator's open
    session ends, and the audit line names the shell user and holds no password."""
    assert (await other.login_operator("clerk")).url == "/web/ops/"
    await _reset(ledger, "clerk", NEW_PASSWORD)
    assert await sql(ledger, SESSIONS, 1) == [(0,)]
    assert (await other.get("/web/ops/")).url == "/web/ops/login"
    assert (await browser.login_operator("clerk", OPERATOR_PASSWORD)).status == 401
    assert (await browser.login_operator("clerk", NEW_PASSWORD)).url == "/web/ops/"
    [(who, action, target, detail, outcome)] = await _audit(ledger)
    assert who.startswith("cli:") and (action, target, detail, outcome) == (
        "operator_password", "clerk", {}, "ok")
    assert NEW_PASSWORD not in str(await sql(ledger, "SELECT * FROM web_audit"))


async def test_reset_password_forgets_failed_logins(browser: Browser, ledger: Ledger,
                                                    operators: dict[str, str]) -> None:
    """A name locked out by failed logins (why one resets) logs in at once after the reset."""
    for _ in range(10):
        await browser.login_operator("hotline", "forgotten-pass")
    assert (await browser.login_operator("hotline")).status == 429
    await _reset(ledger, "hotline", NEW_PASSWORD)
    assert (await browser.login_operator("hotline", NEW_PASSWORD)).url == "/web/ops/"


async def test_deactivated_operator_cannot_log_in(browser: Browser, other: Browser,
                                                  ledger: Ledger,
                                                  operators: dict[str, str]) -> None:
    """Deactivated: its open session ends and its right password is refused; activated
    again, it logs in; both changes are audited."""
    assert (await other.login_operator("clerk")).url == "/web/ops/"
    await _active(ledger, "clerk", False)
    assert await sql(ledger, SESSIONS, 1) == [(0,)]
    assert (await other.get("/web/ops/")).url == "/web/ops/login"
    assert (await browser.login_operator("clerk")).status == 401
    await _active(ledger, "clerk", True)
    assert (await browser.login_operator("clerk")).url == "/web/ops/"
    assert [line[1:] for line in await _audit(ledger)] == [
        ("operator_deactivate", "clerk", {"active": False}, "ok"),
        ("operator_reactivate", "clerk", {"active": True}, "ok")]


async def test_the_last_active_supervisor_stays(ledger: Ledger,
                                                operators: dict[str, str]) -> None:
    """The only active supervisor cannot be deactivated (the refusal is audited); with a
    second one it can, and the second then cannot."""
    with pytest.raises(OwnAccount):
        await _active(ledger, "supervisor", False)
    await create_operator(ledger, "boss2", OPERATOR_PASSWORD, "supervisor")
    await _active(ledger, "supervisor", False)
    with pytest.raises(OwnAccount):
        await _active(ledger, "boss2", False)
    outcomes = [(line[1], line[2], line[4]) for line in await _audit(ledger)]
    assert outcomes[0] == ("operator_deactivate", "supervisor", "E_OWN_ACCOUNT")
    assert outcomes[-1] == ("operator_deactivate", "boss2", "E_OWN_ACCOUNT")


async def test_unknown_name_is_not_found(ledger: Ledger, operators: dict[str, str]) -> None:
    """A name no operator has: not found, for a reset and a deactivation alike."""
    with pytest.raises(PageNotFound):
        await _reset(ledger, "nobody", NEW_PASSWORD)
    with pytest.raises(PageNotFound):
        await _active(ledger, "nobody", False)


async def test_the_audit_page_shows_a_shell_change(browser: Browser, ledger: Ledger,
                                                   operators: dict[str, str]) -> None:
    """A change made from the shell is on the back office's audit page, by its shell user."""
    await _active(ledger, "clerk", False)
    await browser.login_operator("supervisor")
    page = await browser.get("/web/ops/audit")
    assert page.status == 200 and "cli:" in page.text and "clerk" in page.text
