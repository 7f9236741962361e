"""SMGP's small formats: the MD5 login authenticators, timestamps, MsgIDs and the status report."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from smsmenu.gateway.smgp_packets import MSG_ID

REPORT = 122
"""Octets of a status report's MsgContent."""
_FIELDS = (("id:", MSG_ID), (" sub:", 3), (" dlvrd:", 3), (" Submit date:", 10),
           (" done date:", 10), (" stat:", 7), (" err:", 3), (" Text:", 20))  # fmt: skip
_OFFSETS = [(label, sum(len(lb) + n for lb, n in _FIELDS[:i]))
            for i, (label, _size) in enumerate(_FIELDS)]
"""Where each label starts in the 122 octets (``id:`` at 0, `` sub:`` at 13 ...)."""
_LOOSE = re.compile(rb"(sub|dlvrd|submit date|done date|stat|err):(\S*)", re.IGNORECASE)


def timestamp(now: dt.datetime) -> int:
    """Login's TimeStamp: MMDDHHMMSS as a number."""
    return int(now.strftime("%m%d%H%M%S"))


def client_authenticator(client_id: str, secret: str, stamp: int) -> bytes:
    """MD5(ClientID + 7 zero octets + shared secret + timestamp as 10 digits)."""
    data = client_id.encode("ascii") + b"\0" * 7 + secret.encode("utf-8") + f"{stamp:010d}".encode()
    return hashlib.md5(data, usedforsecurity=False).digest()


def server_authenticator(status: int, client: bytes, secret: str) -> bytes:
    """MD5(Status u32 + AuthenticatorClient + shared secret): the ISMG proves it knows it too."""
    data = status.to_bytes(4, "big") + client + secret.encode("utf-8")
    return hashlib.md5(data, usedforsecurity=False).digest()


def bcd(digits: str) -> bytes:
    """Packed BCD of an even number of decimal digits."""
    return bytes.fromhex(digits)


def msg_id(gateway: int, when: dt.datetime, sequence: int) -> bytes:
    """A 10-octet MsgID: 6-digit gateway code, MMDDHHMM, 6-digit sequence, all BCD."""
    return bcd(f"{gateway % 10**6:06d}{when:%m%d%H%M}{sequence % 10**6:06d}")


def msg_id_text(raw: bytes) -> str:
    """A MsgID as we store it: its 20 hex digits (the BCD digits when it is BCD)."""
    return raw.hex()


@dataclass(frozen=True, slots=True)
class Report:
    """A status report on an MT we submitted."""

    msg_id: bytes
    stat: str
    err: str = "000"
    sub: str = "001"
    dlvrd: str = "001"
    submit_date: str = ""
    done_date: str = ""
    text: bytes = b""

    def body(self) -> bytes:
        """The fixed 122-octet MsgContent, each field cut or NUL-padded to its width."""
        values = (self.msg_id, *(v.encode("ascii") for v in (
            self.sub, self.dlvrd, self.submit_date, self.done_date, self.stat, self.err)),
            self.text)  # fmt: skip
        return b"".join(label.encode("ascii") + raw[:size].ljust(size, b"\0")
                        for (label, size), raw in zip(_FIELDS, values, strict=True))


def parse_report(content: bytes) -> Report | None:
    """The report in a Deliver's MsgContent: by fixed offsets when it is the 122-octet layout,
    else by its labels (gateways that pad differently); None without ``id:`` + 10 octets."""
    if len(content) < 3 + MSG_ID or not content.startswith(b"id:"):
        return None
    raw_id = content[3 : 3 + MSG_ID]
    if len(content) == REPORT and all(content.startswith(label.encode(), at)
                                      for label, at in _OFFSETS):  # fmt: skip
        parts, pos = [], 0
        for label, size in _FIELDS:
            pos += len(label)
            parts.append(content[pos : pos + size])
            pos += size
        text = [p.rstrip(b"\0 ").decode("latin-1") for p in parts[1:7]]
        return Report(raw_id, text[4], text[5], text[0], text[1], text[2], text[3],
                      parts[7].rstrip(b"\0"))  # fmt: skip
    found = {k.lower().decode(): v.rstrip(b"\0").decode("latin-1")
             for k, v in _LOOSE.findall(content[3 + MSG_ID :])}  # fmt: skip
    return Report(raw_id, found.get("stat", ""), found.get("err", ""), found.get("sub", ""),
                  found.get("dlvrd", ""), found.get("submit date", ""),
                  found.get("done date", ""))  # fmt: skip

