"""Tests for the number plan: R-14 (area code or not, per kind) and R-17 (notice numbers)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.numberplan import NumberPlan
from smsmenu.core.errors import InvalidNumber
from smsmenu.core.types import TargetKind

PLAN = NumberPlan.load_default()
TOML = Path(__file__).parents[2] / "config" / "numberplan.toml"
HUBEI = ("027", "0710", "0711", "0712", "0713", "0714", "0715", "0716", "0717", "0718", "0719",
         "0722", "0724", "0728")
CT_PREFIXES = ("133", "149", "153", "173", "177", "180", "181", "189", "190", "191", "193", "199")
M, L, P, B = TargetKind.MOBILE, TargetKind.LANDLINE, TargetKind.PHS, TargetKind.BROADBAND
AREA_KINDS = (L, P, B)


def reason(error: InvalidNumber) -> str:
    """The English words of an InvalidNumber's ``why`` (a code with parameters)."""
    head = f"Number {error.params['number']} is not a valid {error.params['kind']} number: "
    text = error.message("en", rule=False)
    assert text.startswith(head)
    return text.removeprefix(head)


def why(kind: TargetKind, text: str) -> str:
    """The reason, in English words, of the InvalidNumber that validating ``text`` raises."""
    with pytest.raises(InvalidNumber) as err:
        PLAN.validate(kind, text)
    assert err.value.code == "E_NUMBER" and err.value.params["kind"] == kind.value
    return reason(err.value)


def test_default_plan_is_hubei_with_wuhan_first() -> None:
    """R-14: the shipped plan accepts the Hubei area codes, 027 (Wuhan) first, named in errors."""
    assert PLAN.area_codes == HUBEI and PLAN.home_area_code == "027"
    assert PLAN.mobile_prefixes == CT_PREFIXES and PLAN.notice_kinds == (M, P)


@pytest.mark.parametrize("source", [
    pytest.param(TOML, id="path"),
    pytest.param(str(TOML), id="str"),
    pytest.param(TOML.read_text("utf-8"), id="text"),
])
def test_from_toml_reads_path_or_text(source: str | Path) -> None:
    """R-14: a plan loads equally from a Path, a path string or the TOML text itself."""
    assert NumberPlan.from_toml(source) == PLAN


@pytest.mark.parametrize("old, new", [
    pytest.param('"027",   # Wuhan', '"0271",', id="4-digit-02x-code"),
    pytest.param('"027",   # Wuhan', '"127",', id="no-trunk-0"),
    pytest.param('"0710",  # Xiangyang', '"027",', id="duplicate"),
    pytest.param('kinds = ["mobile", "phs"]', 'kinds = []', id="no-notice-kinds"),
    pytest.param('kinds = ["mobile", "phs"]', 'kinds = ["fax"]', id="unknown-kind"),
    pytest.param("[broadband]", "[broadbandx]", id="missing-section"),
    pytest.param("[area_codes]", "[area_codes", id="toml-syntax"),
])
def test_from_toml_rejects_inconsistent_plan(old: str, new: str) -> None:
    """R-14: a plan whose area codes could split an input two ways, or is incomplete, is refused."""
    text = TOML.read_text("utf-8")
    assert old in text
    with pytest.raises(ValueError, match="numberplan"):
        NumberPlan.from_toml(text.replace(old, new))


@pytest.mark.parametrize("prefix", CT_PREFIXES)
def test_mobile_accepts_every_china_telecom_prefix(prefix: str) -> None:
    """R-14: an 11-digit mobile number with a China Telecom prefix is valid, without area code."""
    assert PLAN.validate(M, prefix + "12345678") == prefix + "12345678"


@pytest.mark.parametrize("text", [
    pytest.param("18912345678", id="plain"),
    pytest.param("189 1234 5678", id="spaces"),
    pytest.param("189-1234-5678", id="dashes"),
    pytest.param("１８９１２３４５６７８", id="full-width"),
    pytest.param("+86 189 1234 5678", id="plus86"),
    pytest.param("＋８６１８９１２３４５６７８", id="full-width-plus86"),
    pytest.param("8618912345678", id="86"),
    pytest.param("008618912345678", id="0086"),
    pytest.param("\u3000189 1234 5678\t", id="ideographic-space"),
])
def test_mobile_normalization(text: str) -> None:
    """R-14: spaces, dashes, full-width digits and a +86/86 country code are normalized away."""
    assert PLAN.validate(M, text) == "18912345678"


