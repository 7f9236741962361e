"""Settings: the packaged defaults, overridden by a TOML file, then by the environment."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """Settings, secret or database location unusable; exit 78 (EX_CONFIG)."""

    exit_code = 78

@dataclass(frozen=True)
class LedgerSettings:
    db: str = "var/smsmenu.db"
    synchronous: str = "FULL"
    max_batch: int = 256
    secret_file: str = "var/secret"
    timezone: str = "Asia/Shanghai"
    reservation_timeout_s: int = 120


@dataclass(frozen=True)
class RulesSettings:
    default_rate: str = "0.02"
    max_rate: str = "0.2"
    lockout_attempts: int = 5
    lockout_minutes: tuple[int, ...] = (30, 120)
    """The lock ladder (R-2): the n-th lock holds the n-th entry; the next waits for an operator.
    A scalar (an older config) is a one-entry ladder."""
    lockout_reset_hours: int = 24
    """This long without a failure forgets the failure count and the ladder step."""
    reversal_window_minutes: int = 30
    close_refund_limit_yuan: int = 10

    def __post_init__(self) -> None:
        minutes = tuple(int(m) for m in self.lockout_minutes)  # the environment gives strings
        if any(m <= 0 for m in minutes) or self.lockout_reset_hours <= 0:
            raise ValueError("[rules] lockout_minutes and lockout_reset_hours must be positive")
        object.__setattr__(self, "lockout_minutes", minutes)


@dataclass(frozen=True)
class BillingSettings:
    mode: str = "http"
    """``http``: a BOSS at ``url``; ``sim``: the in-process simulator (demo mode, tests)."""
    url: str = ""
    """The BOSS's address; production requires it (demo mode: the simulator on 8090)."""
    timeout_s: float = 5.0
    ca_file: str = ""
    """PEM file of the CA that signed an ``https`` BOSS's certificate ("": the system's CAs)."""
    sim_latency_s: float = 0.0
    sim_failure_rate: float = 0.0
    sim_timeout_rate: float = 0.0
    retry_every_s: float = 10.0
    """A credit whose outcome is unknown is re-sent under its reference this often."""
    give_up_after_s: float = 900.0
    """Past this age an unknown credit is cancelled at BOSS (and voided once BOSS confirms)."""


@dataclass(frozen=True)
class HttpSettings:
    """The message transports' listener: /api/sms, /ussd, /kannel/*, /healthz, /metrics."""

    host: str = "127.0.0.1"
    port: int = 8080
    idle_timeout_s: float = 15.0
    """A connection idle this long (no request, or its headers not complete) is closed."""
    read_timeout_s: float = 10.0
    """A request body not received within this long answers 408 and the connection closes."""


@dataclass(frozen=True)
class WebSettings:
    """The web portal's and back office's listener (nothing else is served on it)."""

    host: str = "127.0.0.1"
    port: int = 8081
    idle_timeout_s: float = 15.0
    read_timeout_s: float = 10.0
    public_url: str = ""
    """The portal's address as browsers and the bank reach it (top-up notify and return URLs),
    e.g. ``https://recharge.example.com``; empty: ``http://`` + host and port above. Never
    taken from a request's Host header."""
    secure_cookies: bool = True
    """Session, CSRF and language cookies carry ``Secure`` (HTTPS only); false for a demo on
    ``http://127.0.0.1``."""


@dataclass(frozen=True)
class ApiSettings:
    token: tuple[str, ...] = ()
    """``POST /api/sms`` callers' ``Authorization: Bearer`` tokens (a list: rotation); none: off."""


@dataclass(frozen=True)
class UssdSettings:
    token: tuple[str, ...] = ()
    """The USSD aggregator's tokens (Bearer header or ``token`` query parameter); none: off."""
    max_inputs: int = 20
    """New ``*``-separated inputs one callback may carry; more answer 400."""


