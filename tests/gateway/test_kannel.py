"""Kannel interop: our get-url endpoint and sendsms gateway, and a real Kannel between SMSC and us."""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote_from_bytes

import aiohttp
import pytest
from aiohttp import web

from ledger import Ledger, outbox
from ledger.store.queries import scalar
from simulator.billing import BillingSimulator
from simulator.smsc import SmscSimulator
from smsmenu.core.clock import ManualClock, iso
from smsmenu.core.settings import KannelSettings, Settings
from smsmenu.core.types import Inbound, Reply, TargetKind
from smsmenu.gateway.base import FunctionHandler
from smsmenu.gateway.kannel import KannelGateway, decode_text, mo_url, routes
from smsmenu.server.main import running

pytestmark = pytest.mark.both_engines

AGENT, TX, CUSTOMER = "18912345678", "123456", "18900001111"
KANNEL = "kannel", "kpass"
TOKEN = "kannel-token-0123456789"
SENDSMS = "smsmenu", "spass"
LONG = ("您的充值已成功到账，感谢使用空中充值业务。" * 15)[:300]


def test_mo_text_is_decoded_by_its_kannel_coding() -> None:
    """UCS2 (coding 2) is UTF-16-BE; otherwise the charset Kannel names, UTF-8 by default."""
    assert decode_text("查余额".encode("utf-16-be"), "2", "UTF-16BE") == "查余额"
    assert decode_text("查余额".encode("utf-16-be"), "", "UCS-2") == "查余额"
    assert decode_text("充值1".encode(), "0", "UTF-8") == "充值1"
    assert decode_text(b"caf\xe9", "0", "ISO-8859-1") == "café"
    assert decode_text(b"123", "0", "gsm") == "123"
    assert decode_text(b"\xff1", "0", "") == "\xff1"


def test_sendsms_asks_ucs2_for_chinese_and_a_report_with_our_id() -> None:
    """coding=2 with charset UTF-8 for Chinese, 0 for GSM text; the dlr-url carries our id."""
    gateway = KannelGateway(KannelSettings(sendsms_url="http://k/cgi-bin/sendsms", password="p",
                                           smsc_id="sim", token=(TOKEN, "older")),
                            dlr_url="http://us/kannel/dlr")  # fmt: skip
    chinese = gateway.params(Reply(CUSTOMER, "充值成功"), "m1")
    assert (chinese["coding"], chinese["charset"], chinese["smsc"]) == ("2", "UTF-8", "sim")
    assert chinese["dlr-url"] == f"http://us/kannel/dlr?id=m1&status=%d&token={TOKEN}"
    assert gateway.params(Reply(CUSTOMER, "OK 100"), "m2")["coding"] == "0"


async def test_get_url_endpoint_feeds_the_handler_and_answers_empty() -> None:
    """GET /kannel/mo: one Inbound keyed by Kannel's id, an empty answer; /kannel/dlr stores."""
    seen: list[Inbound] = []
    receipts: list[tuple[str, str]] = []

    async def handler(msg: Inbound) -> list[Reply]:
        seen.append(msg)
        return [Reply(msg.msisdn, "reply goes by the outbox")]

    async def on_receipt(message_id: str, stat: str, raw: str) -> None:
        receipts.append((message_id, stat))

    app = web.Application()
    app.add_routes(routes(FunctionHandler(handler), ManualClock("2026-11-10T10:00:00"), on_receipt,
                          accepted=(TOKEN,)))
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    body = quote_from_bytes("余额".encode("utf-16-be"))
    try:
        async with aiohttp.ClientSession() as http:
            url = f"{base}/kannel/mo?token={TOKEN}&from=%2B86{AGENT}&to=10658&text={body}" \
                  f"&coding=2&id=abc-1"
            async with http.get(url) as resp:
                assert (resp.status, await resp.text()) == (200, "")
            async with http.get(f"{base}/kannel/mo?token={TOKEN}&to=10658&text=1") as resp:
                assert resp.status == 400
            async with http.get(f"{base}/kannel/dlr?token={TOKEN}&id=m1&status=1") as resp:
                assert resp.status == 200
            async with http.get(f"{base}/kannel/dlr?token={TOKEN}&id=m2&status=8") as resp:
                assert resp.status == 200
    finally:
        await runner.cleanup()
    assert [(m.msisdn, m.text, m.key) for m in seen] == [(AGENT, "余额", "kannel:abc-1")]
    assert receipts == [("m1", "DELIVRD")]