@pytest.mark.parametrize("text, expected", [
    pytest.param("1891234567", "11 digits expected, got 10", id="10-digits"),
    pytest.param("189123456789", "11 digits expected, got 12", id="12-digits"),
    pytest.param("8618912345", "11 digits expected, got 10", id="86-not-a-country-code"),
    pytest.param("13812345678", "138 is not a China Telecom prefix", id="china-mobile"),
    pytest.param("13012345678", "130 is not a China Telecom prefix", id="china-unicom"),
    pytest.param("02718912345678", "mobile numbers are entered without area code", id="area"),
    pytest.param("018912345678", "mobile numbers are entered without area code", id="leading-0"),
    pytest.param("189.1234.5678", "only digits, spaces and dashes are allowed", id="dots"),
    pytest.param("١٨٩١٢٣٤٥٦٧٨", "only digits, spaces and dashes are allowed",
                 id="arabic-indic-digits"),
    pytest.param("", "number missing", id="empty"),
    pytest.param(" - ", "number missing", id="only-separators"),
    pytest.param("+86", "number missing", id="only-country-code"),
])
def test_mobile_rejections_say_why(text: str, expected: str) -> None:
    """R-14: a bad mobile number is refused with a precise reason."""
    assert why(M, text) == expected


@pytest.mark.parametrize("kind", AREA_KINDS)
@pytest.mark.parametrize("code", HUBEI)
def test_every_accepted_area_code(kind: TargetKind, code: str) -> None:
    """R-14: each configured Hubei area code is accepted before the local/account number."""
    assert PLAN.validate(kind, f"{code}-87654321") == code + "87654321"


@pytest.mark.parametrize("kind, local, ok", [
    pytest.param(L, "876543", False, id="landline-6"),
    pytest.param(L, "8765432", True, id="landline-7"),
    pytest.param(L, "87654321", True, id="landline-8"),
    pytest.param(L, "876543210", False, id="landline-9"),
    pytest.param(P, "876543", False, id="phs-6"),
    pytest.param(P, "8765432", True, id="phs-7"),
    pytest.param(P, "87654321", True, id="phs-8"),
    pytest.param(P, "876543210", False, id="phs-9"),
    pytest.param(B, "8765432", False, id="broadband-7"),
    pytest.param(B, "87654321", True, id="broadband-8"),
    pytest.param(B, "876543210", False, id="broadband-9"),
])
def test_local_number_lengths(kind: TargetKind, local: str, ok: bool) -> None:
    """R-14: after the area code, landline/PHS take 7 or 8 digits, broadband exactly 8."""
    if ok:
        assert PLAN.validate(kind, "027" + local) == "027" + local
    else:
        assert f"digits expected after 027, got {len(local)}" in why(kind, "027" + local)


@pytest.mark.parametrize("kind, text, expected", [
    pytest.param(L, "87654321", "area code missing: enter 027 first", id="landline-no-area"),
    pytest.param(P, "87654321", "area code missing: enter 027 first", id="phs-no-area"),
    pytest.param(B, "12345678", "area code missing: enter 027 first", id="broadband-no-area"),
    pytest.param(L, "2787654321", "area code missing: enter 027 first", id="dropped-trunk-0"),
    pytest.param(L, "02987654321", "unknown area code 029", id="3-digit-unknown"),
    pytest.param(L, "029987654321", "unknown area code 029", id="02x-is-3-digits"),
    pytest.param(P, "073087654321", "unknown area code 0730", id="4-digit-unknown"),
    pytest.param(L, "010", "unknown area code 010", id="beijing"),
    pytest.param(L, "027", "local number: 7 or 8 digits expected after 027, got 0", id="only-area"),
    pytest.param(L, "02707654321", "local number cannot start with 0 or 1", id="landline-0"),
    pytest.param(L, "02717654321", "local number cannot start with 0 or 1", id="landline-1"),
    pytest.param(P, "02717654321", "local number cannot start with 0 or 1", id="phs-1"),
    pytest.param(B, "0271234567", "account number: 8 digits expected after 027, got 7", id="bb-7"),
    pytest.param(L, "027 8765 432x", "only digits, spaces and dashes are allowed", id="letter"),
    pytest.param(L, "+86 27 87654321", "only digits, spaces and dashes are allowed", id="plus86"),
])
def test_area_code_rejections_say_why(kind: TargetKind, text: str, expected: str) -> None:
    """R-14: landline, PHS and broadband errors name the area code problem precisely."""
    assert why(kind, text) == expected


@pytest.mark.parametrize("text", ["02701234567", "02712345678"])
def test_broadband_account_has_no_first_digit_rule(text: str) -> None:
    """R-14: a broadband account number (8 digits) may start with any digit, 0 and 1 included."""
    assert PLAN.validate(B, text) == text


def test_invalid_number_error_carries_rule_and_input() -> None:
    """R-14: the error cites R-14 and shows the (normalized) number and the kind to the user."""
    with pytest.raises(InvalidNumber) as err:
        PLAN.validate(L, "８７６５ ４３２１")
    assert err.value.rule == "R-14" and err.value.params["number"] == "87654321"
    assert err.value.message("en", rule=True) == (
        "Number 87654321 is not a valid landline number: area code missing: enter 027 first (R-14)")


@pytest.mark.parametrize("text, expected", [
    pytest.param("189 1234 5678", "18912345678", id="mobile"),
    pytest.param("+8618912345678", "18912345678", id="mobile-plus86"),
    pytest.param("008618912345678", "18912345678", id="mobile-0086"),
    pytest.param("027-87654321", "02787654321", id="phs-wuhan"),
    pytest.param("0710 8765432", "07108765432", id="phs-xiangyang-7"),
])
def test_notice_number_is_mobile_or_phs(text: str, expected: str) -> None:
    """R-17: the customer's notice number may be a mobile or a PHS number, each by its own rule."""
    assert PLAN.validate_notice(text) == expected


