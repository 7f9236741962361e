"""The UTK card's 空中充值 menu as data: states, their screens and parents, and transitions.

Every input is the trigger ``key``. Transitions from a state are tried in the order listed;
the first whose conditions hold is taken. Conditions are checks on the ``Session`` (they may
store what they checked, e.g. the number); when none holds the engine answers with the error
the checks left, or the compact help, and the same screen. ``0`` goes to the parent, ``00`` to
``main``: both are uniform and handled before the machine.
"""

from __future__ import annotations

from typing import Any

from transitions import Machine

# name, screen (text key under [menu]; "" = none), parent for "0"
STATES: list[tuple[str, str, str | None]] = [
    ("main", "main", None),
    ("kind", "kind", "main"),
    ("number", "number", "kind"),
    ("amount", "amount", "number"),
    ("notice", "notice", "amount"),
    ("confirm", "confirm", "amount"),
    ("password", "password", "confirm"),
    ("billing", "processing", None),
    ("exceptions", "exceptions", "main"),
    ("retry_list", "retry_list", "exceptions"),
    ("retry_password", "retry_password", "retry_list"),
    ("account", "account", "main"),
    ("balance", "balance_password", "account"),
    ("records_password", "records_password", "account"),
    ("records", "records", "account"),
    ("tx_old", "tx_old", "account"),
    ("tx_new", "tx_new", "account"),
    ("tx_again", "tx_again", "account"),
    ("business", "business", "main"),
    ("mgmt_old", "mgmt_old", "business"),
    ("mgmt_new", "mgmt_new", "business"),
    ("mgmt_again", "mgmt_again", "business"),
]

# source, destination, conditions (all must hold); "refused" = a check before said stop.
TRANSITIONS: list[tuple[str | list[str], str, list[str]]] = [
    ("main", "kind", ["pressed_1", "may_recharge"]),
    ("main", "exceptions", ["pressed_2"]),
    ("main", "account", ["pressed_3"]),
    ("main", "business", ["pressed_4"]),
    ("kind", "number", ["chose_kind"]),
    ("number", "amount", ["took_number"]),
    ("amount", "notice", ["took_amount", "notice_allowed"]),
    ("amount", "confirm", ["took_amount"]),
    ("notice", "confirm", ["took_notice"]),
    ("confirm", "password", ["pressed_1"]),
    ("password", "billing", ["reserved_recharge"]),
    ("password", "main", ["refused"]),
    ("exceptions", "retry_list", ["pressed_1", "may_recharge", "first_page"]),
    ("retry_list", "retry_list", ["pressed_more"]),
    ("retry_list", "retry_password", ["chose_failed"]),
    ("retry_password", "billing", ["reserved_retry"]),
    ("retry_password", "main", ["refused"]),
    ("account", "balance", ["pressed_1"]),
    ("account", "tx_old", ["pressed_2"]),
    ("account", "account", ["pressed_3", "said_not_open"]),
    ("account", "records_password", ["pressed_4"]),
    ("records_password", "records", ["records_password_ok"]),
    ("records_password", "main", ["refused"]),
    ("records", "records", ["pressed_more"]),
    ("balance", "main", ["showed_balance"]),
    ("balance", "main", ["refused"]),
    ("business", "mgmt_old", ["pressed_1"]),
    (["tx_old", "mgmt_old"], "=", ["old_password_ok"]),
    (["tx_old", "mgmt_old"], "main", ["refused"]),
    (["tx_new", "mgmt_new"], "=", ["took_new_password"]),
    (["tx_again", "mgmt_again"], "main", ["changed_password"]),
    (["tx_again", "mgmt_again"], "main", ["refused"]),
    (["tx_again", "mgmt_again"], "=", ["mismatch"]),
]

# "=" above means "the next state of the same password change": old -> new -> again -> new.
NEXT = {"tx_old": "tx_new", "mgmt_old": "mgmt_new", "tx_new": "tx_again",
        "mgmt_new": "mgmt_again", "tx_again": "tx_new", "mgmt_again": "mgmt_new"}

SCREENS = {name: screen for name, screen, _ in STATES}
PARENTS = {name: parent for name, _, parent in STATES}
ON_ENTER = {"kind": "new_dialog", "retry_list": "load_failed", "records": "load_records"}
"""Callbacks run on entering a state (by transition or by ``0`` back)."""


def _transitions() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for source, dest, conditions in TRANSITIONS:
        for src in [source] if isinstance(source, str) else source:
            out.append({"trigger": "key", "source": src,
                        "dest": NEXT[src] if dest == "=" else dest, "conditions": conditions})
    return out


def build_machine() -> Machine:
    """One machine for every agent: sessions are not added to it, events are triggered on them."""
    states = [{"name": name, **({"on_enter": ON_ENTER[name]} if name in ON_ENTER else {})}
              for name, _, _ in STATES]
    return Machine(model=None, states=states, transitions=_transitions(), initial="main",
                   auto_transitions=False, send_event=False, queued=False)
