"""The back office's audit log for an auditor: in words, in local time, one row per effect,
filtered by action, operator, agent and dates, and the same rows as CSV."""

from __future__ import annotations

import csv
import io
import re

from web_support import Browser, sql

from ledger import Ledger
from smsmenu.core.clock import ManualClock


async def _deposit_twice(browser: Browser) -> None:
    """A clerk deposits 800 yuan and the browser sends the form again (a refresh)."""
    await browser.login_operator("clerk")
    page = await browser.get("/web/ops/agents/1")
    key = re.findall(r'name="key" value="(\w+)"', page.text)[0]
    for _ in range(2):
        await browser.confirmed("/web/ops/agents/1/deposit", {"amount": "800", "key": key})


async def test_one_row_per_effect_in_words(browser: Browser, ledger: Ledger,
                                           agent: dict[str, object],
                                           operators: dict[str, str]) -> None:
    """A refreshed deposit is one row, shown with who, local (Beijing) time, the agent, the
    amount in yuan and the detail in words: no raw action code, no JSON, no key."""
    await _deposit_twice(browser)
    assert await sql(ledger, "SELECT COUNT(*) FROM web_audit WHERE action = 'deposit' AND "
                             "role = 'clerk'") == [(1,)]
    (at,) = (await sql(ledger, "SELECT at FROM web_audit WHERE role = 'clerk' AND "
                               "action = 'deposit'"))[0]
    await browser.login_operator("supervisor")
    page = (await browser.get("/web/ops/audit?action=deposit&operator=clerk")).text
    rows = page.split('id="audit"')[1].split("</table>")[0]
    assert rows.count("<tr>") == 2  # the header and the one deposit
    assert "clerk (营业员)" in rows and "存款" in rows and "A00000001" in rows
    assert "800.00" in rows and "营业厅存款，存入后余额 1300.00 元，定额发票 80.00 元" in rows
    assert "2026-11-10 10:00:00" in rows and at.startswith("2026-11-10T02:00:00")
    assert "{" not in rows and "key" not in rows and ">deposit<" not in rows


async def test_filters_and_csv(browser: Browser, ledger: Ledger, clock: ManualClock,
                               agent: dict[str, object], operators: dict[str, str]) -> None:
    """By action, operator, agent and dates; the CSV has the same rows in the same words."""
    await _deposit_twice(browser)
    clock.advance(days=2)
    await browser.login_operator("clerk")
    await browser.get("/web/ops/agents/1")
    await browser.confirmed("/web/ops/agents/1/unlock", {})
    await browser.login_operator("supervisor")

    async def actions(query: str) -> list[str]:
        text = (await browser.get(f"/web/ops/audit?{query}")).text
        if 'id="audit"' not in text:
            return []
        body = text.split('id="audit"')[1].split("<tbody>")[1].split("</tbody>")[0]
        return re.findall(r"<tr><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td>", body)
    assert await actions("operator=clerk") == ["解除密码锁定", "登录", "存款", "登录"]
    assert await actions("operator=clerk&action=unlock") == ["解除密码锁定"]
    assert await actions("agent=A00000001&operator=clerk") == ["解除密码锁定", "存款"]
    assert await actions("agent=2") == []
    assert await actions("operator=clerk&from=2026-11-10&to=2026-11-10") == ["存款", "登录"]
    assert await actions("operator=clerk&from=2026-11-12") == ["解除密码锁定", "登录"]
    assert (await browser.get("/web/ops/audit?from=2026-13-01")).status == 400
    response = await browser.client.get("/web/ops/audit.csv?operator=clerk&action=deposit")
    assert response.status == 200 and response.content_type == "text/csv"
    lines = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    assert lines[0][:4] == ["#", "时间", "操作员", "操作"] and len(lines) == 2
    assert lines[1][2:6] == ["clerk (营业员)", "存款", "A00000001", "800.00"]