@dataclass(frozen=True)
class MetricsSettings:
    token: tuple[str, ...] = ()
    """``GET /metrics`` wants one of these as ``Authorization: Bearer``; none: open."""


@dataclass(frozen=True)
class BankSettings:
    url: str = ""
    """A real bank's payment page (online top-up, R-9); empty: no online top-up (demo mode:
    the simulated bank under ``/bank/``)."""


@dataclass(frozen=True)
class ServerSettings:
    instance: str = ""
    """This server's id on the shared database (outbox leases); empty: ``hostname:http_port``."""


@dataclass(frozen=True)
class MenuSettings:
    lang: str = "zh"
    idle_timeout_s: int = 180
    inbox_retention_h: int = 48


@dataclass(frozen=True)
class SmppSettings:
    binds: tuple[str, ...] = ()
    """``smpp://SYSTEM_ID:PASSWORD@HOST:PORT?window=20`` URLs; empty: no SMPP."""
    message_id_tlv: int = 0
    """Vendor TLV tag carrying the carrier's MO message id (e.g. 0x1401); 0: none."""
    simulator: bool = False
    """``serve --demo`` also runs the SMSC simulator; binds to its address are bound to it."""
    simulator_token: tuple[str, ...] = ()
    """Tokens of the simulator's handset API under ``/smsc`` (Bearer); none: every call 401."""
    simulator_host: str = "127.0.0.1"
    simulator_port: int = 2775
    """0: a free port; binds naming port 0 then follow it (tests)."""
    simulator_redeliver_s: float = 10.0
    bind_wait_s: float = 3.0
    """At start, wait this long for a first bind before serving anyway."""


@dataclass(frozen=True)
class SmgpSettings:
    """China Telecom's ISMG over SMGP 3.0 (``smsmenu.gateway.smgp``); off by default."""

    links: tuple[str, ...] = ()
    """``smgp://CLIENT_ID:SECRET@HOST:PORT?sp=10658&mode=2`` URLs; empty: no SMGP."""
    simulator: bool = False
    """``serve --demo`` also runs the ISMG simulator; links to its address log in to it."""
    simulator_token: tuple[str, ...] = ()
    """Tokens of its handset API under ``/ismg`` (Bearer); none: ``[smpp] simulator_token``."""
    simulator_host: str = "127.0.0.1"
    simulator_port: int = 8890
    """0: a free port; links naming port 0 then follow it (tests)."""
    simulator_redeliver_s: float = 10.0
    login_wait_s: float = 3.0
    """At start, wait this long for the links to log in before serving anyway."""


@dataclass(frozen=True)
class KannelSettings:
    sendsms_url: str = ""
    """Kannel smsbox's ``http://HOST:13013/cgi-bin/sendsms``; empty: no Kannel."""
    username: str = "smsmenu"
    password: str = ""
    sender: str = "10658"
    """``from`` of what we send: the service number."""
    smsc_id: str = ""
    dlr_url: str = ""
    """Where Kannel reports deliveries; empty: our own ``/kannel/dlr`` on the HTTP port."""
    timeout_s: float = 5.0
    token: tuple[str, ...] = ()
    """Kannel's ``token`` query parameter on ``/kannel/mo`` and ``/kannel/dlr``; none: off."""


