"""What every ledger operation needs besides its connection: rules, notifier, secret, number plan."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from ledger.events import Notifier
from ledger.money import parse_rate
from ledger.numberplan import NumberPlan
from smsmenu.core.settings import Settings


@dataclass(frozen=True)
class Rules:
    """The numbers the handbook's rules are made of, from settings."""

    default_rate_ppm: int = 20_000
    max_rate_ppm: int = 200_000
    lockout_attempts: int = 5
    lockout_ladder: tuple[dt.timedelta, ...] = (dt.timedelta(minutes=30),
                                                dt.timedelta(minutes=120))
    """The n-th lock in a row holds ``lockout_ladder[n-1]``; past the end, until an operator unlocks."""
    lockout_reset: dt.timedelta = dt.timedelta(hours=24)
    """This long without a failure forgets the failure count and the ladder step."""
    reversal_window: dt.timedelta = dt.timedelta(minutes=30)
    close_refund_limit_fen: int = 1_000
    reservation_timeout: dt.timedelta = dt.timedelta(seconds=120)
    billing_retry: dt.timedelta = dt.timedelta(seconds=10)
    """An unknown credit is re-sent under its reference this often."""
    billing_give_up: dt.timedelta = dt.timedelta(seconds=900)
    """Past this age an unknown credit is cancelled at BOSS (voided once BOSS confirms)."""
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))

    @classmethod
    def from_settings(cls, settings: Settings) -> Rules:
        r = settings.rules
        max_ppm = parse_rate(r.max_rate, max_ppm=1_000_000)
        return cls(
            default_rate_ppm=parse_rate(r.default_rate, max_ppm=max_ppm),
            max_rate_ppm=max_ppm,
            lockout_attempts=r.lockout_attempts,
            lockout_ladder=tuple(dt.timedelta(minutes=m) for m in r.lockout_minutes),
            lockout_reset=dt.timedelta(hours=r.lockout_reset_hours),
            reversal_window=dt.timedelta(minutes=r.reversal_window_minutes),
            close_refund_limit_fen=r.close_refund_limit_yuan * 100,
            reservation_timeout=dt.timedelta(seconds=settings.ledger.reservation_timeout_s),
            billing_retry=dt.timedelta(seconds=settings.billing.retry_every_s),
            billing_give_up=dt.timedelta(seconds=settings.billing.give_up_after_s),
            tz=ZoneInfo(settings.ledger.timezone),
        )


@dataclass(frozen=True)
class Env:
    """Shared, immutable inputs of the operations; built once by the service."""

    rules: Rules
    notify: Notifier
    """Renders and queues what an operation tells (``ledger.events``), in its transaction."""
    secret: bytes
    plan: NumberPlan
    lang: str = "zh"

    def __repr__(self) -> str:  # never print the secret
        return f"Env(lang={self.lang!r}, rules={self.rules!r})"

    def local(self, when: dt.datetime) -> dt.datetime:
        return when.astimezone(self.rules.tz)
