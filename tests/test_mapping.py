"""RawResult -> MappedResult: codes, units, interpretation and confidence (one test per rule).

Expected LOINC codes and UCUM units are facts of those terminologies, not of our tables:
e.g. 2345-7 is glucose by mass in serum/plasma, 14749-6 by substance concentration.
"""

from __future__ import annotations

import pytest

from mappers.results import AUTO_ACCEPT, MappingContext, label_variants, map_result, map_results, split_range_unit
from models import BBox, MappedResult, PatientInfo, Printed, RawResult, ReportMeta, WordSource

FR = MappingContext(decimal_comma=True, sex="female", language="fr")
DE = MappingContext(decimal_comma=True, sex="female", language="de")
EN = MappingContext(decimal_comma=False, sex="female", language="en")


def printed(text: str, *, bold: bool = False, confidence: float = 1.0, ocr: bool = False) -> Printed:
    return Printed(
        text=text, page=1, bbox=BBox(x0=40, top=100, x1=90, bottom=110), bold=bold, confidence=confidence,
        source=WordSource.OCR if ocr else WordSource.TEXT,
    )


def raw(
    label: str,
    value: str,
    unit: str | None = None,
    rng: str | None = None,
    flag: str | None = None,
    *,
    section: str | None = None,
    bold: bool = False,
    confidence: float = 1.0,
) -> RawResult:
    return RawResult(
        index=0, section=section, label=printed(label), value=printed(value, bold=bold, confidence=confidence, ocr=confidence < 1.0),
        unit=printed(unit) if unit else None, range=printed(rng) if rng else None, flag=printed(flag) if flag else None,
    )


def m(label: str, value: str, unit: str | None = None, rng: str | None = None, flag: str | None = None, ctx: MappingContext = FR, **kw: object) -> MappedResult:
    return map_result(raw(label, value, unit, rng, flag, **kw), ctx)  # type: ignore[arg-type]


# ------------------------------------------------------------------ codes chosen by unit


@pytest.mark.parametrize(
    ("label", "value", "unit", "ctx", "loinc", "ucum"),
    [
        ("Glucose", "98", "mg/dl", FR, "2345-7", "mg/dL"),
        ("Glucose", "5,4", "mmol/l", FR, "14749-6", "mmol/L"),
        ("Glukose", "0,98", "g/l", DE, "2345-7", "g/L"),
        ("Glucose", "5.4", "mmol/L", EN, "14749-6", "mmol/L"),
    ],
)
def test_loinc_chosen_by_the_unit_property(label: str, value: str, unit: str, ctx: MappingContext, loinc: str, ucum: str) -> None:
    r = m(label, value, unit, ctx=ctx)
    assert (r.loinc, r.unit_ucum) == (loinc, ucum)


def test_enzyme_and_hormone_international_units() -> None:
    alt = m("ALAT", "32", "UI/L", "< 35")
    tsh = m("TSH", "2,1", "mUI/L", "0,27 - 4,20")
    assert (alt.loinc, alt.unit_ucum) == ("1742-6", "U/L")  # enzyme activity: UCUM U
    assert (tsh.loinc, tsh.unit_ucum) == ("3016-3", "m[IU]/L")  # hormone: international units


@pytest.mark.parametrize(
    ("label", "value", "section", "loinc"),
    [
        ("Glucose", "négatif", "Urinstatus (Teststreifen)", "25428-4"),
        ("Protéines", "traces", "Bandelette urinaire", "20454-5"),
        ("Nitrites", "positif", "Urines", "5802-4"),
    ],
)
def test_qualitative_urine_strip_results_get_the_ordinal_urine_code(label: str, value: str, section: str, loinc: str) -> None:
    r = m(label, value, section=section)
    assert r.loinc == loinc
    assert r.specimen == "urine"
    assert r.value is None and r.value_text is not None


def test_qualitative_value_of_a_blood_analyte_name_is_a_strip_field() -> None:
    # no urine section printed; a qualitative "Glucose: négatif" is still a urine strip result
    r = m("Glucose", "négatif")
    assert r.loinc == "25428-4"