@dataclass(frozen=True)
class Settings:
    ledger: LedgerSettings = field(default_factory=LedgerSettings)
    rules: RulesSettings = field(default_factory=RulesSettings)
    billing: BillingSettings = field(default_factory=BillingSettings)
    http: HttpSettings = field(default_factory=HttpSettings)
    web: WebSettings = field(default_factory=WebSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    ussd: UssdSettings = field(default_factory=UssdSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    bank: BankSettings = field(default_factory=BankSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    menu: MenuSettings = field(default_factory=MenuSettings)
    smpp: SmppSettings = field(default_factory=SmppSettings)
    smgp: SmgpSettings = field(default_factory=SmgpSettings)
    kannel: KannelSettings = field(default_factory=KannelSettings)

    def replace(self, section: str, **values: Any) -> Settings:
        """A copy with some values of one section changed."""
        part = dataclasses.replace(getattr(self, section), **values)
        return dataclasses.replace(self, **{section: part})


def config_path(name: str) -> Path:
    """A file shipped under ``config/`` (package ``smsmenu.config``), found in any install."""
    try:
        found = Path(str(resources.files("smsmenu.config").joinpath(name)))
        if found.exists():
            return found
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[1] / "config" / name


def _coerce(value: str, like: object) -> object:
    """An environment string as the type of the default; lists are comma-separated."""
    if isinstance(like, tuple):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    if isinstance(like, bool):
        return value.lower() in {"1", "true", "yes", "on"}
    if isinstance(like, int):
        return int(value, 0) if value.lower().startswith(("0x", "0o", "0b")) else int(value)
    if isinstance(like, float):
        return float(value)
    return value


def _merge(settings: Settings, data: dict[str, Any]) -> Settings:
    for section, values in data.items():
        if not hasattr(settings, section) or not isinstance(values, dict):
            raise ValueError(f"unknown settings section [{section}]")
        known = {f.name for f in dataclasses.fields(getattr(settings, section))}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown settings in [{section}]: {', '.join(sorted(unknown))}")
        defaults = type(getattr(settings, section))()
        lists = {k: _as_tuple(section, k, v, getattr(defaults, k)) for k, v in values.items()
                 if isinstance(getattr(defaults, k), tuple)}
        settings = settings.replace(section, **{**values, **lists})
    return settings


def _as_tuple(section: str, key: str, value: object, like: tuple[object, ...]) -> tuple[Any, ...]:
    """A TOML list (or a single item) as a tuple of the default's item type (str or int)."""
    kind, name = (int, "integers") if like and isinstance(like[0], int) else (str, "strings")
    if isinstance(value, kind) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, kind) and not isinstance(item, bool)
                                              for item in value):
        raise ValueError(f"[{section}] {key} must be a list of {name}")
    return tuple(value)


def load_settings(path: str | Path | None = None, env: dict[str, str] | None = None, *,
                  demo: bool = False) -> Settings:
    """Defaults from the packaged TOML (with ``demo``: then ``demo.toml``), then ``path``, then
    ``SMSMENU_SECTION_KEY`` variables."""
    settings = _merge(Settings(), tomllib.loads(config_path("default.toml").read_text("utf-8")))
    if demo:
        settings = _merge(settings, tomllib.loads(config_path("demo.toml").read_text("utf-8")))
    if path is not None:
        settings = _merge(settings, tomllib.loads(Path(path).read_text("utf-8")))
    env = dict(os.environ if env is None else env)
    if "SMSMENU_DB" in env:
        settings = settings.replace("ledger", db=env["SMSMENU_DB"])
    for f in dataclasses.fields(settings):
        section = getattr(settings, f.name)
        for item in dataclasses.fields(section):
            name = f"SMSMENU_{f.name}_{item.name}".upper()
            if name in env:
                value = _coerce(env[name], getattr(section, item.name))
                settings = settings.replace(f.name, **{item.name: value})
    return settings


def describe(settings: Settings | None = None) -> str:
    """Every setting as ``SMSMENU_SECTION_KEY  [section] key = default`` (for ``--help``)."""
    settings = settings or load_settings(env={})
    rows = []
    for f in dataclasses.fields(settings):
        section = getattr(settings, f.name)
        for item in dataclasses.fields(section):
            value = getattr(section, item.name)
            shown = ",".join(map(str, value)) if isinstance(value, tuple) else value
            rows.append((f"SMSMENU_{f.name}_{item.name}".upper(), f"[{f.name}] {item.name} = {shown}"))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"  {name:<{width}}  {text}" for name, text in rows)
