"""One agent's place in the menu: the model the shared machine runs on, loaded per message."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ledger.api import Channel, Notice, Recharge
from ledger.inside import Agent, Env, savepoint
from ledger.store import menu_sessions
from smsmenu.core.clock import from_iso, iso
from smsmenu.core.errors import SmsmenuError, WrongPassword
from smsmenu.core.texts import Texts, packaged
from smsmenu.states.menu import ON_ENTER, SCREENS


@dataclass
class Step:
    """What one message brings to the session and what the session says back."""

    conn: sqlite3.Connection
    env: Env
    now: dt.datetime
    agent: Agent
    text: str
    channel: Channel = Channel.SMS
    texts: Texts = field(default_factory=packaged)
    """The menu's words (the engine's)."""
    """The message's channel as recharges record it (``sms``, ``ussd``, ``http``)."""
    error: str | None = None
    result: list[str] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    fatal: bool = False
    pending: Recharge | None = None
    fresh: bool = False
    """``pending`` was reserved by this very message (its reference never went to BOSS)."""


class SessionBase:
    """Persisted fields (state, data, dialog) plus the current ``Step``."""

    def __init__(self, msisdn: str, state: str = "main", data: dict[str, Any] | None = None,
                 dialog: int = 0, updated_at: str | None = None, channel: str = "sms") -> None:
        self.msisdn = msisdn
        self.channel = channel
        """The dialog channel (``Channel.dialog``): ``sms``, ``ussd`` or ``api``."""
        self.state = state
        self.data: dict[str, Any] = data or {}
        self.dialog = dialog
        self.updated_at = updated_at
        self._step: Step | None = None

    @property
    def step(self) -> Step:
        assert self._step is not None, "no message is being handled"
        return self._step

    @property
    def lang(self) -> str:
        return self.step.agent.lang

    def t(self, key: str, **params: Any) -> str:
        return self.step.texts.render(self.lang, key, **params)

    # -- persistence ---------------------------------------------------------------------
    @classmethod
    def load(cls, conn: sqlite3.Connection, msisdn: str, channel: str = "sms") -> Any:
        saved = menu_sessions.load(conn, msisdn, channel)
        if saved is None:
            return cls(msisdn, channel=channel)
        return cls(msisdn, saved.state, saved.data, saved.dialog, saved.updated_at, channel)

    def save(self, conn: sqlite3.Connection, now: dt.datetime) -> None:
        menu_sessions.save(conn, msisdn=self.msisdn, channel=self.channel, state=self.state,
                           data=self.data, dialog=self.dialog, at=iso(now))

    def idle(self, now: dt.datetime, timeout: dt.timedelta) -> bool:
        return self.updated_at is not None and now - from_iso(self.updated_at) > timeout

    # -- navigation ----------------------------------------------------------------------
    def begin(self, step: Step) -> None:
        self._step = step

    def go(self, state: str) -> None:
        """Move without a transition (``0``, ``00``, timeout) and run the state's entry hook."""
        self.state = state
        if state == "main":
            self.data = {}
        if state in ON_ENTER:
            getattr(self, ON_ENTER[state])()

    def screen(self) -> str:
        """The current state's screen in the agent's language, filled from the session data."""
        key = SCREENS[self.state]
        if self.state == "number":
            return self.t(f"menu.number.{self.data['kind']}")
        params: Callable[[], dict[str, Any]] | None = getattr(self, f"params_{key}", None)
        return self.t(f"menu.{key}", **(params() if params else {}))

    @contextmanager
    def ledger_call(self, stay_on_wrong_password: bool = True) -> Iterator[None]:
        """Run a ledger operation as a unit; turn its refusal into the step's error text.

        A wrong password keeps the agent on the same screen (it may try again); any other
        refusal ends the dialog (``fatal``): the transition named ``refused`` goes to main.
        """
        try:
            with savepoint(self.step.conn, "menu_op"):
                yield
        except SmsmenuError as exc:
            self.step.error = exc.message(self.lang)
            self.step.fatal = not (stay_on_wrong_password and isinstance(exc, WrongPassword))
            raise _Refused() from exc


class _Refused(Exception):
    """Internal: a ledger call inside a condition was refused (already recorded on the step)."""
