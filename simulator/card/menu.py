"""The applet's menu as data: nodes (a sub-menu, a form sending a command, a resend) and inputs."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any

from smsmenu.core.settings import config_path


class MenuError(ValueError):
    """A menu file the card refuses (a missing node or input, an unreadable value)."""


@dataclass(frozen=True)
class Input:
    """One GET INPUT: digits, ``min``-``max`` long, hidden for a password; ``same_as``: a
    confirmation that must equal that earlier input."""

    name: str
    prompt: str
    min: int
    max: int
    hidden: bool = False
    same_as: str = ""


@dataclass(frozen=True)
class Node:
    """A menu entry: a sub-menu (``menu``), a form (``inputs`` then ``send``), or ``resend``."""

    key: str
    text: str
    menu: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    send: str = ""
    resend: bool = False


@dataclass(frozen=True)
class Menu:
    title: str
    sending: str
    mismatch: str
    nothing: str
    service: str
    main: tuple[str, ...]
    nodes: dict[str, Node]
    inputs: dict[str, Input]

    def command(self, node: Node, values: dict[str, str]) -> str:
        """The one-line command of a form: its template filled, empty optional fields dropped."""
        text = node.send.format(**values)
        return "*".join(part for part in text.split("*") if part)


def _node(key: str, raw: dict[str, Any]) -> Node:
    return Node(key, str(raw["text"]), tuple(raw.get("menu", ())), tuple(raw.get("inputs", ())),
                str(raw.get("send", "")), bool(raw.get("resend", False)))


def merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``patch`` laid over it: tables merged key by key, other values replaced."""
    out = dict(base)
    for key, value in patch.items():
        old = out.get(key)
        out[key] = merge(old, value) if isinstance(old, dict) and isinstance(value, dict) \
            else value
    return out


def parse(source: str, patches: tuple[str, ...] = ()) -> Menu:
    """A menu from its TOML and the over-the-air patches laid over it in order; ``MenuError``
    when it is incomplete or refers to what is not there."""
    try:
        raw = tomllib.loads(source)
        for patch in patches:
            raw = merge(raw, tomllib.loads(patch))
        nodes = {k: _node(k, v) for k, v in raw["node"].items()}
        inputs = {k: Input(k, str(v["prompt"]), int(v["min"]), int(v["max"]),
                           bool(v.get("hidden", False)), str(v.get("same_as", "")))
                  for k, v in raw["input"].items()}
        menu = Menu(str(raw["title"]), str(raw["sending"]), str(raw["mismatch"]),
                    str(raw["nothing"]), str(raw["service"]), tuple(raw["main"]), nodes, inputs)
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise MenuError(f"unreadable menu: {exc!r}") from None
    for key in menu.main + tuple(k for n in nodes.values() for k in n.menu):
        if key not in nodes:
            raise MenuError(f"menu names node {key!r}, which is not defined")
    for node in nodes.values():
        for name in node.inputs:
            if name not in inputs:
                raise MenuError(f"node {node.key!r} asks for input {name!r}, not defined")
        if not (node.menu or node.resend or (node.inputs and node.send)):
            raise MenuError(f"node {node.key!r} is neither a menu, a form nor a resend")
    if not 1 <= len(menu.main) <= 9 or not menu.service.isdigit():
        raise MenuError("the main menu needs 1-9 items and the service a number")
    return menu


def shipped_source(lang: str) -> str:
    """The shipped menu file of ``lang`` (``config/card/<lang>.toml``)."""
    return config_path(f"card/{'en' if lang == 'en' else 'zh'}.toml").read_text("utf-8")


def terminal_words(lang: str) -> dict[str, str]:
    """The handset's own words (``[terminal]``: soft keys, the length hint)."""
    return {k: str(v) for k, v in tomllib.loads(shipped_source(lang))["terminal"].items()}
