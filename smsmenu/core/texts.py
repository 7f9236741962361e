"""User-facing texts per language, read from ``config/menus/<lang>.toml`` and filled in.

Menus and notices, and the words of errors (``[error]``, ``[error_param]``), of the one-line
commands' syntax (``[usage]``) and of the CLI's output (``[cli.*]``).
"""

from __future__ import annotations

import functools
import tomllib
from typing import Any

from smsmenu.core.settings import config_path

LANGS = ("zh", "en")


class Texts:
    """All languages' texts; ``render(lang, "notice.opened", name=...)`` picks and fills one."""

    def __init__(self, tables: dict[str, dict[str, Any]], default: str = "zh") -> None:
        self.tables = tables
        self.default = default

    @classmethod
    def load(cls, default: str = "zh") -> Texts:
        tables = {}
        for lang in LANGS:
            tables[lang] = tomllib.loads(config_path(f"menus/{lang}.toml").read_text("utf-8"))
        return cls(tables, default)

    def get(self, lang: str, key: str) -> Any:
        node: Any = self.tables.get(lang) or self.tables[self.default]
        for part in key.split("."):
            node = node[part]
        return node

    def render(self, lang: str | None, key: str, **params: Any) -> str:
        template = self.get(lang or self.default, key)
        return str(template).format(**params) if params else str(template)


@functools.cache
def packaged() -> Texts:
    """The shipped texts, read once: what an error renders with when no ``Texts`` is given."""
    return Texts.load()