def test_unmapped_label_kept_with_low_confidence() -> None:
    r = m("Zorglub index", "4,2", "U/L", "1 - 5")
    assert r.loinc is None
    assert r.value == pytest.approx(4.2)
    assert r.raw.label.text == "Zorglub index"
    assert r.confidence < 0.5
    assert r.review_status == "needs-review"
    assert "unmapped-label" in r.notes


# ------------------------------------------------------------------ interpretation


@pytest.mark.parametrize(
    ("value", "flag", "expected"),
    [
        ("5,9", "H", "H"),
        ("2,9", "L", "L"),
        ("7,9", "HH", "HH"),
        ("1,9", "LL", "LL"),
        ("5,9", "+", "H"),
        ("2,9", "-", "L"),
        ("5,9", "↑", "H"),
        ("2,9", "↓", "L"),
        ("5,9", "(H)", "H"),
        ("5,9", "*", "H"),  # direction-less mark: the range says which way
        ("2,9", "*", "L"),
    ],
)
def test_interpretation_from_the_printed_flag(value: str, flag: str, expected: str) -> None:
    assert m("Potassium", value, "mmol/l", "3,5 - 5,1", flag).interpretation == expected


@pytest.mark.parametrize(("value", "expected"), [("5,9", "H"), ("2,9", "L"), ("4,0", "N"), ("3,5", "N"), ("5,1", "N")])
def test_interpretation_computed_from_the_range(value: str, expected: str) -> None:
    r = m("Potassium", value, "mmol/l", "3,5 - 5,1")
    assert r.interpretation == expected


def test_open_range_bounds() -> None:
    assert m("CRP", "12,0", "mg/l", "< 5,0").interpretation == "H"
    assert m("CRP", "< 0,5", "mg/l", "< 5,0").interpretation == "N"
    assert m("DFG", "45", "mL/min/1,73 m²", "> 60").interpretation == "L"


def test_bold_value_outside_the_range_takes_the_range_direction() -> None:
    assert m("Potassium", "5,9", "mmol/l", "3,5 - 5,1", bold=True).interpretation == "H"
    assert m("Potassium", "2,9", "mmol/l", "3,5 - 5,1", bold=True).interpretation == "L"


def test_bold_value_inside_the_range_is_abnormal_but_doubtful() -> None:
    r = m("Potassium", "4,0", "mmol/l", "3,5 - 5,1", bold=True)
    assert r.interpretation == "A"
    plain = m("Potassium", "4,0", "mmol/l", "3,5 - 5,1")
    assert r.confidence_fields["flag"] < plain.confidence_fields["flag"]
    assert r.confidence < plain.confidence


def test_flag_contradicting_the_range_lowers_flag_confidence() -> None:
    agree = m("Potassium", "5,9", "mmol/l", "3,5 - 5,1", "H")
    clash = m("Potassium", "4,0", "mmol/l", "3,5 - 5,1", "H")
    assert clash.interpretation == "H"  # what was printed wins
    assert clash.confidence_fields["flag"] < agree.confidence_fields["flag"]


def test_qualitative_result_against_qualitative_reference() -> None:
    assert m("Nitrites", "positif", rng="négatif", section="Urines").interpretation == "A"
    assert m("Nitrites", "négatif", rng="négatif", section="Urines").interpretation == "N"


def test_sex_specific_range_uses_the_patient_sex() -> None:
    rng = "H: 13,0 - 17,0 / F: 12,0 - 16,0"
    woman = map_result(raw("Hémoglobine", "12,5", "g/dl", rng), MappingContext(True, "female", "fr"))
    man = map_result(raw("Hémoglobine", "12,5", "g/dl", rng), MappingContext(True, "male", "fr"))
    assert (woman.ref_low, woman.ref_high, woman.interpretation) == (12.0, 16.0, "N")
    assert (man.ref_low, man.ref_high, man.interpretation) == (13.0, 17.0, "L")


# ------------------------------------------------------------------ values and confidence


def test_value_keeps_decimals_and_comparator() -> None:
    r = m("Créatinine", "0,80", "mg/dl", "0,50 - 0,90")
    assert (r.value, r.value_decimals, r.comparator) == (0.8, 2, None)
    c = m("CRP", "< 0,5", "mg/l", "< 5,0")
    assert (c.value, c.comparator) == (0.5, "<")


