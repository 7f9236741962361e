"""Settings: the packaged defaults, overridden by a TOML file, then by the environment."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any


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
    lockout_minutes: int = 30
    reversal_window_minutes: int = 30
    close_refund_limit_yuan: int = 10


@dataclass(frozen=True)
class BillingSettings:
    mode: str = "sim"
    url: str = "http://127.0.0.1:8090"
    timeout_s: float = 5.0
    sim_latency_s: float = 0.0
    sim_failure_rate: float = 0.0
    sim_timeout_rate: float = 0.0


@dataclass(frozen=True)
class HttpSettings:
    host: str = "127.0.0.1"
    port: int = 8080


@dataclass(frozen=True)
class MenuSettings:
    lang: str = "zh"
    idle_timeout_s: int = 180


@dataclass(frozen=True)
class Settings:
    ledger: LedgerSettings = field(default_factory=LedgerSettings)
    rules: RulesSettings = field(default_factory=RulesSettings)
    billing: BillingSettings = field(default_factory=BillingSettings)
    http: HttpSettings = field(default_factory=HttpSettings)
    menu: MenuSettings = field(default_factory=MenuSettings)

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
    if isinstance(like, bool):
        return value.lower() in {"1", "true", "yes", "on"}
    if isinstance(like, int):
        return int(value)
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
        settings = settings.replace(section, **values)
    return settings


def load_settings(path: str | Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Defaults from the packaged TOML, then ``path``, then ``SMSMENU_SECTION_KEY`` variables."""
    settings = _merge(Settings(), tomllib.loads(config_path("default.toml").read_text("utf-8")))
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
