"""Supervisors manage operator accounts: list, create, role, deactivate, reactivate, password."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest
from web_support import Browser, sql

from ledger import Ledger
from ledger.store import schema
from smsmenu.core.clock import ManualClock
from smsmenu.web import staff
from smsmenu.web.errors import Forbidden
from smsmenu.web.operators import Operator

CLERK, HOTLINE, SUPERVISOR = 1, 2, 3
"""The ids of the ``operators`` fixture's accounts, named after their roles."""
NEW_PASSWORD = "brand-new-pass-2"
OPERATORS = "SELECT id, name, role, active, salt, pw_hash FROM web_operators ORDER BY id"


async def _audit(ledger: Ledger) -> list[tuple[Any, ...]]:
    """Every audit line but logins and the fixtures' (by ``system``): (operator, action,
    target, detail as a dict, outcome)."""
    rows = await sql(ledger, "SELECT operator, action, target, detail, outcome FROM web_audit "
                             "WHERE action != 'login' AND role != 'system' ORDER BY id")
    return [(who, action, target, json.loads(detail), outcome)
            for who, action, target, detail, outcome in rows]


async def _boss(browser: Browser, path: str = "/web/ops/operators") -> str:
    """Log the supervisor in and open ``path`` (its forms' CSRF token)."""
    await browser.login_operator("supervisor")
    return (await browser.get(path)).text


async def test_list_shows_every_operator(browser: Browser, other: Browser,
                                         operators: dict[str, str], clock: ManualClock) -> None:
    """Name, role, active, created and last login; the ops navigation links here for
    supervisors only."""
    clock.advance(minutes=5)
    await other.login_operator("clerk")
    page = await _boss(browser)
    rows = page.split('id="operators"')[1]
    assert all(name in rows for name in ("clerk", "hotline", "supervisor"))
    assert "营业员" in rows and "主管" in rows and "在用" in rows
    assert "2026-11-10 10:05" in rows and "从未登录" in rows
    assert 'href="/web/ops/operators">操作员管理' in page
    en = await browser.get("/web/ops/operators?lang=en")
    assert "Last login" in en.text and "Counter clerk" in en.text
    for role in ("clerk", "hotline"):
        assert "/web/ops/operators" not in (await other.login_operator(role)).text


async def test_create_operator(browser: Browser, other: Browser, ledger: Ledger,
                               operators: dict[str, str]) -> None:
    """The new operator can log in with its role; the audit line holds no password."""
    await _boss(browser)
    page = await browser.post("/web/ops/operators", {
        "name": "li", "role": "hotline", "password": NEW_PASSWORD, "again": NEW_PASSWORD})
    assert page.url == "/web/ops/operators/4" and "操作员已创建" in page.text
    assert await _audit(ledger) == [("supervisor", "operator_create", "li",
                                     {"name": "li", "role": "hotline"}, "ok")]
    assert NEW_PASSWORD not in str(await sql(ledger, "SELECT * FROM web_audit"))
    assert "客服" in (await other.login_operator("li", NEW_PASSWORD)).text


@pytest.mark.parametrize(("fields", "status", "says"), [
    pytest.param({"again": "something-else"}, 400, "不一致", id="mismatch"),
    pytest.param({"password": "short", "again": "short"}, 400, "至少10个字符", id="short"),
    pytest.param({"name": "a b"}, 400, "不能含空格", id="space-in-name"),
    pytest.param({"name": ""}, 400, "不能含空格", id="no-name"),
    pytest.param({"name": "x" * 41}, 400, "1至40个字符", id="name-too-long"),
    pytest.param({"role": "boss"}, 400, "角色", id="unknown-role"),
    pytest.param({"name": "clerk"}, 409, "已存在", id="duplicate"),
])
async def test_create_refused(browser: Browser, ledger: Ledger, operators: dict[str, str],
                              fields: dict[str, str], status: int, says: str) -> None:
    """A refused creation shows the form again with why; no operator is added."""
    await _boss(browser)
    before = await sql(ledger, OPERATORS)
    page = await browser.post("/web/ops/operators", {
        "name": "li", "role": "clerk", "password": NEW_PASSWORD, "again": NEW_PASSWORD,
        **fields})
    assert page.status == status and says in page.text and 'id="create-form"' in page.text
    assert await sql(ledger, OPERATORS) == before
    assert [line[4] for line in await _audit(ledger)] == (
        ["E_DUPLICATE_OPERATOR"] if status == 409 else [])