def test_clean_known_result_is_auto_accepted() -> None:
    r = m("Hémoglobine", "13,2", "g/dl", "12,0 - 16,0")
    assert r.loinc == "718-7"
    assert r.confidence >= AUTO_ACCEPT
    assert r.review_status == "auto-accepted"
    assert r.notes == ()


def test_confidence_lower_when_the_unit_does_not_fit_the_code() -> None:
    good = m("Hémoglobine", "13,2", "g/dl", "12,0 - 16,0")
    odd = m("Hémoglobine", "13,2", "fl", "12,0 - 16,0")
    assert odd.confidence < good.confidence
    assert odd.confidence_fields["code"] < good.confidence_fields["code"]
    assert "unit-does-not-fit-code" in odd.notes
    assert odd.review_status == "needs-review"


def test_unknown_unit_lowers_unit_confidence() -> None:
    r = m("Hémoglobine", "13,2", "blorps", "12,0 - 16,0")
    assert r.confidence_fields["unit"] < 0.5
    assert r.review_status == "needs-review"


def test_low_ocr_reading_confidence_needs_review() -> None:
    r = m("Hémoglobine", "13,2", "g/dl", "12,0 - 16,0", confidence=0.55)
    # OCR word confidence c is calibrated as 1 - (1 - c)^2 (README "Calibration"): 0.55 -> 0.80
    assert r.confidence_fields["value"] <= 1 - (1 - 0.55) ** 2 + 1e-9
    assert r.review_status == "needs-review"


def test_implausible_value_against_its_range_is_doubted() -> None:
    # 132 g/dl for hemoglobin: a lost decimal separator more likely than a real result
    ok = m("Hémoglobine", "13,2", "g/dl", "12,0 - 16,0")
    far = m("Hémoglobine", "1320", "g/dl", "12,0 - 16,0")
    assert far.confidence_fields["value"] < ok.confidence_fields["value"]


def test_unit_printed_in_the_label() -> None:
    r = m("Hémoglobine (g/dl)", "13,2", None, "12,0 - 16,0")
    assert (r.loinc, r.unit_ucum) == ("718-7", "g/dL")
    assert "unit-from-label" in r.notes


def test_unit_printed_in_the_range_cell() -> None:
    r = m("Monocytes", "4,9", None, "2,0 - 10,0 %")
    assert (r.loinc, r.unit_ucum, r.ref_low, r.ref_high) == ("5905-5", "%", 2.0, 10.0)
    assert "unit-from-range" in r.notes
    assert r.confidence_fields["unit"] < m("Monocytes", "4,9", "%", "2,0 - 10,0").confidence_fields["unit"]


def test_unit_glued_to_the_bracket_that_closes_the_range() -> None:
    # "Monozyten %" with "(2.0-10.0)%" and no unit column read: both the range and the unit
    r = m("Monocytes %", "8,5", None, "(2,0-10,0)%")
    assert (r.unit_ucum, r.ref_low, r.ref_high) == ("%", 2.0, 10.0) and "unit-from-range" in r.notes
    # the unit read in its column as well: the range is still read
    r = m("Monocytes", "4,9", "%", "(2,0-10,0)%")
    assert (r.unit_ucum, r.ref_low, r.ref_high) == ("%", 2.0, 10.0) and "unit-from-range" not in r.notes
    # a unit column read, and a range whose last digit was read as a letter: no unit split off it
    r = m("Bilirubine totale", "3", "µmol/l", "<2l", confidence=0.9)
    assert r.ref_high != 2.0


@pytest.mark.parametrize(
    ("text", "split"),
    [
        ("40,0 - 75,0%", ("40,0 - 75,0", "%")),
        ("4,0 - 10,0 G/L", ("4,0 - 10,0", "G/L")),
        ("<500 ng/mL FEU", ("<500", "ng/mL FEU")),
        (">90 mI/min/1,73m?", (">90", "mI/min/1,73m?")),  # misread, left to the unit repair
        ("3,5 - 5,0", None),
        ("3,5-5 (adultes)", None),  # a remark, not a unit
        ("<15", None),
        ("négatif", None),
        ("(2,0-10,0)%", ("(2,0-10,0)", "%")),  # the unit glued to the bracket that closes the range
        ("[4,5-5,9] g/l", ("[4,5-5,9]", "g/l")),
        ("M: (135-225) / W: (135-214) UN", None),  # "UN" is no unit
    ],
)
def test_split_range_unit(text: str, split: tuple[str, str] | None) -> None:
    assert split_range_unit(text, decimal_comma=True) == split