@pytest.mark.parametrize("text, expected", [
    pytest.param("13812345678", "138 is not a China Telecom prefix", id="other-operator"),
    pytest.param("87654321", "11 digits expected, got 8", id="phs-without-area"),
    pytest.param("0299876543", "unknown area code 029", id="unknown-area"),
    pytest.param("", "number missing", id="empty"),
])
def test_notice_number_rejections(text: str, expected: str) -> None:
    """R-17: a bad notice number is refused under R-17 with the reason of the matching rule."""
    with pytest.raises(InvalidNumber) as err:
        PLAN.validate_notice(text)
    assert err.value.rule == "R-17" and reason(err.value) == expected
    assert err.value.params["number"] == text and err.value.params["kind"] == "notice"


def test_notice_number_of_no_listed_kind() -> None:
    """R-17: with no notice kind for the input's form, the refusal names the kinds allowed."""
    plan = NumberPlan.from_toml(TOML.read_text("utf-8").replace(
        'kinds = ["mobile", "phs"]', 'kinds = ["mobile"]'))
    with pytest.raises(InvalidNumber) as err:
        plan.validate_notice("02787654321")
    assert err.value.params["why"] == "notice_kind" and err.value.params["kinds"] == ("mobile",)
    assert reason(err.value) == "a mobile number is expected"


@pytest.mark.parametrize("kind, text, params", [
    pytest.param(M, "13812345678", {"why": "prefix", "prefix": "138"}, id="prefix"),
    pytest.param(L, "0271", {"why": "local_length", "what": "local number", "lengths": (7, 8),
                             "area": "027", "got": 1}, id="local-length"),
    pytest.param(L, "87654321", {"why": "no_area_code", "home": "027"}, id="no-area-code"),
])
def test_refusals_carry_a_code_and_parameters(kind: TargetKind, text: str,
                                              params: dict[str, object]) -> None:
    """R-14: a refusal carries its reason as a code and parameters, not as a sentence."""
    with pytest.raises(InvalidNumber) as err:
        PLAN.validate(kind, text)
    assert err.value.params == {"number": text, "kind": kind.value, **params}


@pytest.mark.parametrize("kind, text, expected", [
    pytest.param(M, "+86 189 1234 5678", (None, "18912345678"), id="mobile"),
    pytest.param(L, "027-87654321", ("027", "87654321"), id="landline-wuhan"),
    pytest.param(P, "07108765432", ("0710", "8765432"), id="phs-4-digit-code"),
    pytest.param(B, "0728 01234567", ("0728", "01234567"), id="broadband"),
])
def test_split_for_display(kind: TargetKind, text: str, expected: tuple[str | None, str]) -> None:
    """R-14: split gives (area code, local part), with no area code for a mobile number."""
    assert PLAN.split(kind, text) == expected


def test_split_validates_first() -> None:
    """R-14: split refuses what validate refuses."""
    with pytest.raises(InvalidNumber):
        PLAN.split(L, "87654321")


separators = st.sampled_from(["", " ", "-", "\u3000", "－"])


def _fullwidth(s: str) -> str:
    return "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in s)


@given(st.sampled_from(CT_PREFIXES), st.text("0123456789", min_size=8, max_size=8),
       st.lists(separators, min_size=11, max_size=11), st.sampled_from(["", "+86", "86", "0086"]),
       st.booleans())
def test_any_mobile_survives_formatting(
        prefix: str, rest: str, seps: list[str], cc: str, wide: bool) -> None:
    """R-14: a valid mobile number normalizes back however spaced, widened or country-coded."""
    number = prefix + rest
    text = cc + "".join(d + s for d, s in zip(number, seps, strict=True))
    text = _fullwidth(text) if wide else text
    assert PLAN.validate(M, text) == number
    assert PLAN.validate_notice(text) == number


@given(st.sampled_from(AREA_KINDS), st.sampled_from(HUBEI), st.sampled_from("23456789"),
       st.text("0123456789", min_size=7, max_size=7), separators)
def test_area_numbers_split_back(
        kind: TargetKind, code: str, first: str, rest: str, sep: str) -> None:
    """R-14: a valid area-code number normalizes idempotently and splits into code + local."""
    local = first + rest
    number = PLAN.validate(kind, code + sep + local)
    assert number == code + local and PLAN.validate(kind, number) == number
    assert PLAN.split(kind, number) == (code, local)


@given(st.sampled_from(list(TargetKind)), st.text(max_size=30))
def test_any_text_is_valid_or_invalid_number(kind: TargetKind, text: str) -> None:
    """R-14, R-17: arbitrary input yields digits or InvalidNumber, never another exception."""
    for notice in (False, True):
        try:
            result = PLAN.validate_notice(text) if notice else PLAN.validate(kind, text)
        except InvalidNumber:
            continue
        assert result.isascii() and result.isdigit()
