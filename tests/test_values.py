"""Printed numbers, ranges and flags (one test per rule; property tests for round trips)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractors.values import infer_decimal_comma, is_flag, looks_like_unit, parse_flag, parse_number, parse_range


@pytest.mark.parametrize(
    ("text", "comma", "value", "decimals", "comp"),
    [
        ("4,52", True, 4.52, 2, None),
        ("4.52", False, 4.52, 2, None),
        ("4.52", True, 4.52, 2, None),  # two decimals cannot be German thousands
        ("1 250", True, 1250.0, 0, None),
        ("1\u202f250", True, 1250.0, 0, None),  # narrow no-break space
        ("1'250", None, 1250.0, 0, None),  # Swiss
        ("250.000", True, 250000.0, 0, None),  # German thousands in /µl counts
        ("1,250", False, 1250.0, 0, None),  # English thousands
        ("1,250", True, 1.25, 3, None),
        ("<0,5", True, 0.5, 1, "<"),
        ("< 0.5", False, 0.5, 1, "<"),
        (">90", None, 90.0, 0, ">"),
        ("≤ 3", None, 3.0, 0, "<="),
        ("≥60", None, 60.0, 0, ">="),
        ("-2,5", True, -2.5, 1, None),
        ("\u22122.5", False, -2.5, 1, None),  # unicode minus
        (",5", True, 0.5, 1, None),
    ],
)
def test_parse_number_formats(text: str, comma: bool | None, value: float, decimals: int, comp: str | None) -> None:
    n = parse_number(text, comma)
    assert n is not None
    assert math.isclose(n.value, value)
    assert n.decimals == decimals
    assert n.comparator == comp


@pytest.mark.parametrize("text", ["", "abc", "12/03/2026", "1.2.3.4x", "H", "g/l", "4,5,6,7a", "--"])
def test_parse_number_rejects(text: str) -> None:
    assert parse_number(text) is None


@given(
    st.integers(min_value=0, max_value=999_999),
    st.integers(min_value=0, max_value=4),
    st.sampled_from([",", "."]),
)
def test_number_round_trip(intpart: int, ndec: int, sep: str) -> None:
    """Any number printed with either separator (no grouping) parses back exactly."""
    frac = str(intpart * 7 % (10**ndec)).zfill(ndec) if ndec else ""
    text = f"{intpart}{sep}{frac}" if ndec else str(intpart)
    comma = sep == ","
    n = parse_number(text, comma)
    assert n is not None
    expected = float(f"{intpart}.{frac}") if ndec else float(intpart)
    assert math.isclose(n.value, expected)
    assert n.decimals == ndec


@given(st.integers(min_value=1000, max_value=9_999_999), st.sampled_from([" ", "\u00a0", "'"]))
def test_grouped_thousands_round_trip(value: int, group: str) -> None:
    s = f"{value:,}".replace(",", group)
    n = parse_number(s, True)
    assert n is not None and n.value == value


@given(st.sampled_from(["<", ">", "<=", ">=", "≤", "≥"]), st.floats(min_value=0, max_value=1e5, allow_nan=False).map(lambda x: round(x, 2)), st.booleans())
def test_comparator_round_trip(comp: str, value: float, space: bool) -> None:
    text = f"{comp}{' ' if space else ''}{value:.2f}"
    n = parse_number(text, False)
    assert n is not None and n.comparator is not None
    assert math.isclose(n.value, value)


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("3,5 - 5,1", 3.5, 5.1),
        ("3.5–5.1", 3.5, 5.1),
        ("3,5 à 5,1", 3.5, 5.1),
        ("3,5 bis 5,1", 3.5, 5.1),
        ("[12,0-16,0]", 12.0, 16.0),
        ("(13.0-17.0)", 13.0, 17.0),
        ("< 5", None, 5.0),
        ("> 60", 60.0, None),
        ("bis 5,0", None, 5.0),
        ("inf. à 5", None, 5.0),
        ("-2 - 2", -2.0, 2.0),
        ("150 - 400", 150.0, 400.0),
    ],
)
def test_parse_range_forms(text: str, low: float | None, high: float | None) -> None:
    r = parse_range(text, decimal_comma=True)
    assert r is not None
    assert r.low == low and r.high == high


@pytest.mark.parametrize(
    ("text", "sex", "low", "high"),
    [
        ("H: 13-17 / F: 12-16", "female", 12.0, 16.0),
        ("H: 13-17 / F: 12-16", "male", 13.0, 17.0),
        ("m 13,5-17,5 w 12-16", "male", 13.5, 17.5),
        ("Hommes: 0,7-1,2 Femmes: 0,5-1,0", "female", 0.5, 1.0),
    ],
)
def test_sex_specific_range(text: str, sex: str, low: float, high: float) -> None:
    r = parse_range(text, decimal_comma=True, sex=sex)
    assert r is not None and r.low == low and r.high == high


def test_sex_specific_range_without_sex_keeps_text_only() -> None:
    r = parse_range("H: 13-17 / F: 12-16", True, None)
    assert r is not None and r.low is None and r.high is None and "13-17" in r.text


@given(
    st.floats(min_value=0, max_value=1000, allow_nan=False).map(lambda x: round(x, 1)),
    st.floats(min_value=0, max_value=1000, allow_nan=False).map(lambda x: round(x, 1)),
    st.sampled_from([" - ", "-", " – ", " à ", " bis "]),
    st.sampled_from([("", ""), ("[", "]"), ("(", ")")]),
    st.booleans(),
)
@settings(max_examples=200)
def test_range_round_trip(a: float, b: float, dash: str, brackets: tuple[str, str], comma: bool) -> None:
    lo, hi = min(a, b), max(a, b)
    fmt = (lambda x: f"{x:.1f}".replace(".", ",")) if comma else (lambda x: f"{x:.1f}")
    text = f"{brackets[0]}{fmt(lo)}{dash}{fmt(hi)}{brackets[1]}"
    r = parse_range(text, decimal_comma=comma)
    assert r is not None
    assert math.isclose(r.low or 0.0, lo) and math.isclose(r.high or 0.0, hi)


def test_reversed_range_is_not_a_range() -> None:
    assert parse_range("16 - 12", True) is None


@pytest.mark.parametrize(
    ("text", "direction"),
    [("H", "H"), ("L", "L"), ("HH", "HH"), ("LL", "LL"), ("*", None), ("+", "H"), ("-", "L"), ("↑", "H"), ("↓", "L"), ("(H)", "H"), ("hoch", "H")],
)
def test_flags(text: str, direction: str | None) -> None:
    f = parse_flag(text)
    assert f is not None and f[0] is True and f[1] == direction


@pytest.mark.parametrize("text", ["Hb", "12", "g/l", "Leucocytes", ""])
def test_not_flags(text: str) -> None:
    assert not is_flag(text)


@pytest.mark.parametrize("text", ["g/dl", "G/L", "µmol/l", "mUI/l", "%", "10^9/l", "/nl", "fl", "mmol/mol", "ml/min/1,73m²", "U/L"])
def test_unit_shapes(text: str) -> None:
    assert looks_like_unit(text)


@pytest.mark.parametrize("text", ["12,5", "Hémoglobine", "négatif", "2026-03-01"])
def test_not_unit_shapes(text: str) -> None:
    assert not looks_like_unit(text)


def test_decimal_convention_vote() -> None:
    assert infer_decimal_comma(["12,3", "4,52", "7.1"]) is True
    assert infer_decimal_comma(["12.3", "4.52", "7,1"]) is False
    assert infer_decimal_comma(["12", "abc"]) is None