# ------------------------------------------------------------------ label variants


@pytest.mark.parametrize(
    ("label", "loinc"),
    [
        ("CCMH / MCHC", "786-4"),
        ("Ht/ Hkt", "4544-3"),  # OCR lost a space
        ("C.CMH.", "786-4"),  # OCR misplaced the dots
        ("C.C-MH.", "786-4"),
        ("Ht /Hkt", "4544-3"),
        ("MCHC / CCMH", "786-4"),
        ("V.G.M.", "787-2"),
        ("VGM", "787-2"),
        ("Ery-Verteilungsbreite (RDW)", "788-0"),
        ("(RDW)", "788-0"),
    ],
)
def test_label_variants_map(label: str, loinc: str) -> None:
    unit = {"786-4": "g/dl", "787-2": "fl", "788-0": "%", "4544-3": "%"}[loinc]
    assert m(label, "33,1", unit).loinc == loinc


def test_label_variants_lists_each_form() -> None:
    v = label_variants("Hémoglobine / Hämoglobin (Hb)")
    assert {"Hémoglobine", "Hämoglobin", "Hb"} <= set(v)
    assert "VGM" in label_variants("V.G.M.")
    assert v[0] == "Hémoglobine / Hämoglobin (Hb)"  # as printed first


def test_map_results_uses_the_patient_sex_and_keeps_order() -> None:
    rows = [raw("Hémoglobine", "12,5", "g/dl", "H: 13,0 - 17,0 / F: 12,0 - 16,0"), raw("Sodium", "141", "mmol/l", "136 - 145")]
    rows = [r.model_copy(update={"index": i}) for i, r in enumerate(rows)]
    meta = ReportMeta(language="fr", patient=PatientInfo(sex="male"))
    out = map_results(rows, meta, True)
    assert [r.raw.index for r in out] == [0, 1]
    assert out[0].interpretation == "L"


# ------------------------------------------------------------------ OCR repairs (issue 3)


def test_ocr_lost_decimal_separator_is_repaired_against_the_printed_range_and_sent_to_review() -> None:
    # "4,33" read as "433" by OCR; the printed range "3,90 - 5,20" makes only 4.33 plausible
    r = m("Erythrozyten", "433", "T/l", "3,90 - 5,20", confidence=0.8)
    assert r.value == pytest.approx(4.33)
    assert "value-repaired" in r.notes
    assert r.review_status == "needs-review"


def test_ocr_value_and_range_both_without_commas_use_the_analyte_span() -> None:
    # haematocrit "43,8" with range "36,0-47,0", all commas lost: 438 % is impossible
    r = m("Hématocrite", "438", "%", "360 - 470", confidence=0.8)
    assert r.value == pytest.approx(43.8)
    assert (r.ref_low, r.ref_high) == (pytest.approx(36.0), pytest.approx(47.0))
    assert r.review_status == "needs-review"


@pytest.mark.parametrize(
    ("label", "value", "unit", "rng", "expected", "low", "high"),
    [
        # "1,9" in "1,6-2,6" read as 19 / 16-26: 19 mg/dl magnesium is impossible, both scale back
        ("Magnesium", "19", "mg/dl", "16-26", 1.9, 1.6, 2.6),
        # the range read whole says two digits followed the lost separator (11,2 would fit the span)
        ("fT4", "112", "ng/dl", "0,93 - 1,70", 1.12, 0.93, 1.70),
        # the range lost them too: only 1,12 and 0,93-1,70 both scale back into the span
        ("fT4", "112", "ng/dl", "93 - 170", 1.12, 0.93, 1.70),
    ],
)
def test_ocr_lost_separator_is_judged_by_the_analyte_span_and_the_range(
    label: str, value: str, unit: str, rng: str, expected: float, low: float, high: float
) -> None:
    r = m(label, value, unit, rng, confidence=0.8)
    assert r.value == pytest.approx(expected) and "value-repaired" in r.notes
    assert (r.ref_low, r.ref_high) == (pytest.approx(low), pytest.approx(high))
    assert r.review_status == "needs-review"


