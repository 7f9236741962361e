"""SMPP 3.4 PDUs on smpplib's codec: sequences, building, tolerant parsing, status names."""

from __future__ import annotations

import functools
import struct
from typing import Any

from smpplib import command_codes, consts, smpp

Pdu = Any
"""An smpplib ``Command`` (untyped); parsed ones also carry ``tlvs: dict[int, bytes]``."""

HEADER = 16
MAX_PDU = 65_536
MAX_SEQUENCE = 0x7FFFFFFF

ROK: int = consts.SMPP_ESME_ROK
RINVCMDLEN: int = consts.SMPP_ESME_RINVCMDLEN
RINVCMDID: int = consts.SMPP_ESME_RINVCMDID
RINVBNDSTS: int = consts.SMPP_ESME_RINVBNDSTS
RALYBND: int = consts.SMPP_ESME_RALYBND
RSYSERR: int = consts.SMPP_ESME_RSYSERR
RINVPASWD: int = consts.SMPP_ESME_RINVPASWD
RINVSYSID: int = consts.SMPP_ESME_RINVSYSID
RMSGQFUL: int = consts.SMPP_ESME_RMSGQFUL
RTHROTTLED: int = consts.SMPP_ESME_RTHROTTLED
RX_T_APPNACK: int = consts.SMPP_ESME_RX_T_APPN
"""0x64 "temporary application error": the SMSC keeps the deliver_sm and redelivers it."""

_NAMES = {code: name for name, code in command_codes.commands.items()}
_TLV_NAMES = {code: name for name, code in consts.OPTIONAL_PARAMS.items()}


class PduError(ValueError):
    """A frame that is not a PDU we can read; answered with ``generic_nack``."""

    def __init__(self, why: str, sequence: int = 0, status: int = RINVCMDLEN) -> None:
        super().__init__(why)
        self.sequence = sequence
        self.status = status


class Sequence:
    """The sequence source smpplib asks for (``client=``): 1..0x7FFFFFFF, wrapping."""

    def __init__(self, start: int = 0) -> None:
        self.sequence = start

    def next_sequence(self) -> int:
        self.sequence = 1 if self.sequence >= MAX_SEQUENCE else self.sequence + 1
        return self.sequence


_PARSE_SEQUENCE = Sequence()  # parse() overwrites the number; this only feeds smpplib's __init__


def status_text(status: int) -> str:
    """``0x58 Throttling error ...`` for logs and errors."""
    return f"0x{status:08X} {consts.DESCRIPTIONS.get(status, 'unknown status')}"


def make(command: str, seq: Sequence, *, sequence: int | None = None, **fields: Any) -> Pdu:
    """Build a PDU; strings as ``str``, octet strings as ``bytes``. Responses pass ``sequence``."""
    pdu = smpp.make_pdu(command, client=seq, **fields)
    if sequence is not None:
        pdu.sequence = sequence  # smpplib ignores a sequence kwarg: it must be set afterwards
    return pdu


def encode(pdu: Pdu, tlvs: dict[int, bytes] | None = None) -> bytes:
    """The wire bytes of ``pdu``, with extra (e.g. vendor) TLVs appended after smpplib's."""
    data = bytes(pdu.generate())
    if not tlvs:
        return data
    extra = b"".join(struct.pack(">HH", tag, len(v)) + v for tag, v in tlvs.items())
    return struct.pack(">L", len(data) + len(extra)) + data[4:] + extra


def _parse_tlvs(pdu: Pdu, data: bytes) -> None:
    """Bounds-checked TLVs: known ones set as attributes, every one kept in ``pdu.tlvs``."""
    pos = 0
    while pos < len(data):
        if pos + 4 > len(data):
            raise PduError("truncated TLV header")
        tag, length = struct.unpack_from(">HH", data, pos)
        value = data[pos + 4 : pos + 4 + length]
        if len(value) != length:
            raise PduError(f"truncated TLV 0x{tag:04X}")
        pos += 4 + length
        pdu.tlvs[tag] = value
        name = _TLV_NAMES.get(tag, "")
        param = pdu.params.get(name)
        if param is None:
            continue  # a vendor or misplaced TLV: kept in .tlvs, never fatal
        if param.type is int:
            setattr(pdu, name, int.from_bytes(value, "big"))
        elif param.type is str:
            setattr(pdu, name, value.rstrip(b"\0"))
        else:
            setattr(pdu, name, value)


def _parse_cstring(
    pdu: Pdu, field: str, data: bytes, pos: int, length: int | None = None
) -> tuple[bytes, int]:
    """smpplib's string reader, but a missing NUL is an error instead of a wild position."""
    end = data.find(b"\0", pos) if length is None else pos + length - 1
    if end < pos or end >= len(data):
        raise PduError(f"unterminated {field}")
    setattr(pdu, field, data[pos:end])
    return data, end + 1


def _parse_octets(
    pdu: Pdu, field: str, data: bytes, pos: int, length: int | None = None
) -> tuple[bytes, int]:
    if length is None:
        length = int(getattr(pdu, pdu.params[field].len_field) or 0)
    if pos + length > len(data):
        raise PduError(f"{field} runs past the end of the PDU")
    setattr(pdu, field, data[pos : pos + length])
    return data, pos + length


def parse(frame: bytes) -> Pdu:
    """Parse one whole frame; raise ``PduError`` (with what to nack) if it is not a PDU."""
    if len(frame) < HEADER:
        raise PduError("frame shorter than a header")
    length, code, _status, sequence = struct.unpack_from(">LLLL", frame)
    name = _NAMES.get(code)
    if name is None or length != len(frame):
        raise PduError(f"unknown command 0x{code:08X}", sequence, RINVCMDID)
    try:
        pdu = smpp.make_pdu(name, client=_PARSE_SEQUENCE, allow_unknown_opt_params=True)
    except Exception as exc:  # a command smpplib cannot build (replace_sm, outbind, ...)
        raise PduError(f"unsupported command {name}", sequence, RINVCMDID) from exc
    pdu.tlvs = {}
    pdu.parse_optional_params = functools.partial(_parse_tlvs, pdu)
    pdu._parse_string = functools.partial(_parse_cstring, pdu)
    pdu._parse_ostring = functools.partial(_parse_octets, pdu)
    try:
        pdu.parse(frame)
    except PduError as exc:
        exc.sequence = sequence
        raise
    except Exception as exc:  # struct.error, IndexError, ... from a malformed body
        raise PduError(f"malformed {name}: {exc!r}", sequence) from exc
    finally:  # the readers hold the PDU: without them it is freed at once, not by the GC
        del pdu.parse_optional_params, pdu._parse_string, pdu._parse_ostring
    return pdu


def text_field(value: bytes | str | None) -> str:
    """A parsed C-string field (bytes in smpplib) as ``str``."""
    if value is None:
        return ""
    return value.decode("latin-1") if isinstance(value, bytes) else value
