"""The SMSC simulator seen from a bare ESME: binds, routing, parts, receipts and faults."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from simulator.smsc import SmscSimulator
from smsmenu.gateway.smpp_codec import (
    RINVBNDSTS,
    RINVCMDID,
    RINVCMDLEN,
    RINVPASWD,
    RINVSYSID,
    ROK,
    RTHROTTLED,
    Pdu,
    Sequence,
    encode,
    make,
    parse,
    text_field,
)
from smsmenu.gateway.smpp_reader import PduReader
from smsmenu.gateway.smpp_session import SmppSession
from smsmenu.gateway.smpp_text import Segment, message_parts, split

PHONE = "13312345678"
ROOT = str(Path(__file__).resolve().parents[2])


class RawEsme:
    """A bare ESME on SmppSession: records deliver_sm, answers them unless told to ignore some."""

    def __init__(self, session: SmppSession) -> None:
        self.session = session
        self.runner: asyncio.Task[None] | None = None
        self.delivered: asyncio.Queue[Pdu] = asyncio.Queue()
        self.ignore = 0

    async def on_request(self, session: SmppSession, pdu: Pdu) -> None:
        self.delivered.put_nowait(pdu)
        if self.ignore:
            self.ignore -= 1
            return
        session.respond(pdu)

    async def bind(self, command: str = "bind_transceiver", password: str = "secret",
                   system_id: str = "esme") -> Pdu:  # fmt: skip
        return await self.session.request(
            self.session.make(command, system_id=system_id, password=password)
        )

    async def submit(self, **fields: Any) -> Pdu:
        fields = {"source_addr": "10658", "destination_addr": PHONE, **fields}
        return await self.session.request(self.session.make("submit_sm", **fields))


@asynccontextmanager
async def raw_esme(smsc: SmscSimulator | int) -> AsyncIterator[RawEsme]:
    """A bare ESME connected to ``smsc`` (or to that port on 127.0.0.1), not yet bound."""
    port = smsc if isinstance(smsc, int) else smsc.port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    holder: list[RawEsme] = []
    session = SmppSession(reader, writer, lambda s, p: holder[0].on_request(s, p),
                          response_timeout=1.0, name="raw")  # fmt: skip
    esme = RawEsme(session)
    holder.append(esme)
    runner = esme.runner = asyncio.create_task(session.run())
    try:
        yield esme
    finally:
        await session.aclose()
        await asyncio.gather(runner, return_exceptions=True)


@pytest.fixture
async def smsc() -> AsyncIterator[SmscSimulator]:
    async with SmscSimulator({"esme": "secret", "other": "pw"}, redeliver_after=0.2,
                             retry_delay=0.01) as sim:  # fmt: skip
        yield sim


@pytest.mark.parametrize(
    ("system_id", "password", "status"),
    [
        pytest.param("esme", "nope", RINVPASWD, id="wrong-password"),
        pytest.param("nobody", "secret", RINVSYSID, id="unknown-system-id"),
    ],
)
async def test_bad_bind_is_refused_and_closed(
    smsc: SmscSimulator, system_id: str, password: str, status: int
) -> None:
    """A bind with bad credentials gets its error status and the connection is closed."""
    async with raw_esme(smsc) as esme:
        resp = await esme.bind(password=password, system_id=system_id)
        assert resp.status == status
        assert esme.runner is not None
        await asyncio.wait_for(esme.runner, 1)
    assert smsc.binds == [] and smsc.stats.bind_failures == 1


async def test_requests_before_bind_are_refused(smsc: SmscSimulator) -> None:
    """Before a bind, submit_sm gets generic_nack ESME_RINVBNDSTS; enquire_link is answered."""
    async with raw_esme(smsc) as esme:
        assert (await esme.session.request(esme.session.make("enquire_link"))).status == ROK
        resp = await esme.submit(short_message=b"x")
        assert (resp.command, resp.status) == ("generic_nack", RINVBNDSTS)


@pytest.mark.parametrize(
    ("command", "submits", "receives"),
    [
        pytest.param("bind_transceiver", True, True, id="transceiver"),
        pytest.param("bind_transmitter", True, False, id="transmitter"),
        pytest.param("bind_receiver", False, True, id="receiver"),
    ],
)
async def test_bind_modes(smsc: SmscSimulator, command: str, submits: bool, receives: bool) -> None:
    """Transmitters may submit, receivers get deliver_sm, transceivers both."""
    async with raw_esme(smsc) as esme:
        assert (await esme.bind(command)).status == ROK
        resp = await esme.submit(short_message=b"hi")
        assert resp.status == (ROK if submits else RINVCMDID)
        await smsc.handset(PHONE).send("1")
        got = await asyncio.wait_for(esme.delivered.get(), 0.3) if receives else None
        if receives:
            assert got is not None and got.short_message == b"1"
        else:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(esme.delivered.get(), 0.2)


async def test_mo_is_round_robin_over_receivers(smsc: SmscSimulator) -> None:
    """MO from handsets is spread over the bound receivers in turn."""
    async with raw_esme(smsc) as one, raw_esme(smsc) as two:
        await one.bind()
        await two.bind("bind_receiver", system_id="other", password="pw")
        tickets = [await smsc.handset(f"1331234560{i}").send("1") for i in range(4)]
        await asyncio.wait_for(asyncio.gather(*(t.delivered() for t in tickets)), 1)
        assert (one.delivered.qsize(), two.delivered.qsize()) == (2, 2)


async def test_unacknowledged_deliver_sm_is_redelivered(smsc: SmscSimulator) -> None:
    """A deliver_sm without a response is sent again after the timeout, until acknowledged."""
    async with raw_esme(smsc) as esme:
        await esme.bind()
        esme.ignore = 2
        ticket = await smsc.handset(PHONE).send("9")
        await asyncio.wait_for(ticket.delivered(), 2)
        pdus = [esme.delivered.get_nowait() for _ in range(3)]
    assert ticket.attempts == 3 and smsc.stats.redeliveries == 2
    assert [p.short_message for p in pdus] == [b"9"] * 3
    assert len({p.sequence for p in pdus}) == 3


async def test_redelivery_goes_to_another_bind(smsc: SmscSimulator) -> None:
    """With several binds up, an MO one bind did not acknowledge is redelivered on another
    (as to another server instance), whoever else the round-robin served meanwhile; with one
    bind up, on that one again."""
    async with raw_esme(smsc) as one, raw_esme(smsc) as two:
        await one.bind()
        await two.bind("bind_receiver", system_id="other", password="pw")
        silent, = [c for c in smsc.binds if c.system_id == "esme"]
        picks = [await smsc.mo.receiver(avoid=silent) for _ in range(5)]
        assert all(c.system_id == "other" for c in picks)
        one.ignore = 1
        ticket = await smsc.handset(PHONE).send("9")
        await asyncio.wait_for(ticket.delivered(), 2)
        assert ticket.attempts <= 2 and one.delivered.qsize() <= 1
    async with raw_esme(smsc) as only:
        await only.bind()
        alone = [c for c in smsc.binds if c.receives]
        assert await smsc.mo.receiver(avoid=alone[0]) is alone[0]


@pytest.mark.parametrize(
    ("concat", "ref_bits"),
    [pytest.param("udh8", 8, id="udh8"), pytest.param("udh16", 16, id="udh16"),
     pytest.param("sar", 16, id="sar")],
)  # fmt: skip
async def test_long_mo_is_split_when_asked(smsc: SmscSimulator, concat: Any, ref_bits: int) -> None:
    """A long MO goes out as concatenated parts: UDH with 8/16-bit reference, or SAR TLVs."""
    text = "充" * 150
    async with raw_esme(smsc) as esme:
        await esme.bind()
        ticket = await smsc.handset(PHONE).send(text, concat=concat)
        await asyncio.wait_for(ticket.delivered(), 1)
        parts = [message_parts(esme.delivered.get_nowait()) for _ in range(3)]
    segments = [seg for seg, _ in parts]
    assert all(isinstance(s, Segment) and s.total == 3 for s in segments)
    assert [s.seqnum for s in segments if s] == [1, 2, 3]
    assert b"".join(body for _, body in parts).decode("utf-16-be") == text


async def test_concatenated_mt_lands_whole_with_receipts(smsc: SmscSimulator) -> None:
    """Submitted parts show as one text in the inbox; each part gets a delivery receipt."""
    text = "话费充值成功" * 30
    coding, esm_class, parts = split(text, ref=77)
    async with raw_esme(smsc) as esme:
        await esme.bind()
        ids = []
        for part in parts:
            resp = await esme.submit(short_message=part, data_coding=coding,
                                     esm_class=esm_class, registered_delivery=1)  # fmt: skip
            ids.append(text_field(resp.message_id))
        received = await smsc.handset(PHONE).receive(timeout=1)
        receipts = [await asyncio.wait_for(esme.delivered.get(), 1) for _ in parts]
    assert (received.text, received.sender) == (text, "10658")
    assert received.message_ids == tuple(ids)
    assert [text_field(r.receipted_message_id) for r in receipts] == ids
    assert all(r.esm_class == 0x04 and b"stat:DELIVRD" in r.short_message for r in receipts)


async def test_throttle_and_delay_faults(smsc: SmscSimulator) -> None:
    """Faults: the next N submits are throttled, and responses can be held back."""
    smsc.faults.throttle_next = 1
    async with raw_esme(smsc) as esme:
        await esme.bind()
        assert (await esme.submit(short_message=b"a")).status == RTHROTTLED
        smsc.faults.submit_delay = 0.1
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert (await esme.submit(short_message=b"b")).status == ROK
        assert loop.time() - started >= 0.1
    assert [m.text for m in smsc.handset(PHONE).inbox] == ["b"]


async def test_drop_links_cuts_every_esme(smsc: SmscSimulator) -> None:
    """drop_links closes every ESME connection without unbind."""
    async with raw_esme(smsc) as esme:
        await esme.bind()
        await smsc.wait_bound()
        await smsc.drop_links()
        assert esme.runner is not None
        await asyncio.wait_for(esme.runner, 1)
    assert smsc.binds == []


async def test_garbage_from_an_esme_gets_generic_nack(smsc: SmscSimulator) -> None:
    """Garbage on the socket is answered with generic_nack and the link stays usable."""
    reader, writer = await asyncio.open_connection("127.0.0.1", smsc.port)
    frames = PduReader(reader)
    try:
        writer.write(b"\xff\xfe garbage bytes")
        writer.write(encode(make("enquire_link", Sequence(), sequence=42)))
        raw = [await frames.read(), await frames.read()]
        first, second = [parse(f) for f in raw if isinstance(f, bytes)]
    finally:
        writer.close()
        await writer.wait_closed()
    assert (first.command, first.status) == ("generic_nack", RINVCMDLEN)
    assert (second.command, second.sequence) == ("enquire_link_resp", 42)


async def test_handset_receive_times_out(smsc: SmscSimulator) -> None:
    """receive() raises TimeoutError when nothing arrives."""
    with pytest.raises(TimeoutError):
        await smsc.handset(PHONE).receive(timeout=0.05)
    assert smsc.handset(PHONE).inbox == []


async def test_the_standalone_simulator_has_no_well_known_account(tmp_path: Path) -> None:
    """`smsmenu smsc` without --account makes smsmenu's password anew and prints it; the old
    default smsmenu:secret (anyone could bind it and take the agents' MO) is refused."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSMENU_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smsmenu", "smsc", "--port", "0", stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL, cwd=tmp_path, env={**env, "PYTHONPATH": ROOT})
    assert proc.stdout is not None
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        found = re.search(r"listening on 127\.0\.0\.1:(\d+) \(accounts: smsmenu:(\w{8});", line)
        assert found, line
        port, password = int(found[1]), found[2]
        async with raw_esme(port) as esme:
            assert (await esme.bind(system_id="smsmenu", password="secret")).status == RINVPASWD
        async with raw_esme(port) as esme:
            assert (await esme.bind(system_id="smsmenu", password=password)).status == ROK
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
