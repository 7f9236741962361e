"""docs/rules.md against the code: every cited rule is written down, every written rule is tested."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "docs" / "rules.md"
CITE = re.compile(r"\bR-(\d+)(?:\s*\.\.\s*R-(\d+))?\b")
HEADING = re.compile(r"^### (R-\d+) · \S", re.MULTILINE)
ANCHOR = re.compile(r'^<a id="(R-\d+)"></a>$', re.MULTILINE)
PATH = re.compile(r"`((?:smsmenu|ledger|simulator|config|tests)/[^`\s]+)`")
SOURCES = ("smsmenu", "ledger", "simulator", "config", "tests")
TEXT = {".py", ".toml", ".txt", ".html", ".sql", ".md", ".css"}
THIS = Path(__file__).resolve()


def cited(text: str) -> set[str]:
    """Every rule ``text`` names, a range "R-13..R-17" counting each rule in it."""
    found: set[str] = set()
    for match in CITE.finditer(text):
        first = int(match[1])
        last = int(match[2]) if match[2] else first
        found.update(f"R-{n}" for n in range(first, last + 1))
    return found


def files(*tops: str) -> list[Path]:
    """The text files under ``tops`` (this test excluded: it names no rule of its own)."""
    return sorted(path for top in tops for path in (ROOT / top).rglob("*")
                  if path.is_file() and path.suffix in TEXT and "__pycache__" not in path.parts
                  and path.resolve() != THIS)


def written() -> list[str]:
    return HEADING.findall(RULES.read_text(encoding="utf-8"))


def test_rules_are_numbered_1_to_25_each_with_an_anchor() -> None:
    """docs/rules.md has R-1..R-25 in order, each a heading with its own `R-n` anchor."""
    text = RULES.read_text(encoding="utf-8")
    expected = [f"R-{n}" for n in range(1, 26)]
    assert written() == expected
    assert ANCHOR.findall(text) == expected


def test_every_cited_rule_is_written_down() -> None:
    """Each `R-n` named in the code, config, tests, README or ARCHITECTURE is a rule in docs/rules.md."""
    rules = set(written())
    docs = [ROOT / "README.md", ROOT / "ARCHITECTURE.md"]
    for path in files(*SOURCES) + [doc for doc in docs if doc.is_file()]:
        unknown = cited(path.read_text(encoding="utf-8")) - rules
        assert not unknown, f"{path.relative_to(ROOT)} cites {sorted(unknown)}"


def test_every_rule_is_cited_by_a_test() -> None:
    """No rule in docs/rules.md goes untested: some file under tests/ cites each one."""
    tested: set[str] = set()
    for path in files("tests"):
        tested |= cited(path.read_text(encoding="utf-8"))
    untested = [rule for rule in written() if rule not in tested]
    assert untested == []


def test_the_places_named_for_each_rule_exist() -> None:
    """Every module, config file or test that docs/rules.md names is in the repository."""
    named = PATH.findall(RULES.read_text(encoding="utf-8"))
    assert named
    missing = [name for name in named if not any(ROOT.glob(name))]
    assert missing == []


def test_readme_points_to_the_rules_in_the_repository() -> None:
    """The README links docs/rules.md, not a file outside the clone."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/rules.md)" in readme
    assert "../shared" not in readme


def test_ranges_count_every_rule_in_them() -> None:
    """A cited range names each rule between its ends; other R- words are not rules."""
    assert cited("R-13..R-17 and R-2") == {"R-2", "R-13", "R-14", "R-15", "R-16", "R-17"}
    assert cited("ERR-7, R-23 .. R-25") == {"R-23", "R-24", "R-25"}