@pytest.mark.parametrize(
    ("label", "value", "printed", "rng", "expected"),
    [("INR", "25", "2,5", "0,8 - 1,2", 2.5), ("pH urinaire", "60", "6,0", "5,0 - 8,0", 6.0)],
)
def test_ocr_unitless_test_lost_separator_is_judged_by_its_span(label: str, value: str, printed: str, rng: str, expected: float) -> None:
    # no unit is printed for INR or pH: the test's dimensionless unit still has a span
    r = m(label, value, None, rng, confidence=0.8)
    assert r.value == pytest.approx(expected) and "value-repaired" in r.notes and r.review_status == "needs-review"
    read_right = m(label, printed, None, rng, confidence=0.8)
    assert read_right.value == pytest.approx(expected) and "value-repaired" not in read_right.notes


def test_ocr_value_with_a_leading_zero_lost_its_separator() -> None:
    r = m("Basophiles", "03", "%", "0,0 - 1,5", confidence=0.8)
    assert r.value == pytest.approx(0.3) and "value-repaired" in r.notes and r.review_status == "needs-review"
    assert m("Basophiles", "0", "%", "0,0 - 1,5", confidence=0.8).value == 0  # a plain zero is a zero


def test_text_layer_values_are_never_repaired() -> None:
    r = m("Hématocrite", "438", "%", "360 - 470")  # digital: printed as is, kept as is
    assert r.value == 438
    assert "value-repaired" not in r.notes


def test_ocr_unit_is_repaired_to_a_unit_the_analyte_accepts() -> None:
    from mappers.repair import component_units, repair_unit

    assert repair_unit('10"9/L', component_units("wbc")).ucum == "10*9/L"  # type: ignore[union-attr]
    assert repair_unit("mmol/1", component_units("potassium")).ucum == "mmol/L"  # type: ignore[union-attr]
    assert repair_unit("pmol/L", component_units("creatinine")).ucum == "umol/L"  # type: ignore[union-attr]
    assert repair_unit("xyz", component_units("potassium")) is None
    assert repair_unit("g£", component_units("triglycerides")).ucum == "g/L"  # type: ignore[union-attr]  # L read as £


@pytest.mark.parametrize(
    ("component", "value", "rng", "unit"),
    [
        ("lymphocytes", 1.93, "1,00-4,00", "10*9/L"),  # the count, though the report printed % on its monocytes
        ("monocytes", 0.55, "0,20-1,00", "10*9/L"),
        ("monocytes", 15.0, "2,0-10,0", "%"),
        ("eosinophils", 0.24, None, "10*9/L"),  # no range: the value alone decides
        ("basophils", 0.14, "0,00-0,20", "%"),  # both intervals near: the report's convention (% printed) decides
    ],
)
def test_lost_unit_of_a_differential_count_is_told_by_its_typical_interval(
    component: str, value: float, rng: str | None, unit: str
) -> None:
    from extractors.values import parse_range
    from mappers.ocr_repair import infer_unit
    from mappers.repair import component_units

    printed = (("%", component_units("monocytes")),)  # the report printed "%" on a row with the same choice
    assert infer_unit(component, component_units(component), value, parse_range(rng, True) if rng else None, printed=printed) == unit


def test_typical_interval_needs_a_clear_winner() -> None:
    from extractors.values import parse_range
    from mappers.ocr_repair import typical_choice

    assert typical_choice("basophils", ["%", "10*9/L"], 0.14, parse_range("0,00-0,20", True)) is None
    assert typical_choice("lymphocytes", ["%", "10*9/L"], 8.0, None) is None  # 8 %: lymphopenia, or 8 x 10^9/l
    assert typical_choice("lymphocytes", ["%", "10*9/L"], 30.0, parse_range("20-40", True)) == "%"
    assert typical_choice("monocytes", ["%", "10*9/L"], 0.0, None) is None  # a zero and no range: nothing to place (fax seed 20261217)
    assert typical_choice("monocytes", ["%", "10*9/L"], 0.0, parse_range("0,0-0,0", True)) is None


