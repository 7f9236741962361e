"""Settings of one SMGP link, and ``smgp://CLIENT_ID:SECRET@HOST:PORT?sp=10658&mode=2`` URLs."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from smsmenu.gateway.smgp_text import GB18030, UCS2, Concat

DEFAULT_PORT = 8890
"""The ISMG's usual SMGP port."""
MODES = {0: "send", 1: "receive", 2: "both"}
WIDE = {"ucs2": UCS2, "gb18030": GB18030}


@dataclass(frozen=True, slots=True)
class SmgpLinkConfig:
    """One login to one ISMG; times are seconds."""

    client_id: str
    secret: str
    host: str
    port: int = DEFAULT_PORT
    sp: str = ""
    """The SP's access number: SrcTermID of our MT (e.g. 10658...)."""
    mode: int = 2
    """LoginMode: 0 send (Submit only), 1 receive (Deliver only), 2 both."""
    service_id: str = ""
    """ServiceID on every Submit (every part of a long one)."""
    window: int = 16
    """Outstanding requests (Submit, ActiveTest) awaiting their response."""
    inbound_window: int = 0
    """Deliver handled at once (0: as many as ``window``); more are answered busy."""
    active_test_interval: float = 60.0
    """ActiveTest after this long without hearing from the ISMG."""
    active_test_retries: int = 3
    """Unanswered ActiveTests in a row before the link is dropped."""
    response_timeout: float = 10.0
    connect_timeout: float = 5.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    throttle_delay: float = 0.2
    """First pause after a busy answer to a Submit; doubles on each retry."""
    throttle_retries: int = 6
    need_report: int = 1
    """1: ask for status reports (stored on the outbox row, as SMPP receipts)."""
    priority: int = 1
    concat: str = Concat.UDH.value
    """Long MT parts: ``udh`` (TP_udhi + UDH) or ``tlv`` (PkTotal/PkNumber)."""
    coding: str = "ucs2"
    """MsgFormat of text that is not ASCII: ``ucs2`` (8) or ``gb18030`` (15)."""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be 0 (send), 1 (receive) or 2 (both), not {self.mode}")
        if self.concat not in {c.value for c in Concat}:
            raise ValueError(f"concat must be udh or tlv, not {self.concat!r}")
        if self.coding not in WIDE:
            raise ValueError(f"coding must be ucs2 or gb18030, not {self.coding!r}")
        if len(self.client_id.encode()) > 8 or not self.client_id.isascii():
            raise ValueError("the client id is at most 8 ASCII characters")
        if self.window < 1:
            raise ValueError("window must be at least 1")

    @property
    def sends(self) -> bool:
        return self.mode in (0, 2)

    @property
    def receives(self) -> bool:
        return self.mode in (1, 2)

    @property
    def wide(self) -> int:
        return WIDE[self.coding]

    @property
    def label(self) -> str:
        """``client_id@host:port/mode``, for logs and health (never the secret)."""
        return f"{self.client_id}@{self.host}:{self.port}/{MODES[self.mode]}"

    def __repr__(self) -> str:
        return f"SmgpLinkConfig({self.label!r})"


def parse_smgp_url(url: str) -> SmgpLinkConfig:
    """A link from ``smgp://CLIENT_ID:SECRET@HOST[:PORT][?sp=10658&mode=2&window=32...]``.

    Query keys are ``SmgpLinkConfig`` fields.
    """
    parts = urlsplit(url)
    if parts.scheme != "smgp" or not parts.hostname or not parts.username:
        raise ValueError("expected smgp://CLIENT_ID:SECRET@HOST:PORT?sp=SP_NUMBER")
    fields = {f.name: f for f in dataclasses.fields(SmgpLinkConfig)}
    values: dict[str, object] = {}
    for key, raw in parse_qsl(parts.query, keep_blank_values=True):
        if key not in fields or key in {"client_id", "secret", "host", "port"}:
            raise ValueError(f"unknown smgp URL parameter {key!r}")
        default = fields[key].default
        try:
            values[key] = type(default)(raw) if isinstance(default, int | float) else raw
        except ValueError:
            raise ValueError(f"smgp URL parameter {key}={raw!r} is not a number") from None
    return SmgpLinkConfig(
        client_id=unquote(parts.username),
        secret=unquote(parts.password or ""),
        host=parts.hostname,
        port=DEFAULT_PORT if parts.port is None else parts.port,
        **values,  # type: ignore[arg-type]
    )
