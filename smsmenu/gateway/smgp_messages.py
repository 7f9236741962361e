"""SMGP 3.0 messages proper: Submit (an MT), Deliver (an MO or a status report) and their responses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smsmenu.gateway.smgp_codec import RESPONSE, Cmd
from smsmenu.gateway.smgp_fields import Reader, TLVs, decode_tlvs, encode_tlvs, fixed

MSG_ID = 10
"""MsgID octets: gateway code (3 BCD), MMDDHHMM (4 BCD), sequence (3 BCD)."""
TERM_ID = 21


@dataclass(frozen=True, slots=True)
class Submit:
    """An MT. Our defaults: an MT reply (MsgType 6), free (FeeType "00", FeeCode "000000")."""

    src_term_id: str
    dest_term_ids: tuple[str, ...]
    content: bytes
    msg_format: int = 8
    need_report: int = 1
    priority: int = 1
    service_id: str = ""
    fee_type: str = "00"
    fee_code: str = "000000"
    fixed_fee: str = "000000"
    valid_time: str = ""
    at_time: str = ""
    charge_term_id: str = ""
    msg_type: int = 6
    reserve: bytes = b""
    tlvs: TLVs = ()
    COMMAND: ClassVar[int] = Cmd.SUBMIT

    def body(self) -> bytes:
        if not 1 <= len(self.dest_term_ids) <= 100 or len(self.content) > 255:
            raise ValueError("a Submit goes to 1..100 numbers with at most 255 octets")
        return b"".join([
            bytes([self.msg_type, self.need_report, self.priority]), fixed(self.service_id, 10),
            fixed(self.fee_type, 2), fixed(self.fee_code, 6), fixed(self.fixed_fee, 6),
            bytes([self.msg_format]), fixed(self.valid_time, 17), fixed(self.at_time, 17),
            fixed(self.src_term_id, TERM_ID), fixed(self.charge_term_id, TERM_ID),
            bytes([len(self.dest_term_ids)]),
            *(fixed(d, TERM_ID) for d in self.dest_term_ids),
            bytes([len(self.content)]), self.content, fixed(self.reserve, 8),
            encode_tlvs(self.tlvs)])  # fmt: skip

    @classmethod
    def parse(cls, r: Reader) -> Submit:
        msg_type, need_report, priority = r.u8(), r.u8(), r.u8()
        service_id, fee_type, fee_code, fixed_fee = r.text(10), r.text(2), r.text(6), r.text(6)
        msg_format, valid_time, at_time = r.u8(), r.text(17), r.text(17)
        src, charge = r.text(TERM_ID), r.text(TERM_ID)
        dests = tuple(r.text(TERM_ID) for _ in range(r.u8()))
        content = r.take(r.u8())
        reserve = r.take(8).rstrip(b"\0")
        return cls(src, dests, content, msg_format, need_report, priority, service_id, fee_type,
                   fee_code, fixed_fee, valid_time, at_time, charge, msg_type, reserve,
                   decode_tlvs(r.rest()))  # fmt: skip


@dataclass(frozen=True, slots=True)
class SubmitResp:
    msg_id: bytes
    status: int
    COMMAND: ClassVar[int] = Cmd.SUBMIT | RESPONSE

    def body(self) -> bytes:
        return fixed(self.msg_id, MSG_ID) + self.status.to_bytes(4, "big")

    @classmethod
    def parse(cls, r: Reader) -> SubmitResp:
        return cls(r.take(MSG_ID), r.u32())


@dataclass(frozen=True, slots=True)
class Deliver:
    """An MO (``is_report`` 0) or a status report (1, ``content`` the 122-octet report)."""

    msg_id: bytes
    src_term_id: str
    dest_term_id: str
    content: bytes
    msg_format: int = 8
    is_report: int = 0
    recv_time: str = ""
    """YYYYMMDDHHMMSS."""
    reserve: bytes = b""
    tlvs: TLVs = ()
    COMMAND: ClassVar[int] = Cmd.DELIVER

    def body(self) -> bytes:
        if len(self.content) > 255:
            raise ValueError("a Deliver carries at most 255 octets")
        return b"".join([
            fixed(self.msg_id, MSG_ID), bytes([self.is_report, self.msg_format]),
            fixed(self.recv_time, 14), fixed(self.src_term_id, TERM_ID),
            fixed(self.dest_term_id, TERM_ID), bytes([len(self.content)]), self.content,
            fixed(self.reserve, 8), encode_tlvs(self.tlvs)])  # fmt: skip

    @classmethod
    def parse(cls, r: Reader) -> Deliver:
        msg_id, is_report, msg_format, recv_time = r.take(MSG_ID), r.u8(), r.u8(), r.text(14)
        src, dest = r.text(TERM_ID), r.text(TERM_ID)
        content = r.take(r.u8())
        reserve = r.take(8).rstrip(b"\0")
        return cls(msg_id, src, dest, content, msg_format, is_report, recv_time, reserve,
                   decode_tlvs(r.rest()))  # fmt: skip


@dataclass(frozen=True, slots=True)
class DeliverResp:
    msg_id: bytes
    status: int
    COMMAND: ClassVar[int] = Cmd.DELIVER | RESPONSE

    def body(self) -> bytes:
        return fixed(self.msg_id, MSG_ID) + self.status.to_bytes(4, "big")

    @classmethod
    def parse(cls, r: Reader) -> DeliverResp:
        return cls(r.take(MSG_ID), r.u32())