def test_mo_url_carries_the_token() -> None:
    """The get-url we hand Kannel holds ``token`` (quoted) before Kannel's own escapes."""
    assert mo_url("http://us:8080", "a b/c") == (
        "http://us:8080/kannel/mo?token=a%20b%2Fc&from=%p&to=%P&text=%b&coding=%c&charset=%C"
        "&id=%I&smsc=%i")


@asynccontextmanager
async def kannel_routes() -> AsyncIterator[tuple[str, list[Inbound], list[tuple[str, str]]]]:
    """Our Kannel routes alone on a free port: the base URL, the MO and receipts they took."""
    seen: list[Inbound] = []
    receipts: list[tuple[str, str]] = []

    async def handler(msg: Inbound) -> list[Reply]:
        seen.append(msg)
        return []

    async def on_receipt(message_id: str, stat: str, raw: str) -> None:
        receipts.append((message_id, stat))

    app = web.Application()
    app.add_routes(routes(FunctionHandler(handler), ManualClock("2026-11-10T10:00:00"), on_receipt,
                          accepted=(TOKEN, "rotated-token-0123456789")))
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", seen, receipts
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(("query", "code"), [
    pytest.param("", 401, id="no-token"),
    pytest.param("token=&", 401, id="empty-token"),
    pytest.param("token=wrong&", 401, id="wrong-token"),
    pytest.param(f"token={TOKEN}&", 200, id="token"),
    pytest.param("token=rotated-token-0123456789&", 200, id="rotated-token"),
])
async def test_kannel_must_send_the_token(query: str, code: int) -> None:
    """/kannel/mo and /kannel/dlr want ``token``; without it 401 and nothing is taken."""
    async with kannel_routes() as (base, seen, receipts), aiohttp.ClientSession() as http:
        async with http.get(f"{base}/kannel/mo?{query}from={AGENT}&text=1&id=k1") as resp:
            assert resp.status == code
        async with http.get(f"{base}/kannel/dlr?{query}id=m1&status=1") as resp:
            assert resp.status == code
    assert (len(seen), len(receipts)) == ((1, 1) if code == 200 else (0, 0))


@pytest.mark.parametrize(("path", "reason"), [
    pytest.param(f"/kannel/mo?token={TOKEN}&from={AGENT}&text=x%9C&charset=zlib_codec",
                 "'zlib_codec' is not a text charset", id="zlib-charset"),
    pytest.param(f"/kannel/mo?token={TOKEN}&from={AGENT}&text=MQ%3D%3D&charset=base64",
                 "'base64' is not a text charset", id="base64-charset"),
    pytest.param(f"/kannel/mo?token={TOKEN}&from={AGENT}&text=1&charset=no-such",
                 "'no-such' is not a text charset", id="unknown-charset"),
    pytest.param(f"/kannel/mo?token={TOKEN}&from=1891234567%C2%B2&text=1",
                 "'from' must be a phone number", id="superscript-digit-sender"),
    pytest.param(f"/kannel/mo?token={TOKEN}&from={AGENT}&text=1&id={'i' * 129}",
                 "'id' must be at most 128", id="long-id"),
    pytest.param(f"/kannel/dlr?token={TOKEN}&id=m1&status=%C2%B2",
                 "'status' must be Kannel's number", id="superscript-status"),
    pytest.param(f"/kannel/dlr?token={TOKEN}&id=m1&status=%D9%A3",
                 "'status' must be Kannel's number", id="arabic-indic-status"),
])
async def test_hostile_kannel_requests_get_a_400_with_the_reason(path: str, reason: str) -> None:
    """Non-text charsets, Unicode digits, huge ids: 400 with a text reason, never a 500."""
    async with kannel_routes() as (base, seen, receipts), aiohttp.ClientSession() as http, \
            http.get(f"{base}{path}") as resp:
        assert resp.status == 400
        assert reason in await resp.text()
    assert seen == [] and receipts == []