async def test_change_role(browser: Browser, other: Browser, ledger: Ledger,
                           operators: dict[str, str]) -> None:
    """A new role counts from the operator's next request, without a new login."""
    await other.login_operator("clerk")
    assert (await other.get("/web/ops/operators")).status == 403
    await _boss(browser, f"/web/ops/operators/{CLERK}")
    page = await browser.confirmed(f"/web/ops/operators/{CLERK}/role", {"role": "supervisor"})
    assert page.status == 200 and "角色已修改" in page.text
    assert (await other.get("/web/ops/operators")).status == 200
    assert (await browser.confirmed(f"/web/ops/operators/{CLERK}/role", {"role": "x"})).status == 400
    assert await _audit(ledger) == [("supervisor", "operator_role", "clerk",
                                     {"role": "supervisor", "was": "clerk"}, "ok")]


async def test_deactivate_and_reactivate(browser: Browser, other: Browser, ledger: Ledger,
                                         operators: dict[str, str]) -> None:
    """A deactivated operator's open session ends at once and it cannot log in; reactivated,
    it logs in again with its old password."""
    assert (await other.login_operator("clerk")).url == "/web/ops/"
    await _boss(browser, f"/web/ops/operators/{CLERK}")
    page = await browser.confirmed(f"/web/ops/operators/{CLERK}/active", {"active": "0"})
    assert "账号已停用" in page.text and "已停用" in page.text.split('id="status"')[1][:40]
    assert await sql(ledger, "SELECT COUNT(*) FROM web_sessions WHERE subject_id = ? AND "
                             "kind = 'operator'", CLERK) == [(0,)]
    assert (await other.get("/web/ops/")).url == "/web/ops/login"
    assert (await other.login_operator("clerk")).status == 401
    page = await browser.confirmed(f"/web/ops/operators/{CLERK}/active", {"active": "1"})
    assert "账号已重新启用" in page.text
    assert (await other.login_operator("clerk")).url == "/web/ops/"
    assert [line[1:] for line in await _audit(ledger)] == [
        ("operator_deactivate", "clerk", {"active": False}, "ok"),
        ("operator_reactivate", "clerk", {"active": True}, "ok")]


async def test_reset_password(browser: Browser, other: Browser, ledger: Ledger,
                              operators: dict[str, str]) -> None:
    """The old password stops working, the operator's sessions end, its failed logins (the
    reason for a reset) are forgotten; mismatched or short passwords change nothing."""
    await other.login_operator("hotline")
    for _ in range(10):
        await browser.login_operator("hotline", "forgotten-pass")
    await _boss(browser, f"/web/ops/operators/{HOTLINE}")
    before = await sql(ledger, OPERATORS)
    for bad in ({"password": NEW_PASSWORD, "again": "other-pass-22"},
                {"password": "short", "again": "short"}):
        assert (await browser.post(f"/web/ops/operators/{HOTLINE}/password", bad)).status == 400
    assert await sql(ledger, OPERATORS) == before
    page = await browser.post(f"/web/ops/operators/{HOTLINE}/password",
                              {"password": NEW_PASSWORD, "again": NEW_PASSWORD})
    assert "密码已重置" in page.text
    assert (await other.get("/web/ops/")).url == "/web/ops/login"
    assert (await other.login_operator("hotline")).status == 401
    assert (await other.login_operator("hotline", NEW_PASSWORD)).url == "/web/ops/"
    assert await _audit(ledger) == [("supervisor", "operator_password", "hotline", {}, "ok")]


async def test_own_password_keeps_this_browser(browser: Browser, other: Browser,
                                               operators: dict[str, str]) -> None:
    """A supervisor resetting its own password goes on here (forms too); elsewhere it ends."""
    await other.login_operator("supervisor")
    await _boss(browser, f"/web/ops/operators/{SUPERVISOR}")
    page = await browser.post(f"/web/ops/operators/{SUPERVISOR}/password",
                              {"password": NEW_PASSWORD, "again": NEW_PASSWORD})
    assert page.status == 200 and "密码已重置" in page.text
    assert (await other.get("/web/ops/")).url == "/web/ops/login"
    again = await browser.confirmed(f"/web/ops/operators/{CLERK}/role", {"role": "hotline"})
    assert again.status == 200 and "角色已修改" in again.text


