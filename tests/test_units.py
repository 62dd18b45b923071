"""Tests of mappers.units: printed unit spellings -> UCUM."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mappers.units import (
    UNITS_CSV,
    UnitTableError,
    _read_rows,
    is_valid_ucum,
    load_units,
    normalise_unit,
    to_ucum,
    validate_unit_table,
)


def _aliases() -> list[tuple[str, str, str]]:
    with UNITS_CSV.open(encoding="utf-8", newline="") as f:
        return [(r["printed"], r["ucum"], r["kind"]) for r in csv.DictReader(f)]


ALIASES = _aliases()
UNAMBIGUOUS = sorted({(p, u) for p, u, k in ALIASES if not k})


def test_table_loads_and_validates() -> None:
    assert validate_unit_table() == []
    assert len(load_units().rows) >= 200


def test_every_target_is_valid_ucum_per_ucumvert() -> None:
    for _, ucum, _ in ALIASES:
        assert is_valid_ucum(ucum), ucum


def test_invalid_ucum_is_a_load_error(tmp_path: Path) -> None:
    bad = tmp_path / "units.csv"
    bad.write_text("printed,ucum,property,kind\nfoo,not-a-unit/xx,MCnc,\n", encoding="utf-8")
    with pytest.raises(UnitTableError):
        _read_rows(bad)


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ("µmol/l", "umol/L"),
        ("μmol/l", "umol/L"),  # Greek mu
        ("umol/l", "umol/L"),
        ("G/L", "10*9/L"),
        ("Giga/l", "10*9/L"),
        ("10^9/l", "10*9/L"),
        ("10E9/L", "10*9/L"),
        ("10*9/l", "10*9/L"),
        ("x 10⁹/L", "10*9/L"),
        ("/nl", "10*9/L"),
        ("T/L", "10*12/L"),
        ("10^12/l", "10*12/L"),
        ("/pl", "10*12/L"),
        ("/µl", "/uL"),
        ("/mm3", "/uL"),
        ("g/dl", "g/dL"),
        ("g/l", "g/L"),
        ("mg/dl", "mg/dL"),
        ("mmol/l", "mmol/L"),
        ("mUI/l", "m[IU]/L"),
        ("mU/l", "m[IU]/L"),
        ("µUI/ml", "u[IU]/mL"),
        ("µU/ml", "u[IU]/mL"),
        ("fl", "fL"),
        ("Sek.", "s"),
        ("sec", "s"),
        ("ml/min/1,73m²", "mL/min/{1.73_m2}"),
        ("mL/min/1.73 m2", "mL/min/{1.73_m2}"),
        ("mm/1h", "mm/h"),
        ("ng/ml", "ng/mL"),
        ("pmol/l", "pmol/L"),
        ("µg/l", "ug/L"),
        ("mmol/mol", "mmol/mol"),
        ("Ratio", "{ratio}"),
        ("%", "%"),
        ("(g/l)", "g/L"),
    ],
)
def test_known_spellings(printed: str, expected: str) -> None:
    m = to_ucum(printed)
    assert m is not None and m.ucum == expected


def test_giga_versus_gram_is_case_sensitive() -> None:
    giga, gram = to_ucum("G/L"), to_ucum("g/L")
    assert giga is not None and gram is not None
    assert (giga.ucum, giga.property) == ("10*9/L", "NCnc")
    assert (gram.ucum, gram.property) == ("g/L", "MCnc")


def test_mixed_case_si_prefix_is_refused() -> None:
    # "Mg/dl" would be megagram per decilitre: not silently read as mg/dL, nor as UCUM
    assert to_ucum("Mg/dl") is None
    caps = to_ucum("MG/DL")  # all capitals carries no case information
    assert caps is not None and caps.ucum == "mg/dL" and caps.score < 1.0


@pytest.mark.parametrize("printed", ["UI/L", "U/l", "IU/L"])
def test_enzyme_versus_hormone_units(printed: str) -> None:
    enzyme = to_ucum(printed, kind="enzyme")
    hormone = to_ucum(printed, kind="hormone")
    assert enzyme is not None and hormone is not None
    assert (enzyme.ucum, enzyme.property) == ("U/L", "CCnc")
    assert (hormone.ucum, hormone.property) == ("[IU]/L", "ACnc")
    guess = to_ucum(printed)
    assert guess is not None and guess.score < enzyme.score  # ambiguous without a hint


def test_scores_order_exact_normalised_casefold() -> None:
    exact, norm, folded = to_ucum("mmol/l"), to_ucum("mmol / l"), to_ucum("MMOL/L")
    assert exact and norm and folded
    assert exact.ucum == norm.ucum == folded.ucum == "mmol/L"
    assert exact.score == 1.0 > norm.score > folded.score


def test_unknown_units_return_none() -> None:
    for junk in ["", "   ", "blah", "xx/yy"]:
        assert to_ucum(junk) is None


def test_valid_ucum_not_in_table_is_accepted_with_low_score() -> None:
    m = to_ucum("mg/kg")
    assert m is not None and m.ucum == "mg/kg" and m.score < 0.9


def _variants(draw: st.DrawFn, alias: str) -> str:
    s = alias
    if draw(st.booleans()):
        s = s.replace("µ", draw(st.sampled_from(["μ", "u", "µ"])))
    if draw(st.booleans()):
        s = s.replace("u", draw(st.sampled_from(["µ", "μ", "u"]))) if "u" in s and "mol" in s else s
    pad = draw(st.sampled_from(["", " ", "  "]))
    if draw(st.booleans()) and "/" in s:
        s = s.replace("/", f"{pad}/{pad}", 1)
    return draw(st.sampled_from(["", " ", "\t"])) + s + draw(st.sampled_from(["", " "]))


@st.composite
def alias_variant(draw: st.DrawFn) -> tuple[str, str, str]:
    printed, ucum = draw(st.sampled_from(UNAMBIGUOUS))
    return printed, ucum, _variants(draw, printed)


@settings(max_examples=300, deadline=None)
@given(alias_variant())
def test_mu_and_spacing_variants_map_to_same_ucum(case: tuple[str, str, str]) -> None:
    _, ucum, variant = case
    m = to_ucum(variant)
    assert m is not None, variant
    assert m.ucum == ucum


def _case_safe(printed: str) -> bool:
    """Aliases whose case-folded key is unambiguous in the table."""
    key = normalise_unit(printed).lower()
    return key in load_units().casefolded


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([a for a in UNAMBIGUOUS if _case_safe(a[0])]), st.randoms(use_true_random=False))
def test_case_variants_map_to_same_ucum_or_are_refused(alias: tuple[str, str], rnd) -> None:  # type: ignore[no-untyped-def]
    printed, ucum = alias
    variant = "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in printed)
    m = to_ucum(variant)
    # a case variant never maps to a *different* unit; it may be refused when a SI prefix
    # letter changed case in a mixed-case spelling (mU vs MU)
    assert m is None or m.ucum == ucum, (variant, m)
    assert to_ucum(variant.upper()) is not None and to_ucum(variant.upper()).ucum == ucum  # type: ignore[union-attr]


def test_lookup_is_cached_once_per_process() -> None:
    assert load_units() is load_units()
