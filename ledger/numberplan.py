"""Customer number plan (R-14, R-17): validates and normalizes numbers by target kind, from TOML."""

from __future__ import annotations

import importlib.resources
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from smsmenu.core.errors import InvalidNumber
from smsmenu.core.types import TargetKind

_CLEAN = str.maketrans({**{chr(0xFF10 + d): str(d) for d in range(10)}, "＋": "+",
                        " ": None, "\t": None, "\u3000": None, "-": None, "－": None})
_DIGITS = re.compile(r"[0-9]+")

Why = dict[str, Any]
"""Why a number is refused: ``why``, a code with words in the texts (``[error_param.number_why]``),
and the parameters those words name (``area``, ``lengths``, ``got``...); lists read "7 or 8"."""


@dataclass(frozen=True, slots=True)
class LocalRule:
    """What follows the area code for one kind: its lengths and forbidden first digits."""

    what: str
    lengths: tuple[int, ...]
    forbidden_first: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NumberPlan:
    """Area codes, the mobile rule and the area-code kinds' local rules (see numberplan.toml)."""

    area_codes: tuple[str, ...]
    three_digit_prefixes: tuple[str, ...]
    mobile_length: int
    mobile_prefixes: tuple[str, ...]
    country_codes: tuple[str, ...]
    local: Mapping[TargetKind, LocalRule] = field(hash=False)
    notice_kinds: tuple[TargetKind, ...]

    @classmethod
    def from_toml(cls, source: str | Path) -> NumberPlan:
        """Load a TOML file (Path, or str ending .toml) or TOML text; ValueError if malformed."""
        is_path = isinstance(source, Path) or ("\n" not in source and source.endswith(".toml"))
        text = Path(source).read_text("utf-8") if is_path else str(source)
        try:
            data: dict[str, Any] = tomllib.loads(text)
            area, mob = data["area_codes"], data["mobile"]
            rules = {k: data[k.value] for k in TargetKind if k is not TargetKind.MOBILE}
            local: dict[TargetKind, LocalRule] = {
                k: LocalRule(r["what"], tuple(r["lengths"]), tuple(r["forbidden_first"]))
                for k, r in rules.items()}
            notice = tuple(TargetKind(k) for k in data["notice"]["kinds"])
            plan = cls(tuple(area["accepted"]), tuple(area["three_digit_prefixes"]), mob["length"],
                       tuple(mob["prefixes"]), tuple(mob["country_codes"]),
                       MappingProxyType(local), notice)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"numberplan: missing or malformed setting {exc}") from exc
        plan._check()
        return plan

    @classmethod
    def load_default(cls) -> NumberPlan:
        """The shipped plan: ``config/numberplan.toml`` as package data, else next to the repo."""
        try:
            resource = importlib.resources.files("smsmenu.config") / "numberplan.toml"
            return cls.from_toml(resource.read_text("utf-8"))
        except (ImportError, FileNotFoundError):
            return cls.from_toml(Path(__file__).parents[1] / "config" / "numberplan.toml")

    def _check(self) -> None:
        if not self.area_codes or len(set(self.area_codes)) != len(self.area_codes):
            raise ValueError("numberplan: area_codes.accepted must be non-empty, no duplicates")
        for code in self.area_codes:
            if not (_DIGITS.fullmatch(code) and code[0] == "0" and self._code_of(code) == code
                    and len(code) in (3, 4)):
                raise ValueError(f"numberplan: area code {code!r} breaks the 0 + 2/3 digit rule")
        if not all(_DIGITS.fullmatch(p) for p in self.mobile_prefixes):
            raise ValueError("numberplan: mobile prefixes must be digits")
        if any(not r.lengths or min(r.lengths) < 1 for r in self.local.values()):
            raise ValueError("numberplan: every local rule needs positive lengths")
        if not self.notice_kinds:
            raise ValueError("numberplan: notice.kinds must name at least one kind")

    @property
    def home_area_code(self) -> str:
        """The first accepted area code (027 for Wuhan), named in error texts."""
        return self.area_codes[0]

    def _code_of(self, digits: str) -> str:
        """The area code an input starting with 0 carries, by the national length rule."""
        return digits[:3] if digits[:2] in self.three_digit_prefixes else digits[:4]

    def validate(self, kind: TargetKind, text: str) -> str:
        """The normalized number (digits only) for ``kind``, or InvalidNumber saying why not."""
        raw = text.translate(_CLEAN)
        why = self._why(kind, raw)
        if why is not None:
            raise InvalidNumber(number=raw[:24], kind=kind.value, **why)
        return self._strip_cc(raw) if kind is TargetKind.MOBILE else raw

    def validate_notice(self, text: str) -> str:
        """A number for the customer's success SMS (R-17): a mobile or PHS number, normalized."""
        raw = text.translate(_CLEAN)
        trunk = self._strip_cc(raw).startswith("0")
        kinds = [k for k in self.notice_kinds if (k is not TargetKind.MOBILE) == trunk]
        first: Why | None = None
        for k in kinds:
            why = self._why(k, raw)
            if why is None:
                return self._strip_cc(raw) if k is TargetKind.MOBILE else raw
            first = first or why
        allowed = tuple(k.value for k in self.notice_kinds)
        raise InvalidNumber(rule="R-17", number=raw[:24], kind="notice",
                            **(first or {"why": "notice_kind", "kinds": allowed}))

    def split(self, kind: TargetKind, number: str) -> tuple[str | None, str]:
        """(area code, local part) for display; the area code is None for a mobile number."""
        digits = self.validate(kind, number)
        if kind is TargetKind.MOBILE:
            return None, digits
        code = self._code_of(digits)
        return code, digits[len(code):]

    def _strip_cc(self, raw: str) -> str:
        for cc in self.country_codes:
            if raw.startswith(cc) and (cc.startswith("+") or len(raw) > self.mobile_length):
                return raw[len(cc):]
        return raw

    def _why(self, kind: TargetKind, raw: str) -> Why | None:
        """Why ``raw`` is not a valid ``kind`` number, or None when it is."""
        raw = self._strip_cc(raw) if kind is TargetKind.MOBILE else raw
        if not raw:
            return {"why": "missing"}
        if not _DIGITS.fullmatch(raw):
            return {"why": "not_digits"}
        if kind is TargetKind.MOBILE:
            return self._why_mobile(raw)
        rule = self.local[kind]
        if not raw.startswith("0"):
            return {"why": "no_area_code", "home": self.home_area_code}
        code = self._code_of(raw)
        if code not in self.area_codes:
            return {"why": "unknown_area_code", "area": code}
        rest = raw[len(code):]
        if len(rest) not in rule.lengths:
            return {"why": "local_length", "what": rule.what, "lengths": rule.lengths,
                    "area": code, "got": len(rest)}
        if rest[0] in rule.forbidden_first:
            return {"why": "forbidden_first", "what": rule.what, "first": rule.forbidden_first}
        return None

    def _why_mobile(self, digits: str) -> Why | None:
        if digits.startswith("0"):
            return {"why": "mobile_area_code"}
        if len(digits) != self.mobile_length:
            return {"why": "mobile_length", "length": self.mobile_length, "got": len(digits)}
        if not digits.startswith(self.mobile_prefixes):
            return {"why": "prefix", "prefix": digits[:3]}
        return None