@pytest.mark.parametrize(("path", "data"), [
    pytest.param("active", {"active": "0"}, id="deactivate-self"),
    pytest.param("role", {"role": "clerk"}, id="demote-self-to-clerk"),
    pytest.param("role", {"role": "hotline"}, id="demote-self-to-hotline"),
])
async def test_last_supervisor_guard(browser: Browser, ledger: Ledger, operators: dict[str, str],
                                     path: str, data: dict[str, str]) -> None:
    """The only supervisor cannot deactivate or demote itself (the page offers neither); the
    refusal is audited and changes nothing, so an active supervisor always remains."""
    page = await _boss(browser, f"/web/ops/operators/{SUPERVISOR}")
    assert 'id="role-form"' not in page and 'id="active-form"' not in page
    before = await sql(ledger, OPERATORS)
    refused = await browser.confirmed(f"/web/ops/operators/{SUPERVISOR}/{path}", data)
    assert refused.status == 422 and "主管" in refused.text
    assert await sql(ledger, OPERATORS) == before
    assert [line[4] for line in await _audit(ledger)] == ["E_OWN_ACCOUNT"]
    assert (await browser.get("/web/ops/operators")).status == 200


async def test_supervisors_cannot_remove_each_other_at_once(ledger: Ledger,
                                                            operators: dict[str, str]) -> None:
    """Two supervisors deactivating each other: the second, already deactivated when its
    transaction runs, is refused there, so one supervisor stays active."""
    first = Operator(SUPERVISOR, "supervisor", "supervisor", True)
    await ledger.op(staff.set_role, by=first, operator_id=CLERK, role="supervisor", was="clerk")
    second = Operator(CLERK, "clerk", "supervisor", True)
    await ledger.op(staff.set_active, by=first, operator_id=CLERK, active=False)
    with pytest.raises(Forbidden):
        await ledger.op(staff.set_active, by=second, operator_id=SUPERVISOR, active=False)
    assert await sql(ledger, "SELECT name FROM web_operators WHERE role = 'supervisor' AND "
                             "active = 1") == [("supervisor",)]


ACTIONS = [("get", "", {}), ("post", "", {"name": "li", "role": "supervisor",
                                          "password": NEW_PASSWORD, "again": NEW_PASSWORD}),
           ("get", "/3", {}), ("post", "/3/role", {"role": "clerk"}),
           ("post", "/3/active", {"active": "0"}),
           ("post", "/3/password", {"password": NEW_PASSWORD, "again": NEW_PASSWORD})]


@pytest.mark.parametrize(("role", "method", "path", "data"), [
    pytest.param(role, method, path, data, id=f"{role}-{method}-operators{path}")
    for role in ("clerk", "hotline") for method, path, data in ACTIONS])
async def test_other_roles_forbidden(browser: Browser, ledger: Ledger, operators: dict[str, str],
                                     role: str, method: str, path: str,
                                     data: dict[str, str]) -> None:
    """Only supervisors manage operators: 403 for the others, and nothing changes."""
    before = await sql(ledger, OPERATORS)
    await browser.login_operator(role)
    url = f"/web/ops/operators{path}"
    page = await (browser.get(url) if method == "get" else browser.post(url, data))
    assert page.status == 403 and "无权" in page.text
    assert await sql(ledger, OPERATORS) == before and await _audit(ledger) == []


@pytest.mark.parametrize(("path", "data"), [
    pytest.param(path, data, id=f"operators{path or '-create'}")
    for method, path, data in ACTIONS if method == "post"])
async def test_csrf_required(browser: Browser, ledger: Ledger, operators: dict[str, str],
                             path: str, data: dict[str, str]) -> None:
    """Every form needs this browser's CSRF token, even a supervisor's."""
    await _boss(browser)
    before = await sql(ledger, OPERATORS)
    url = f"/web/ops/operators{path.replace('/3', f'/{CLERK}')}"
    assert (await browser.post(url, data, csrf=False)).status == 403
    assert (await browser.post(url, {**data, "csrf": "0" * 64}, csrf=False)).status == 403
    assert await sql(ledger, OPERATORS) == before and await _audit(ledger) == []


async def test_unknown_operator(browser: Browser, operators: dict[str, str]) -> None:
    await _boss(browser)
    for path in ("/web/ops/operators/99", "/web/ops/operators/x"):
        assert (await browser.get(path)).status == 404
    assert (await browser.confirmed("/web/ops/operators/99/active", {"active": "0"})).status == 404


def test_an_older_database_gains_the_logins_table() -> None:
    """A portal database made before last logins were kept gains their table on open."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    schema.migrate(conn, target=1)  # the schema this table came after
    schema.create(conn)
    schema.create(conn)
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "web_operator_logins" in tables