def test_plausible_spans_are_validated() -> None:
    from mappers.ocr_repair import validate_spans
    from mappers.terminology import load_terminology

    assert validate_spans(set(load_terminology().kinds)) == []
    assert any("unknown component 'magnesium'" in p for p in validate_spans(set(load_terminology().kinds) - {"magnesium"}))


@pytest.mark.parametrize(
    ("label", "value", "rng", "ucum"),
    [
        ("Hématocrite", "46,6", "40,0 - 52,0", "%"),  # the "%" lost: 46,6 L/L is impossible
        ("Hämatokrit", "0,38", "0,35 - 0,47", "L/L"),
        ("Hémoglobine", "151", "130 - 170", "g/L"),
        ("VPM", "8,5", "7,5 - 11,5", "fL"),
        # 10⁹/l, /nl, 10³/µl hold the same numbers: one unit, written as the terminology's usual spelling
        ("Leucocytes", "7,9", "4,0 - 10,0", "10*9/L"),
        ("Hématies", "4,71", "4,00 - 5,20", "10*12/L"),
        ("CCMH", "331", "320 - 460", "g/L"),  # the range misread ("460" > 450 g/l): the value alone decides
    ],
)
def test_ocr_row_whose_unit_was_lost_gets_the_only_unit_its_span_allows_and_goes_to_review(
    label: str, value: str, rng: str, ucum: str
) -> None:
    r = m(label, value, None, rng, confidence=0.9)
    assert r.unit_ucum == ucum and "unit-inferred" in r.notes
    assert r.review_status == "needs-review" and r.confidence_fields["unit"] <= 0.6


@pytest.mark.parametrize(
    ("label", "value", "unit", "rng", "ucum"),
    [
        ("Albumine", "48,1", "ge", "35,0 - 52,0", "g/L"),  # "g/L" read as "ge": no unit, nothing to repair from
        ("CCMH", "34,2", "gd", "32,0 - 36,0", "g/dL"),
    ],
)
def test_ocr_unit_read_as_no_unit_at_all_is_inferred_like_a_lost_one(label: str, value: str, unit: str, rng: str, ucum: str) -> None:
    ocr = raw(label, value, unit, rng, confidence=0.9)
    ocr = ocr.model_copy(update={"unit": printed(unit, confidence=0.9, ocr=True)})
    r = map_result(ocr, FR)
    assert r.unit_ucum == ucum and "unit-inferred" in r.notes and r.review_status == "needs-review"
    assert m(label, value, unit, rng).unit_ucum is None  # a text layer's unknown unit stays unknown


def test_ocr_row_without_unit_of_a_test_with_one_unit_gets_it() -> None:
    # "Lymphocytes" without "abs." is the % test (736-9): % or 10⁹/l by the spans, % by the code
    r = m("Lymphocytes", "17,6", None, "20,0 - 40,0", confidence=0.9)
    assert (r.loinc, r.unit_ucum) == ("736-9", "%") and "unit-inferred" in r.notes and r.review_status == "needs-review"
    # NT-proBNP's code takes pg/ml or ng/l: the same unit, so it is inferred too (the usual spelling)
    r = m("NT-proBNP", "54", None, "< 125", confidence=0.9)
    assert (r.loinc, r.unit_ucum) == ("33762-6", "pg/mL") and "unit-inferred" in r.notes
    # a density may be printed without a unit (1) or in g/ml: no unit is guessed
    r = m("Densité", "1,020", None, "1,005 - 1,030", confidence=0.9)
    assert (r.loinc, r.unit_ucum) == ("5811-5", None) and "unit-inferred" not in r.notes


@pytest.mark.parametrize(
    ("label", "value", "rng", "kw"),
    [
        ("Hémoglobine", "9,1", "8,1 - 10,9", {"confidence": 0.9}),  # g/dl or mmol/l: no guess
        ("Hématocrite", "46,6", "40,0 - 52,0", {}),  # a text layer prints what it means
    ],
)
def test_unit_is_not_inferred_when_the_spans_leave_a_choice_or_on_a_text_layer(label: str, value: str, rng: str, kw: dict[str, object]) -> None:
    r = m(label, value, None, rng, **kw)
    assert "unit-inferred" not in r.notes


