"""Settings of one SMPP bind, and ``smpp://SYSTEM_ID:PASSWORD@HOST:PORT?key=value`` URLs."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

DEFAULT_PORT = 2775


@dataclass(frozen=True, slots=True)
class SmppBind:
    """One transceiver bind to one SMSC; times are seconds."""

    system_id: str
    password: str
    host: str
    port: int = DEFAULT_PORT
    system_type: str = ""
    window: int = 10
    """Outstanding submit_sm (and other requests) awaiting their response."""
    inbound_window: int = 0
    """deliver_sm handled at once (0: as many as ``window``); more get ESME_RX_T_APPN."""
    enquire_interval: float = 30.0
    response_timeout: float = 10.0
    connect_timeout: float = 5.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    throttle_delay: float = 0.2
    """First pause after ESME_RTHROTTLED / ESME_RMSGQFUL; doubles on each retry."""
    throttle_retries: int = 6
    source_addr: str = ""
    """The service number our MT messages come from."""
    source_ton: int = 0
    source_npi: int = 0
    dest_ton: int = 0
    dest_npi: int = 0
    registered_delivery: int = 1
    """1: ask the SMSC for delivery receipts."""
    address_range: str = ""

    @property
    def label(self) -> str:
        """``system_id@host:port``, for logs and health (never the password)."""
        return f"{self.system_id}@{self.host}:{self.port}"

    def __repr__(self) -> str:
        return f"SmppBind({self.label!r})"


def parse_smpp_url(url: str, **defaults: object) -> SmppBind:
    """A bind from ``smpp://SYSTEM_ID:PASSWORD@HOST[:PORT][?system_type=X&window=20...]``.

    Query keys are ``SmppBind`` fields; ``defaults`` fill fields the URL does not give.
    """
    parts = urlsplit(url)
    if parts.scheme != "smpp" or not parts.hostname or parts.username is None:
        raise ValueError("expected smpp://SYSTEM_ID:PASSWORD@HOST:PORT")
    fields = {f.name: f for f in dataclasses.fields(SmppBind)}
    values: dict[str, object] = dict(defaults)
    for key, raw in parse_qsl(parts.query, keep_blank_values=True):
        if key not in fields or key in {"system_id", "password", "host", "port"}:
            raise ValueError(f"unknown smpp URL parameter {key!r}")
        default = fields[key].default
        values[key] = type(default)(raw) if isinstance(default, int | float) else raw
    return SmppBind(
        system_id=unquote(parts.username),
        password=unquote(parts.password or ""),
        host=parts.hostname,
        port=DEFAULT_PORT if parts.port is None else parts.port,
        **values,  # type: ignore[arg-type]
    )
