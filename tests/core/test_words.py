"""User-facing words live in the texts (``config/menus/<lang>.toml``), complete in each language."""

from __future__ import annotations

import ast
import importlib
import re
import string
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from ledger.numberplan import NumberPlan
from smsmenu.core.errors import InvalidNumber, SmsmenuError
from smsmenu.core.texts import LANGS, packaged
from smsmenu.core.types import TargetKind

ROOT = Path(__file__).parents[2]
PACKAGES = ("smsmenu", "ledger")
CODED_TABLES = ("number_why", "number_kind", "amount_why")
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
"""Chinese characters (Han ideographs); full-width digits and spaces in input cleaning are not."""

EXCEPTIONS: Mapping[tuple[str, str], str] = {
    ("smsmenu/cli/entry.py", "空中充值"): "English --help glossing the trade's Chinese name",
    ("smsmenu/cli/agent.py", "代办户"): "English --help glossing the trade's Chinese name",
    ("smsmenu/cli/reversal.py", "返销"): "English --help glossing the trade's Chinese name",
    ("smsmenu/server/main.py", "演示代办户"): "the demo agent's name: data put in the ledger, not a text",
}
"""(file, Chinese literal part or "" for any) -> why Chinese may stay in it for now."""

M, L, P, B = TargetKind.MOBILE, TargetKind.LANDLINE, TargetKind.PHS, TargetKind.BROADBAND
NOTICE = None
REASONS = [
    pytest.param(M, "", "missing", id="missing"),
    pytest.param(M, "189x", "not_digits", id="not-digits"),
    pytest.param(L, "87654321", "no_area_code", id="no-area-code"),
    pytest.param(L, "02987654321", "unknown_area_code", id="unknown-area-code"),
    pytest.param(B, "0271234567", "local_length", id="local-length"),
    pytest.param(L, "02707654321", "forbidden_first", id="forbidden-first"),
    pytest.param(M, "02718912345678", "mobile_area_code", id="mobile-area-code"),
    pytest.param(M, "1891234567", "mobile_length", id="mobile-length"),
    pytest.param(M, "13812345678", "prefix", id="prefix"),
    pytest.param(NOTICE, "02787654321", "notice_kind", id="notice-kind"),
]
"""An input refused for each ``[error_param.number_why]`` code but ``notice_target`` (R-17),
which ``ledger/recharge.py`` raises without parameters (the site scan covers it)."""


def python_files() -> Iterator[tuple[str, ast.Module]]:
    """Each module of the platform, by its path from the repository root, parsed."""
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text("utf-8"))


def error_classes() -> list[type[SmsmenuError]]:
    """Every error class defined under smsmenu/ and ledger/, found by its ``class`` statement."""
    names, modules = {"SmsmenuError"}, {"smsmenu.core.errors"}
    defined = [(path, node) for path, tree in python_files() for node in ast.walk(tree)
               if isinstance(node, ast.ClassDef)]
    grew = True
    while grew:
        grew = False
        for path, node in defined:
            bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
            if node.name not in names and bases & names:
                names.add(node.name)
                modules.add(path.removesuffix(".py").removesuffix("/__init__").replace("/", "."))
                grew = True
    found = {cls for module in modules for cls in vars(importlib.import_module(module)).values()
             if isinstance(cls, type) and issubclass(cls, SmsmenuError)}
    assert {cls.__name__ for cls in found} >= names
    return sorted(found, key=lambda cls: (cls.__module__, cls.__name__))


def templates(cls: type[SmsmenuError], lang: str) -> list[str]:
    """The words an error of ``cls`` may render in ``lang``."""
    if cls.messages:
        return [cls.messages[lang]]
    words = packaged().get(lang, "error")
    return [str(words[key]) for key in cls.keys()]