def test_lost_unit_of_an_absolute_count_is_told_by_its_range() -> None:
    # % or 10⁹/l by the spans; the printed range 1,00-4,00 is a lymphocyte count's interval
    r = m("Lymphocytes abs.", "2,14", None, "1,00 - 4,00", confidence=0.9)
    assert (r.loinc, r.unit_ucum) == ("731-0", "10*9/L") and "unit-inferred" in r.notes and r.review_status == "needs-review"


def test_lost_unit_of_a_count_the_label_calls_absolute_is_a_count_unit() -> None:
    # both intervals near 0,00-0,50; the report printed "%" on its other differential rows,
    # but the label says the count is absolute: never its %
    from dataclasses import replace

    from mappers.repair import component_units

    ctx = replace(FR, printed_units=(("%", component_units("monocytes")),))
    row = raw("Polynucléaires éosinophiles / Eosinophile abs.", "0,06", "10192", "0,00 - 0,50", confidence=0.9)
    row = row.model_copy(update={"unit": printed("10192", confidence=0.07, ocr=True)})
    r = map_result(row, ctx)
    assert (r.loinc, r.unit_ucum) == ("711-2", "10*9/L") and "unit-inferred" in r.notes


@pytest.mark.parametrize(("unit", "loinc", "ucum"), [("% EE]", "5894-1", "%"), ("% El", "5894-1", "%"), ("mg/l xx", "1988-5", "mg/L")])
def test_ocr_unit_followed_by_a_few_junk_glyphs_is_that_unit_for_review(unit: str, loinc: str, ucum: str) -> None:
    # "TP 85 % EE] 70-120": a rule and specks read after the "%"; the unit decides TP in % (Quick) against seconds
    label = "TP" if unit.startswith("%") else "CRP"
    row = raw(label, "85", unit, "70 - 120", confidence=0.9).model_copy(update={"unit": printed(unit, confidence=0.5, ocr=True)})
    r = map_result(row, FR)
    assert (r.loinc, r.unit_ucum) == (loinc, ucum) and "unit-repaired" in r.notes and r.review_status == "needs-review"


def test_lost_unit_follows_the_unit_the_report_printed_for_tests_with_the_same_choice() -> None:
    # an ALT of 23 may be U/l or µkat/l (both fit): the AST above it was printed in U/l
    def rows(*specs: tuple[str, str, str | None, str]) -> list[RawResult]:
        return [raw(label, value, unit, rng, confidence=0.9).model_copy(update={"index": i}) for i, (label, value, unit, rng) in enumerate(specs)]

    meta = ReportMeta(language="fr")
    alt = ("ALAT", "23", None, "< 35")
    out = map_results(rows(("ASAT", "30", "U/l", "< 35"), alt), meta, True)
    assert out[1].unit_ucum == "U/L" and "unit-inferred" in out[1].notes and out[1].review_status == "needs-review"
    in_ukat = map_results(rows(("ASAT", "0,50", "µkat/l", "< 0,58"), ("ALAT", "0,38", None, "< 0,58")), meta, True)
    assert in_ukat[1].unit_ucum == "ukat/L"
    assert map_results(rows(alt), meta, True)[0].unit_ucum is None  # nothing printed: no guess
    # both printed by tests with the same choice: still no guess
    assert map_results(rows(("ASAT", "30", "U/l", "< 35"), ("GGT", "0,5", "µkat/l", "< 0,6"), alt), meta, True)[2].unit_ucum is None
    # a sodium printed in mmol/l does not tell a haemoglobin's unit (g/dl or mmol/l): its test had no such choice
    assert map_results(rows(("Sodium", "140", "mmol/l", "135 - 145"), ("Hémoglobine", "9,1", None, "8,1 - 10,9")), meta, True)[1].unit_ucum is None


# ------------------------------------------------------------------ labels named by their row (OCR)


def _ocr_row(label: str, value: str, unit: str | None, rng: str | None) -> RawResult:
    return RawResult(
        index=0, label=printed(label, confidence=0.6, ocr=True), value=printed(value, confidence=0.9, ocr=True),
        unit=printed(unit, confidence=0.9, ocr=True) if unit else None, range=printed(rng, confidence=0.9, ocr=True) if rng else None,
    )