async def test_without_a_token_kannel_routes_are_off(settings: Settings, clock: ManualClock,
                                                     billing: BillingSimulator) -> None:
    """[kannel] sendsms_url without [kannel] token: the gateway sends, /kannel/* is 404."""
    settings = (settings.replace("http", port=0).replace("billing", url="http://127.0.0.1:0")
                .replace("kannel", sendsms_url="http://127.0.0.1:9/cgi-bin/sendsms"))
    async with running(settings, clock=clock, billing=billing) as run, \
            aiohttp.ClientSession(base_url=run.http_url) as http:
        assert run.kannel is not None
        for path in ("/kannel/mo", "/kannel/dlr"):
            async with http.get(f"{path}?from={AGENT}&text=1") as resp:
                assert resp.status == 404


# -- a real Kannel ---------------------------------------------------------------------------

BEARERBOX = shutil.which("bearerbox") or shutil.which("bearerbox", path="/usr/sbin:/usr/local/sbin")
SMSBOX = shutil.which("smsbox") or shutil.which("smsbox", path="/usr/sbin:/usr/local/sbin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Kannel:
    """A bearerbox and smsbox pair started from config written to ``home``."""

    home: Path
    admin: int
    smsbox: int
    sendsms: int

    def config(self, smsc_port: int, get_url: str) -> Path:
        """Core, an SMPP transceiver to our simulator, smsbox, a sendsms user, one service."""
        h = self.home
        text = f"""
group = core
admin-port = {self.admin}
admin-password = admin
admin-allow-ip = "127.0.0.1"
smsbox-port = {self.smsbox}
box-allow-ip = "127.0.0.1"
log-file = "{h}/bearerbox.log"
log-level = 1

group = smsc
smsc = smpp
smsc-id = sim
host = 127.0.0.1
port = {smsc_port}
transceiver-mode = true
smsc-username = "{KANNEL[0]}"
smsc-password = "{KANNEL[1]}"
system-type = ""
interface-version = 34
reconnect-delay = 1
enquire-link-interval = 30

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {self.smsbox}
sendsms-port = {self.sendsms}
sendsms-interface = 127.0.0.1
log-file = "{h}/smsbox.log"
log-level = 1
mo-recode = true

group = sendsms-user
username = {SENDSMS[0]}
password = {SENDSMS[1]}
max-messages = 10
concatenation = true

group = sms-service
keyword = default
catch-all = true
get-url = "{get_url}"
max-messages = 0
omit-empty = true
accept-x-kannel-headers = true
"""
        path = h / "kannel.conf"
        path.write_text(text, "utf-8")
        return path

    def logs(self) -> str:
        parts = []
        for name in ("bearerbox", "smsbox"):
            for suffix in (".log", ".out"):
                log = self.home / f"{name}{suffix}"
                if log.exists():
                    parts.append(f"----- {log.name} -----\n{log.read_text('utf-8', 'replace')[-6000:]}")
        return "\n".join(parts)


async def port_open(port: int, proc: asyncio.subprocess.Process, limit: float = 15.0) -> None:
    for _ in range(int(limit / 0.05)):
        if proc.returncode is not None:
            raise AssertionError(f"Kannel exited with {proc.returncode}")
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    raise AssertionError(f"nothing listens on port {port}")


async def start(binary: str, conf: Path, out: Path) -> asyncio.subprocess.Process:
    """A Kannel box in the foreground, its stdout and stderr to ``out``."""
    with out.open("wb") as sink:
        return await asyncio.create_subprocess_exec(binary, str(conf), stdout=sink,
                                                    stderr=asyncio.subprocess.STDOUT,
                                                    cwd=conf.parent)  # fmt: skip


async def stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 1)
        except TimeoutError:
            proc.kill()
            await proc.wait()


@pytest.fixture
def kannel(tmp_path: Path) -> Iterator[Kannel]:
    if BEARERBOX is None or SMSBOX is None:
        pytest.skip("Kannel is not installed (Debian package kannel: bearerbox, smsbox); "
                    "`make peers` installs it")
    box = Kannel(tmp_path, free_port(), free_port(), free_port())
    yield box
    print(box.logs())  # shown only when the test failed


@pytest.fixture
async def smsc() -> AsyncIterator[SmscSimulator]:
    async with SmscSimulator(dict([KANNEL])) as sim:
        yield sim