def fields(template: str) -> set[str]:
    """The ``{field}`` names in a template."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def construction_sites() -> Iterator[tuple[str, int, str, set[str], dict[str, str]]]:
    """Each ``Name(...)`` call that names every argument it passes (no ``*``/``**``): (file,
    line, name called, keyword names but ``rule``, the string constants it passes)."""
    for path, tree in python_files():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if (not name or any(k.arg is None for k in node.keywords)
                    or any(isinstance(a, ast.Starred) for a in node.args)):
                continue
            given = {k.arg for k in node.keywords if k.arg and k.arg != "rule"}
            constants = {k.arg: k.value.value for k in node.keywords if k.arg
                         and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str)}
            yield path, node.lineno, name, given, constants


@pytest.mark.parametrize("table", ["error", "error_param", "reversal_condition", "usage",
                                   "cli.label", "cli.title"])
def test_both_languages_have_the_same_words(table: str) -> None:
    """Every entry of the moved tables is in each language, the same keys all the way down
    (not ``[cli.value]``: a code English reads as it is, "active", has no entry there)."""

    def shape(node: Any) -> Any:
        return {k: shape(v) for k, v in node.items()} if isinstance(node, dict) else None

    zh, *others = (shape(packaged().get(lang, table)) for lang in LANGS)
    assert all(other == zh for other in others)


@pytest.mark.parametrize("cls", [pytest.param(c, id=c.__name__) for c in error_classes()])
def test_every_error_has_words_in_each_language(cls: type[SmsmenuError]) -> None:
    """Each error class renders words in zh and en: its ``[error]`` entries, or its own
    ``messages`` while a subclass elsewhere still keeps them."""
    for lang in LANGS:
        assert all(templates(cls, lang))


def test_every_error_entry_is_used() -> None:
    """No ``[error]`` entry is left without an error class that renders it."""
    used = {key for cls in error_classes() if not cls.messages for key in cls.keys()}
    assert set(packaged().get("en", "error")) == used


def test_every_field_is_a_parameter_the_error_is_raised_with() -> None:
    """Wherever an error is built with its parameters by name, it gives every ``{field}`` its
    words name, and those of a coded parameter's words when it is given as a constant code.

    Sites that pass ``**params`` are not read here: the number plan's reasons (tested below)
    and callers that re-raise an error with a rule (``**exc.params``)."""
    classes = {cls.__name__: cls for cls in error_classes()}
    missing = []
    for path, line, name, given, constants in construction_sites():
        if (cls := classes.get(name)) is None:
            continue
        for lang in LANGS:
            named = set().union(*(fields(t) for t in templates(cls, lang)))
            for param, table in cls.coded.items():
                words = packaged().get(lang, f"error_param.{table}")
                if constants.get(param) in words:
                    named |= fields(str(words[constants[param]]))
            if named - given:
                missing.append(f"{path}:{line} {name}({', '.join(sorted(given))}) [{lang}]"
                               f" lacks {sorted(named - given)}")
    assert not missing, "\n".join(missing)


def test_every_number_reason_has_an_input() -> None:
    """Each ``[error_param.number_why]`` code is in the table of inputs below."""
    codes = {param.values[2] for param in REASONS} | {"notice_target"}
    assert codes == set(packaged().get("en", "error_param.number_why"))


@pytest.mark.parametrize(("kind", "text", "code"), REASONS)
def test_every_number_reason_fills_its_words(kind: TargetKind | None, text: str,
                                             code: str) -> None:
    """R-14, R-17: each reason is raised with every parameter its words name, in each language."""
    plan = NumberPlan.load_default()
    if kind is NOTICE:
        plan = NumberPlan.from_toml((ROOT / "config" / "numberplan.toml").read_text("utf-8")
                                    .replace('kinds = ["mobile", "phs"]', 'kinds = ["mobile"]'))
    with pytest.raises(InvalidNumber) as refused:
        plan.validate_notice(text) if kind is NOTICE else plan.validate(kind, text)
    assert refused.value.params["why"] == code
    for lang in LANGS:
        words = str(packaged().get(lang, f"error_param.number_why.{code}"))
        assert fields(words) <= set(refused.value.params)
        assert "{" not in refused.value.message(lang)


def chinese_literals() -> Iterator[tuple[str, int, str]]:
    """Each string literal with Chinese in it, outside comments and docstrings."""
    for path, tree in python_files():
        documentation = {id(node.value) for node in ast.walk(tree)
                         if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and id(node) not in documentation and HAN.search(node.value)):
                yield path, node.lineno, node.value


def excepted(path: str, text: str) -> bool:
    return any(path == where and part in text for where, part in EXCEPTIONS)


def test_no_chinese_words_in_code() -> None:
    """Words are in the texts: no Chinese in a string literal under smsmenu/ and ledger/, but
    the listed exceptions."""
    found = [f"{path}:{line} {text[:40]!r}" for path, line, text in chinese_literals()
             if not excepted(path, text)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(("path", "part"), [pytest.param(*key, id=key[0]) for key in EXCEPTIONS])
def test_every_exception_is_still_needed(path: str, part: str) -> None:
    """An exception whose Chinese has moved to the texts is deleted from ``EXCEPTIONS``."""
    assert any(where == path and part in text for where, _, text in chinese_literals())