@pytest.mark.parametrize(
    ("label", "value", "unit", "rng", "ctx", "loinc"),
    [
        ("Chlond", "101", "mmol/l", "98 - 107", DE, "2075-0"),  # "Chlorid": ri read as n
        ("Kreythrozylen", "4,52", "/pl", "3,90 - 5,20", DE, "789-8"),  # "Erythrozyten" with a speck before it
        ("Thromboryies / Thromba", "304", "G/l", "150 - 400", FR, "777-3"),  # thrombocytes, not the plateletcrit
        # short labels: an exact match once confusable glyphs are folded, never fuzzy
        ("el", "101", "mmol/l", "98 - 107", DE, "2075-0"),  # "Cl"
        ("ct-", "101", "mmol/l", "98 - 107", FR, "2075-0"),  # "Cl-"
        ("v-GT", "54", "U/l", "< 60", DE, "2324-2"),  # "γ-GT"
    ],
)
def test_misread_ocr_label_is_named_by_its_unit_and_numbers_and_goes_to_review(
    label: str, value: str, unit: str, rng: str, ctx: MappingContext, loinc: str
) -> None:
    r = map_result(_ocr_row(label, value, unit, rng), ctx)
    assert r.loinc == loinc and "label-by-evidence" in r.notes
    assert r.review_status == "needs-review" and r.confidence_fields["code"] <= 0.6
    assert map_result(raw(label, value, unit, rng), ctx).loinc is None  # a text layer's unknown label stays unknown


@pytest.mark.parametrize(
    ("label", "value", "unit", "rng"),
    [
        ("Meaty cell volume", "90", "fL", "80 - 100"),  # looks like "packed cell volume", but fL is no haematocrit unit
        ("Thromboryies", "0,25", "%", "0,15 - 0,35"),  # the plateletcrit? the thrombocytes? % and 0,25 fit only one
        ("Chlond", "1010", "mmol/l", "98 - 107"),  # a chloride of 1010 mmol/l is no chloride: no evidence
        ("el", "4,2", "mmol/l", "3,5 - 5,1"),  # "Cl" by its glyphs, but 4,2 mmol/l is no chloride
    ],
)
def test_misread_label_is_left_unmapped_when_its_row_does_not_decide(label: str, value: str, unit: str | None, rng: str | None) -> None:
    r = map_result(_ocr_row(label, value, unit, rng), EN)
    if label == "Thromboryies" and unit == "%":
        assert r.loinc is not None and r.loinc != "777-3"  # the one that fits: plateletcrit, for review
    else:
        assert r.loinc is None and "label-by-evidence" not in r.notes


@pytest.mark.parametrize(
    ("label", "unit", "value", "rng", "loinc"),
    [
        ("CPK/CK", "U/L", "150", "< 190", "2157-6"),  # "CPK / CK" with both spaces lost by OCR
        ("Cl-/Cl", "mmol/l", "105", "98 - 107", "2075-0"),
    ],
)
def test_bilingual_label_without_spaces_around_its_slash_names_the_test_both_halves_name(
    label: str, unit: str, value: str, rng: str, loinc: str
) -> None:
    assert map_result(_ocr_row(label, value, unit, rng), FR).loinc == loinc
    assert map_result(_ocr_row("Na/K", "30", None, None), FR).loinc is None  # halves naming two tests: no guess


def test_second_mapping_pass_starts_from_the_rows_as_read() -> None:
    # "ALAT 8l" (81, its 1 read as a glued low flag) with its unit lost: the first pass takes
    # the l back as a digit; the pass that infers the unit from the AST printed in U/l must
    # do the same, not start from a row whose flag the first pass already dropped
    def row(i: int, label: str, value: str, unit: str | None, rng: str, flag: str | None = None) -> RawResult:
        r = raw(label, value, unit, rng, confidence=0.9).model_copy(update={"index": i})
        if flag is not None:
            glued = r.value.model_copy(update={"text": flag, "bbox": r.value.bbox.model_copy(update={"x0": r.value.bbox.x1})})
            r = r.model_copy(update={"flag": glued})
        return r

    out = map_results([row(0, "ASAT", "30", "U/l", "< 35"), row(1, "ALAT", "8", None, "< 35", flag="l")], ReportMeta(language="fr"), True)
    assert (out[1].value, out[1].unit_ucum) == (81.0, "U/L") and "unit-inferred" in out[1].notes