@pytest.mark.slow
async def test_recharge_dialog_through_kannel(
    kannel: Kannel, smsc: SmscSimulator, settings: Settings, clock: ManualClock,
    billing: BillingSimulator, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Handset -> SMSC -> Kannel (SMPP) -> get-url -> engine -> outbox -> sendsms -> handset."""
    codings: list[int] = []
    submit = smsc.mt.submit

    async def spy(session: Any, pdu: Any) -> None:
        codings.append(pdu.data_coding or 0)
        await submit(session, pdu)

    monkeypatch.setattr(smsc.mt, "submit", spy)
    sendsms = f"http://127.0.0.1:{kannel.sendsms}/cgi-bin/sendsms"
    settings = (settings.replace("http", port=0).replace("billing", url="http://127.0.0.1:0")
                .replace("kannel", sendsms_url=sendsms, username=SENDSMS[0], password=SENDSMS[1],
                         token=(TOKEN,)))
    async with running(settings, clock=clock, billing=billing) as run:
        conf = kannel.config(smsc.port, mo_url(run.http_url, TOKEN))
        procs: list[asyncio.subprocess.Process] = []
        try:
            for name, binary, port in (("bearerbox", BEARERBOX, kannel.admin),
                                       ("smsbox", SMSBOX, kannel.sendsms)):  # fmt: skip
                procs.append(await start(str(binary), conf, kannel.home / f"{name}.out"))
                await port_open(port, procs[-1])
            await asyncio.wait_for(smsc.wait_bound(), 15)
            await run.ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX,
                                        mgmt_password="654321")  # fmt: skip
            await run.ledger.deposit(key="d1", msisdn=AGENT, amount_fen=50_000, channel="counter")
            await dialog(smsc, run.ledger)
            await run.ledger.writer.run(partial(outbox.enqueue, to=AGENT, text=LONG, kind="menu",
                                                now=iso(clock.now())))  # fmt: skip
            run.dispatcher.poke()
            got = await smsc.handset(AGENT).receive(timeout=10)
            while got.text.startswith("【"):  # an opening or deposit notice retried late (load)
                got = await smsc.handset(AGENT).receive(timeout=10)
            assert got.text == LONG
            queued = scalar("SELECT COUNT(*) FROM outbox WHERE status = 'queued'")
            stored = scalar("SELECT COUNT(*) FROM outbox WHERE receipt = 'DELIVRD'")
            for _ in range(200):  # Kannel took every SMS and reported deliveries (/kannel/dlr)
                if not await run.ledger.read(queued) and await run.ledger.read(stored) >= 9:
                    break
                await asyncio.sleep(0.05)
            assert not await run.ledger.read(queued)
            assert await run.ledger.read(stored) >= 9
        finally:
            for proc in procs[::-1]:
                await stop(proc)
        keys = scalar("SELECT COUNT(*) FROM inbox WHERE key LIKE 'kannel:%'")
        assert await run.ledger.read(keys) == 6  # Kannel's message ids key the steps
        assert (await run.ledger.agent(AGENT)).balance_fen == 50_000 - 9_800
        assert await billing.balance(TargetKind.MOBILE, CUSTOMER) == 10_000
        assert not any((await run.ledger.verify()).values())
    assert codings and set(codings) == {8}, codings  # every text here is Chinese: UCS2


async def dialog(smsc: SmscSimulator, ledger: Ledger) -> None:
    """The menu walked key by key (the first a full-width "１": UCS2 MO); the receipt whole."""
    phone = smsc.handset(AGENT)
    steps = [("１", "1固定电话"), ("2", "请输入C网手机号码"), (CUSTOMER, "请输入金额"),
             ("100", "请核对"), ("1", "请输入交易密码"), (TX, "充值成功")]  # fmt: skip
    for key, expected in steps:
        await phone.send(key)
        while True:
            got = await phone.receive(timeout=10)
            if not got.text.startswith("【"):  # the opening and deposit notices
                break
        assert expected in got.text, (key, got.text)
    sent = await ledger.read(scalar("SELECT text FROM outbox WHERE text LIKE '充值成功%'"))
    assert got.text == sent and "单号" in got.text
    notice = await smsc.handset(CUSTOMER).receive(timeout=10)
    assert notice.text.startswith("【中国电信】您的手机18900001111于") and "成功充值100.00元" in notice.text
