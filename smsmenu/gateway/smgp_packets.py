"""The SMGP 3.0 packets we speak, as dataclasses (Submit and Deliver in ``smgp_messages``), and
parsing a frame into one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smsmenu.gateway.smgp_codec import RESPONSE, VERSION, Cmd, Frame, PacketError
from smsmenu.gateway.smgp_fields import Reader, fixed
from smsmenu.gateway.smgp_messages import MSG_ID, TERM_ID, Deliver, DeliverResp, Submit, SubmitResp

__all__ = ["MSG_ID", "TERM_ID", "Bare", "Deliver", "DeliverResp", "Login", "LoginResp", "Packet",
           "Submit", "SubmitResp", "Unsupported", "parse", "refusal"]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Login:
    client_id: str
    authenticator: bytes
    mode: int
    """0 send, 1 receive, 2 both."""
    timestamp: int
    """MMDDHHMMSS as a number (e.g. 1125230615)."""
    version: int = VERSION
    COMMAND: ClassVar[int] = Cmd.LOGIN

    def body(self) -> bytes:
        return (fixed(self.client_id, 8) + fixed(self.authenticator, 16) + bytes([self.mode])
                + self.timestamp.to_bytes(4, "big") + bytes([self.version]))

    @classmethod
    def parse(cls, r: Reader) -> Login:
        return cls(r.text(8), r.take(16), r.u8(), r.u32(), r.u8())


@dataclass(frozen=True, slots=True)
class LoginResp:
    status: int
    authenticator: bytes = b""
    version: int = VERSION
    COMMAND: ClassVar[int] = Cmd.LOGIN | RESPONSE

    def body(self) -> bytes:
        return self.status.to_bytes(4, "big") + fixed(self.authenticator, 16) + bytes([self.version])

    @classmethod
    def parse(cls, r: Reader) -> LoginResp:
        return cls(r.u32(), r.take(16), r.u8())


@dataclass(frozen=True, slots=True)
class Bare:
    """A packet with no body: ActiveTest, Exit and their responses."""

    command: int

    @property
    def COMMAND(self) -> int:
        return self.command

    def body(self) -> bytes:
        return b""


@dataclass(frozen=True, slots=True)
class Unsupported:
    """A request we do not serve (Query, routing updates...), or its answer: just a Status."""

    command: int
    status: int = 0

    @property
    def COMMAND(self) -> int:
        return self.command

    def body(self) -> bytes:
        return self.status.to_bytes(4, "big") if self.command & RESPONSE else b""


Packet = Login | LoginResp | Submit | SubmitResp | Deliver | DeliverResp | Bare | Unsupported
_PARSERS = {p.COMMAND: p.parse for p in (Login, LoginResp, Submit, SubmitResp, Deliver,
                                          DeliverResp)}  # fmt: skip
_BARE = frozenset(c | r for c in (Cmd.ACTIVE_TEST, Cmd.EXIT) for r in (0, RESPONSE))


def parse(f: Frame) -> Packet:
    """The packet a frame carries; ``PacketError`` when its body does not fit its command."""
    command = f.command
    parser = _PARSERS.get(command)
    if parser is not None:
        r = Reader(f.body)
        packet: Packet = parser(r)
        if r.pos != len(f.body):  # (Submit and Deliver take the rest as TLVs)
            raise PacketError(f"{len(f.body) - r.pos} octets after the body of 0x{command:X}")
        return packet
    if command in _BARE:
        return Bare(command)
    if 1 <= command & ~RESPONSE <= Cmd.LAST:
        status = int.from_bytes(f.body[:4], "big") if command & RESPONSE and f.body else 0
        return Unsupported(command, status)
    raise PacketError(f"unknown RequestID 0x{command:08X}", fatal=True)


def refusal(command: int, body: bytes, status: int) -> Packet:
    """The response to request ``command`` carrying ``status`` (busy, malformed...)."""
    if command == Cmd.DELIVER:
        return DeliverResp(body[:MSG_ID].ljust(MSG_ID, b"\0"), status)
    if command == Cmd.SUBMIT:
        return SubmitResp(b"\0" * MSG_ID, status)
    return Unsupported(command | RESPONSE, status)
