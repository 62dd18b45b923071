"""Result rows from drawn reports: table shapes, column roles and orders, flags, values,
cumulative reports, sections, noise (one test per rule)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from pdfkit import COLS, PATIENT_FR, ReportBuilder, simple_report
from extractors.values import parse_number
from models import ParsedReport, RawResult

Parsed = Callable[..., ParsedReport]


def row(report: ParsedReport, label: str) -> RawResult:
    hits = [r for r in report.rows if r.label.text == label]
    assert len(hits) == 1, f"{label!r} found {len(hits)} times in {[r.label.text for r in report.rows]}"
    return hits[0]


def fields(r: RawResult) -> tuple[str, str | None, str | None, str | None]:
    return (r.value.text, r.unit.text if r.unit else None, r.range.text if r.range else None, r.flag.text if r.flag else None)


ROWS_FR = [
    ("Hémoglobine", "13,2", "g/dl", "12,0 - 16,0"),
    ("Leucocytes", "6,8", "G/l", "4,0 - 10,0"),
    ("Plaquettes", "245", "G/l", "150 - 400"),
    ("Créatinine", "0,78", "mg/dl", "0,50 - 0,90"),
]


# ------------------------------------------------------------------ table shapes


@pytest.mark.parametrize("ruled", [True, False])
def test_ruled_and_unruled_tables_read_alike(parsed: Parsed, ruled: bool) -> None:
    rep = parsed(simple_report(ROWS_FR, ruled=ruled))
    assert [(r.label.text, *fields(r)) for r in rep.rows] == [(*x, None) for x in ROWS_FR]


def test_rows_are_indexed_in_reading_order(parsed: Parsed) -> None:
    rep = parsed(simple_report(ROWS_FR))
    assert [r.index for r in rep.rows] == list(range(len(ROWS_FR)))
    tops = [r.value.bbox.top for r in rep.rows]
    assert tops == sorted(tops)


def test_provenance_boxes_cover_the_printed_value(parsed: Parsed) -> None:
    rep = parsed(simple_report(ROWS_FR))
    r = row(rep, "Plaquettes")
    assert r.value.page == 1
    assert COLS[1] - 1 <= r.value.bbox.x0 <= COLS[1] + 1  # drawn at x = 230
    assert r.label.bbox.x0 == pytest.approx(COLS[0], abs=1)


@pytest.mark.parametrize(
    ("head", "language_rows"),
    [
        (("Analyse", "Résultat", "Unité", "Valeurs de référence"), [("Glucose", "5,4", "mmol/l", "3,9 - 5,8")]),
        (("Untersuchung", "Ergebnis", "Einheit", "Referenzbereich"), [("Glukose", "5,4", "mmol/l", "3,9 - 5,8")]),
        (("Test", "Result", "Units", "Reference range"), [("Glucose", "5.4", "mmol/L", "3.9 - 5.8")]),
        (("Analyse / Untersuchung", "Résultat / Befund", "Unité / Einheit", "Valeurs de référence / Referenzbereich"), [("Glucose / Glukose", "5,4", "mmol/l", "3,9 - 5,8")]),
    ],
    ids=["fr", "de", "en", "bilingual"],
)
def test_header_roles_in_each_language(parsed: Parsed, head: Sequence[str], language_rows: list[tuple[str, ...]]) -> None:
    # a value column far to the right of the label: the header decides, not token shapes
    xs = (40.0, 200.0, 300.0, 390.0)
    rep = parsed(simple_report(language_rows + [("Index de risque", "0,7", None, None)], head=head, xs=xs))
    label, *rest = language_rows[0]
    assert fields(row(rep, label)) == (*rest, None)
    # a row with neither unit nor range is only accepted under a recognised header
    assert row(rep, "Index de risque").value.text == "0,7"


def test_unknown_unitless_row_without_header_is_not_a_result(parsed: Parsed) -> None:
    rep = parsed(simple_report([("Glucose", "5,4", "mmol/l", "3,9 - 5,8"), ("Index de risque", "0,7", None, None)], head=()))
    assert [r.label.text for r in rep.rows] == ["Glucose"]


# ------------------------------------------------------------------ column orders and unit placement


def test_range_column_before_unit_column(parsed: Parsed) -> None:
    head = ("Analyse", "Résultat", "Valeurs de référence", "Unité")
    rep = parsed(simple_report([("Potassium", "4,1", "3,5 - 5,1", "mmol/l"), ("Sodium", "141", "136 - 145", "mmol/l")], head=head, xs=(40, 230, 300, 420)))
    assert fields(row(rep, "Potassium")) == ("4,1", "mmol/l", "3,5 - 5,1", None)
    assert fields(row(rep, "Sodium")) == ("141", "mmol/l", "136 - 145", None)


def test_flag_column_between_value_and_unit(parsed: Parsed) -> None:
    head = ("Analyse", "Résultat", "", "Unité", "Valeurs de référence")
    xs = (40, 230, 290, 330, 420)
    rep = parsed(simple_report([("Potassium", "5,9", "H", "mmol/l", "3,5 - 5,1"), ("Sodium", "141", None, "mmol/l", "136 - 145")], head=head, xs=xs))
    assert fields(row(rep, "Potassium")) == ("5,9", "mmol/l", "3,5 - 5,1", "H")
    assert fields(row(rep, "Sodium")) == ("141", "mmol/l", "136 - 145", None)


def test_flag_column_with_header(parsed: Parsed) -> None:
    head = ("Test", "Result", "Flag", "Units", "Reference range")
    xs = (40, 230, 290, 330, 420)
    rep = parsed(simple_report([("Potassium", "2.9", "L", "mmol/L", "3.5 - 5.1")], head=head, xs=xs))
    assert fields(row(rep, "Potassium")) == ("2.9", "mmol/L", "3.5 - 5.1", "L")


def test_unit_glued_to_value_in_the_value_column(parsed: Parsed) -> None:
    head = ("Analyse", "Résultat", "Valeurs de référence")
    rep = parsed(simple_report([("Hémoglobine", "13,2 g/dl", "12,0 - 16,0"), ("Ferritine", "85 µg/l", "15 - 150")], head=head, xs=(40, 230, 360)))
    assert fields(row(rep, "Hémoglobine")) == ("13,2", "g/dl", "12,0 - 16,0", None)
    assert fields(row(rep, "Ferritine")) == ("85", "µg/l", "15 - 150", None)


def test_unit_inside_the_range_column(parsed: Parsed) -> None:
    head = ("Analyse", "Résultat", "Valeurs de référence")
    rep = parsed(simple_report([("Hémoglobine", "13,2", "12-16 g/dl"), ("Ferritine", "85", "15 - 150 µg/l")], head=head, xs=(40, 230, 360)))
    assert fields(row(rep, "Hémoglobine")) == ("13,2", "g/dl", "12-16", None)
    assert fields(row(rep, "Ferritine")) == ("85", "µg/l", "15 - 150", None)


def test_unit_after_the_range_wins_over_a_misread_flag_after_the_value(parsed: Parsed) -> None:
    # headerless flag and unit columns; OCR read the flags "L" and "H" as "ı" and "t" and
    # one range's first digits wrongly (rows from a scanned Swiss report)
    head = ("Parameter", "Befund", "Referenzbereich")
    rows = [("MCH", "26.6 ı", "(27.0-33.0) pg"), ("Lymphozyten", "51.6 t", "(209.0-45.0) %"), ("Natrium", "141", "(135-145) mmol/l")]
    rep = parsed(simple_report(rows, head=head, xs=(40, 230, 300)))
    assert fields(row(rep, "MCH"))[1:3] == ("pg", "(27.0-33.0)")
    assert fields(row(rep, "Lymphozyten"))[1:3] == ("%", "(209.0-45.0)")
    assert fields(row(rep, "Natrium")) == ("141", "mmol/l", "(135-145)", None)


def test_range_glued_to_its_unit_stays_one_range(parsed: Parsed) -> None:
    # "75,0%" ends the range; it is not a unit that starts with a number (the mapper splits it)
    head = ("Parameter", "Befund", "Referenzbereich")
    rep = parsed(simple_report([("Neutrophile", "59,4", "40,0 - 75,0%"), ("Natrium", "141", "135 - 145 mmol/l")], head=head, xs=(40, 230, 300)))
    assert fields(row(rep, "Neutrophile")) == ("59,4", None, "40,0 - 75,0%", None)
    assert fields(row(rep, "Natrium")) == ("141", "mmol/l", "135 - 145", None)


@pytest.mark.parametrize("head", [("Parameter", "Befund", "Referenzbereich"), ()], ids=["columns", "headerless"])
def test_unit_glued_to_the_range_is_split_off(parsed: Parsed, head: tuple[str, ...]) -> None:
    # "<0,50.ng/ml": OCR joined range and unit across a speck; some printers glue them
    rows = [("PCT", "<0,02", "<0,50.ng/ml"), ("Kalium", "4,2", "3,5-5,1mmol/l"), ("Natrium", "141", "135 - 145 mmol/l")]
    rep = parsed(simple_report(rows, head=head, xs=(40, 230, 300)))
    assert fields(row(rep, "PCT")) == ("<0,02", "ng/ml", "<0,50", None)
    assert fields(row(rep, "Kalium")) == ("4,2", "mmol/l", "3,5-5,1", None)
    assert fields(row(rep, "Natrium")) == ("141", "mmol/l", "135 - 145", None)


def test_bilingual_result_title_names_one_column(parsed: Parsed) -> None:
    # "Résultat / Resultat" read as two result titles: the values, printed under the second
    # half, must not fall into the range (positions from a scanned bilingual report)
    xs = (40, 190, 240, 300, 385, 470, 505)
    head = ("Paramètre / Parameter", "Résultat", "/ Resultat", "Valeurs usuelles", "/ Normbereich", "Unités", "/ Einheit")
    rows = [
        ("TCMH / MCH", None, "29,2", "27,0 à 33,0", None, "pg", None),
        ("C.C.M.H. / MCHC", None, "33,9", "32,0 à 36,0", None, "g/dL", None),
        ("Créatininémie / Kreatinin", None, "78", "H: 62 à 106 / F: 44 à 80", None, "µmol/l", None),
    ]
    rep = parsed(simple_report(rows, head=head, xs=xs))
    assert fields(row(rep, "TCMH / MCH")) == ("29,2", "pg", "27,0 à 33,0", None)
    assert fields(row(rep, "C.C.M.H. / MCHC")) == ("33,9", "g/dL", "32,0 à 36,0", None)
    assert fields(row(rep, "Créatininémie / Kreatinin")) == ("78", "µmol/l", "H: 62 à 106 / F: 44 à 80", None)


def test_header_titles_that_each_name_a_column_are_not_joined_into_one(save: Callable[..., Path]) -> None:
    # a fax's header: the flag title misread ("Alerta/Kennz,") sits close between the
    # result and range titles; joined, the three made one range column, every value fell
    # into the range and the rows were left to the token reading (which OCR noise defeats)
    from conftest import extract
    from extractors.parse import document_lines
    from extractors.results import detect_header
    from pdfkit import text_width

    head = ("Analyse / Parameter", "Résultat /Ergebnis", "Alerta/Kennz,", "Valeurs usuelles / Normbereich", "Unité / Einheit")
    x_flag = 200 + text_width(head[1], "Helvetica-Bold", 9.5) + 11  # gaps as OCR boxed them: 11 and 15 pt
    x_range = x_flag + text_width(head[2], "Helvetica-Bold", 9.5) + 15
    xs = (39, 200, x_flag, x_range, x_range + text_width(head[3], "Helvetica-Bold", 9.5) + 20)
    lines, _ = document_lines(extract(save(simple_report([("CCMH / MCHC", "331", None, "320-360", "g/l")], head=head, xs=xs))))
    cols = detect_header(next(ln for ln in lines if ln.words[0].text == "Analyse"), None)
    assert cols is not None
    value = next(c for c in cols.cols if c.role == "value")
    assert value.x0 == pytest.approx(200, abs=1) and value.x1 < x_flag
    assert next(c for c in cols.cols if c.role == "unit").x0 > x_range


def test_header_words_spaced_wide_still_make_one_title(parsed: Parsed) -> None:
    # "Valeurs" (a result title alone) "de" "référence": one range title, as printed
    xs = (40, 230, 300, 342, 356, 450)
    head = ("Analyse", "Résultat", "Valeurs", "de", "référence", "Unité")
    rep = parsed(simple_report([("Glucose", "5,4", None, None, "3,9 - 5,8", "mmol/l")], head=head, xs=xs))
    assert fields(row(rep, "Glucose")) == ("5,4", "mmol/l", "3,9 - 5,8", None)


def test_unit_split_at_its_exponent_is_joined_again(parsed: Parsed) -> None:
    # OCR split "10^3/µl" into "10°" (read into the range zone) and "3/µl" (unit zone)
    from reportlab.pdfbase.pdfmetrics import stringWidth

    head = ("Parameter", "Befund", "Norm", "Einheit")
    x_unit = 300 + stringWidth("(150-400) 10°", "Helvetica", 9.5) + 4.5
    rows = [("Thrombozyten", "323", "(150-400) 10°", "3/µl"), ("Natrium", "141", "(135-145)", "mmol/l")]
    rep = parsed(simple_report(rows, head=head, xs=(40, 230, 300, x_unit)))
    assert fields(row(rep, "Thrombozyten")) == ("323", "10° 3/µl", "(150-400)", None)
    assert fields(row(rep, "Natrium")) == ("141", "mmol/l", "(135-145)", None)


@pytest.mark.parametrize(
    ("label", "value", "unit", "rng"),
    [
        ("DFG (CKD-EPI)", "58", "mL/min/1,73 m²", "> 60"),
        ("Vitesse de sédimentation", "12", "mm/1re h", "< 20"),
        ("D-Dimères", "320", "ng/ml FEU", "< 500"),
    ],
)
def test_units_printed_with_a_space(parsed: Parsed, label: str, value: str, unit: str, rng: str) -> None:
    rep = parsed(simple_report([(label, value, unit, rng), ("Sodium", "141", "mmol/l", "136 - 145")], font="DejaVuSans"))
    assert fields(row(rep, label)) == (value, unit, rng, None)


def test_unit_with_a_space_and_a_high_flag_after_it(parsed: Parsed) -> None:
    # "h" ends the unit, "H" after a gutter is the flag
    head = ("Analyse", "Résultat", "Unité", "Valeurs de référence", "")
    rep = parsed(simple_report([("Vitesse de sédimentation", "38", "mm/1re h", "< 20", "H")], head=head, xs=(40, 230, 300, 400, 500)))
    assert fields(row(rep, "Vitesse de sédimentation")) == ("38", "mm/1re h", "< 20", "H")


# ------------------------------------------------------------------ flags and values


@pytest.mark.parametrize("flag", ["H", "L", "HH", "LL", "*", "+", "-", "↑", "↓", "(H)"])
def test_flag_in_its_own_column(parsed: Parsed, flag: str) -> None:
    head = ("Analyse", "Résultat", "Unité", "Valeurs de référence", "")
    rep = parsed(simple_report(
        [("Potassium", "5,9", "mmol/l", "3,5 - 5,1", flag), ("Sodium", "141", "mmol/l", "136 - 145", None)],
        head=head, xs=(40, 230, 300, 400, 500), font="DejaVuSans",
    ))
    assert fields(row(rep, "Potassium")) == ("5,9", "mmol/l", "3,5 - 5,1", flag)
    assert row(rep, "Sodium").flag is None


@pytest.mark.parametrize("flag", ["H", "*", "↑"])
def test_flag_printed_right_after_the_value(parsed: Parsed, flag: str) -> None:
    rep = parsed(simple_report([("Potassium", f"5,9 {flag}", "mmol/l", "3,5 - 5,1")], font="DejaVuSans"))
    assert fields(row(rep, "Potassium")) == ("5,9", "mmol/l", "3,5 - 5,1", flag)


@pytest.mark.parametrize(("printed", "value", "flag"), [("5,9*", "5,9", "*"), ("5,9H", "5,9", "H"), ("5,9(H)", "5,9", "(H)"), ("*5,9", "5,9", "*")])
def test_flag_glued_to_the_value(parsed: Parsed, printed: str, value: str, flag: str) -> None:
    rep = parsed(simple_report([("Potassium", printed, "mmol/l", "3,5 - 5,1")]))
    assert fields(row(rep, "Potassium")) == (value, "mmol/l", "3,5 - 5,1", flag)


def test_bold_value_without_flag_is_kept_bold(parsed: Parsed) -> None:
    rep = parsed(simple_report([("Potassium", ("5,9", "Helvetica-Bold"), "mmol/l", "3,5 - 5,1"), ("Sodium", "141", "mmol/l", "136 - 145")]))
    assert row(rep, "Potassium").value.bold is True
    assert row(rep, "Potassium").flag is None
    assert row(rep, "Sodium").value.bold is False


@pytest.mark.parametrize(("printed", "flag", "value"), [("- 39,3", "-", "39,3"), ("+ 103,0", "+", "103,0"), ("H 13,2", "H", "13,2")])
def test_flag_printed_before_the_value(parsed: Parsed, printed: str, flag: str, value: str) -> None:
    rep = parsed(simple_report([("Hématocrite", printed, "%", "36 - 46")]))
    assert fields(row(rep, "Hématocrite")) == (value, "%", "36 - 46", flag)


@pytest.mark.parametrize(("printed", "comparator"), [("< 0,5", "<"), ("> 90", ">"), ("<0,5", "<")])
def test_comparator_in_a_separate_word(parsed: Parsed, printed: str, comparator: str) -> None:
    rep = parsed(simple_report([("CRP", printed, "mg/l", "< 5,0")]))
    r = row(rep, "CRP")
    assert r.value.text.replace(" ", "") == printed.replace(" ", "")
    n = parse_number(r.value.text, True)
    assert n is not None and n.comparator == comparator
    assert r.unit is not None and r.unit.text == "mg/l"


def test_thousands_separated_by_a_space(parsed: Parsed) -> None:
    rep = parsed(simple_report([("Plaquettes", "1 250", "G/l", "150 - 400"), ("Leucocytes", "12 500", "/µl", "4 000 - 10 000")]))
    assert fields(row(rep, "Plaquettes")) == ("1 250", "G/l", "150 - 400", None)
    assert fields(row(rep, "Leucocytes")) == ("12 500", "/µl", "4 000 - 10 000", None)


def test_headerless_rows_read_by_shape(parsed: Parsed) -> None:
    rows = [("Hémoglobine", "13,2", "g/dl", "12,0 - 16,0"), ("Potassium", "5,9 H", "mmol/l", "3,5 - 5,1"), ("CRP", "< 0,5", "mg/l", "< 5,0")]
    rep = parsed(simple_report(rows, head=()))
    assert [(r.label.text, *fields(r)) for r in rep.rows] == [
        ("Hémoglobine", "13,2", "g/dl", "12,0 - 16,0", None),
        ("Potassium", "5,9", "mmol/l", "3,5 - 5,1", "H"),
        ("CRP", "< 0,5", "mg/l", "< 5,0", None),
    ]


def test_headerless_thousands_separated_by_a_space(parsed: Parsed) -> None:
    rep = parsed(simple_report([("Plaquettes", "1 250", "G/l", "150 - 400"), ("Sodium", "141", "mmol/l", "136 - 145")], head=()))
    assert fields(row(rep, "Plaquettes")) == ("1 250", "G/l", "150 - 400", None)


def test_headerless_flag_printed_before_the_value(parsed: Parsed) -> None:
    rep = parsed(simple_report([("Hématocrite", "- 39,3", "%", "40 - 52"), ("Sodium", "141", "mmol/l", "136 - 145")], head=()))
    assert fields(row(rep, "Hématocrite")) == ("39,3", "%", "40 - 52", "-")


def test_qualitative_values(parsed: Parsed) -> None:
    rep = parsed(simple_report([("Nitrites", "négatif", None, "négatif"), ("Glucose", "traces", None, "négatif")]))
    assert row(rep, "Nitrites").value.text == "négatif"
    assert row(rep, "Glucose").value.text == "traces"


def test_dash_between_title_words_is_not_a_negative_result(parsed: Parsed) -> None:
    rows = [("PROTÉINES", "-", "INFLAMMATION", None), ("CRP", "5,2", "mg/l", "< 5"), ("Protéines", "-", None, None)]
    rep = parsed(simple_report(rows, head=()))
    labels = [r.label.text for r in rep.rows]
    assert "PROTÉINES" not in labels and "CRP" in labels
    assert row(rep, "Protéines").value.text == "-"  # a strip field printed as "-" is still read


# ------------------------------------------------------------------ cumulative reports


def test_cumulative_current_column_first(parsed: Parsed) -> None:
    head = ("Analyse", "12/03/2024", "05/01/2024", "Unité", "Valeurs de référence")
    xs = (40, 220, 290, 360, 430)
    rep = parsed(simple_report([("Hémoglobine", "13,2", "11,8", "g/dl", "12,0 - 16,0"), ("Plaquettes", "245", "310", "G/l", "150 - 400")], head=head, xs=xs))
    assert fields(row(rep, "Hémoglobine")) == ("13,2", "g/dl", "12,0 - 16,0", None)
    assert fields(row(rep, "Plaquettes")) == ("245", "G/l", "150 - 400", None)


def test_cumulative_current_column_last_found_by_collection_date(parsed: Parsed) -> None:
    # the header says "Résultats"; a dates row under it names the columns, oldest first;
    # this report's collection date (12/03/2024, in the patient block) is the last one
    rows = [
        (None, "05/01/2024", "12/03/2024", None, None),
        ("Hémoglobine", "11,8", "13,2", "g/dl", "12,0 - 16,0"),
        ("Plaquettes", "310", "245", "G/l", "150 - 400"),
    ]
    head = ("Analyse", "Résultats", None, "Unité", "Valeurs de référence")
    rep = parsed(simple_report(rows, head=head, xs=(40, 220, 290, 360, 430)))  # type: ignore[arg-type]
    assert fields(row(rep, "Hémoglobine")) == ("13,2", "g/dl", "12,0 - 16,0", None)
    assert fields(row(rep, "Plaquettes")) == ("245", "G/l", "150 - 400", None)


def test_cumulative_current_date_misread_is_found_under_the_result_title(parsed: Parsed) -> None:
    # "Antériorités" over the earlier dates, "Résultats" over this report's; OCR read the
    # current date as "68/63/2024" (no date): the column under the result title is current
    rows = [
        (None, "05/01/2024", "11/02/2024", "20/02/2024", "68/63/2024", None, None),
        ("Hémoglobine", "11,8", "12,1", "12,6", "13,2", "g/dl", "12,0 - 16,0"),
        ("Plaquettes", "310", "290", "270", "245", "G/l", "150 - 400"),
    ]
    head = ("Analyse", "Antériorités", None, None, "Résultats", "Unité", "Valeurs de référence")
    rep = parsed(simple_report(rows, head=head, xs=(40, 180, 240, 300, 360, 420, 480)))  # type: ignore[arg-type]
    assert fields(row(rep, "Hémoglobine")) == ("13,2", "g/dl", "12,0 - 16,0", None)
    assert fields(row(rep, "Plaquettes")) == ("245", "G/l", "150 - 400", None)


def test_prior_results_column_is_ignored(parsed: Parsed) -> None:
    head = ("Analyse", "Résultat", "Unité", "Antériorités", "Valeurs de référence")
    xs = (40, 220, 290, 360, 440)
    rep = parsed(simple_report([("Hémoglobine", "13,2", "g/dl", "11,8", "12,0 - 16,0"), ("Ferritine", "85", "µg/l", "12", "15 - 150")], head=head, xs=xs))
    assert fields(row(rep, "Hémoglobine")) == ("13,2", "g/dl", "12,0 - 16,0", None)
    assert fields(row(rep, "Ferritine")) == ("85", "µg/l", "15 - 150", None)


def test_vorwerte_column_in_german(parsed: Parsed) -> None:
    head = ("Untersuchung", "Ergebnis", "Vorwert", "Einheit", "Referenzbereich")
    xs = (40, 220, 290, 360, 440)
    rep = parsed(simple_report([("Kalium", "4,1", "5,2", "mmol/l", "3,5 - 5,1")], head=head, xs=xs))
    assert fields(row(rep, "Kalium")) == ("4,1", "mmol/l", "3,5 - 5,1", None)


# ------------------------------------------------------------------ sections, comments, noise


def test_comment_lines_between_rows_are_not_results(parsed: Parsed) -> None:
    b = simple_report([("Hémoglobine", "13,2", "g/dl", "12,0 - 16,0")])
    b.text("Contrôle conseillé dans 3 semaines sur un nouveau prélèvement.")
    b.text("Résultat vérifié : 2 dosages concordants.", x=60)
    b.cells(COLS, ["Ferritine", "85", "µg/l", "15 - 150"])
    b.text("Commentaire : hémolyse 1+ sur l'échantillon, interpréter avec prudence.")
    rep = parsed(b)
    assert [r.label.text for r in rep.rows] == ["Hémoglobine", "Ferritine"]


def test_section_headers_set_the_section(parsed: Parsed) -> None:
    b = simple_report([])
    b.text("HÉMATOLOGIE", font="Helvetica-Bold")
    b.cells(COLS, ["Hémoglobine", "13,2", "g/dl", "12,0 - 16,0"])
    b.text("Klinische Chemie", font="Helvetica-Bold")
    b.cells(COLS, ["Kreatinin", "0,78", "mg/dl", "0,50 - 0,90"])
    b.text("Urinstatus (Teststreifen)", font="Helvetica-Bold")
    b.cells(COLS, ["Nitrit", "negativ", None, "negativ"])
    b.cells(COLS, ["pH", "6,0", None, "5,0 - 8,0"])
    rep = parsed(b)
    assert row(rep, "Hémoglobine").section == "HÉMATOLOGIE"
    assert row(rep, "Kreatinin").section == "Klinische Chemie"
    assert row(rep, "Nitrit").section == "Urinstatus (Teststreifen)"
    assert row(rep, "pH").section == "Urinstatus (Teststreifen)"


def test_rows_before_any_section_have_none(parsed: Parsed) -> None:
    rep = parsed(simple_report(ROWS_FR[:1]))
    assert rep.rows[0].section is None


def test_table_continues_on_next_page_without_its_header(parsed: Parsed) -> None:
    head = ("Analyse", "Résultat", "", "Unité", "Valeurs de référence")
    xs = (40, 230, 290, 330, 420)
    b = simple_report([("Hémoglobine", "13,2", None, "g/dl", "12,0 - 16,0")], head=head, xs=xs)
    b.new_page()
    b.skip(10)  # page 2 starts mid-page: nothing in the header band repeats
    b.cells(xs, ["Potassium", "5,9", "H", "mmol/l", "3,5 - 5,1"])
    b.cells(xs, ["Index de risque", "0,7", None, None, None])  # only a column table accepts this row
    rep = parsed(b)
    assert fields(row(rep, "Potassium")) == ("5,9", "mmol/l", "3,5 - 5,1", "H")
    assert row(rep, "Potassium").value.page == 2
    assert row(rep, "Index de risque").value.text == "0,7"


def _table_at_the_top_of_every_page(rows: Callable[[int], list[list[str]]]) -> ReportBuilder:
    b = ReportBuilder(header=["Laboratoire Central d'Analyses"], footer=["Page {page} / {pages}"])
    for p in range(3):
        if p:
            b.new_page()
        b.cells(COLS, ["Analyse", "Résultat", "Unité", "Valeurs de référence"])
        for r in rows(p):
            b.cells(COLS, r)
    return b


def test_decimal_rows_near_the_top_of_every_page_survive(parsed: Parsed) -> None:
    # the same analyte at the same height on each page (serial profile, paginated
    # cumulative table) is content, not a repeated page header
    rep = parsed(_table_at_the_top_of_every_page(lambda p: [["Potassium", f"4,{p}", "mmol/l", "3,5 - 5,1"]]))
    assert [r.value.text for r in rep.rows] == ["4,0", "4,1", "4,2"]


def test_integer_rows_near_the_top_of_every_page_survive(parsed: Parsed) -> None:
    rep = parsed(_table_at_the_top_of_every_page(lambda p: [["Sodium", f"14{p}", "mmol/l", "136 - 145"]]))
    assert [r.value.text for r in rep.rows] == ["140", "141", "142"]


@pytest.mark.parametrize(("label", "kept"), [("K", True), ("X", False)])
def test_one_letter_labels_only_when_known(parsed: Parsed, label: str, kept: bool) -> None:
    rep = parsed(simple_report([(label, "4,1", "mmol/l", "3,5 - 5,1"), ("Sodium", "141", "mmol/l", "136 - 145")]))
    assert (label in [r.label.text for r in rep.rows]) is kept
    assert "Sodium" in [r.label.text for r in rep.rows]


def test_footer_address_and_phone_lines_are_not_results(parsed: Parsed) -> None:
    b = ReportBuilder(footer=[
        "Laboratoire Central - 12, rue de la Gare - L-1611 Luxembourg",
        "Tél. 26 12 34 56   Fax 26 12 34 57   Page {page} / {pages}",
    ])
    b.text("Laboratoire Central d'Analyses", font="Helvetica-Bold", size=13)
    b.text("Route d'Arlon 110 - L-8008 Strassen      Tél. : 45 23 11 - 1")
    for line in PATIENT_FR:
        b.text(line)
    b.skip()
    b.cells(COLS, ["Analyse", "Résultat", "Unité", "Valeurs de référence"], font="Helvetica-Bold")
    b.cells(COLS, ["Hémoglobine", "13,2", "g/dl", "12,0 - 16,0"])
    b.text("Validé par Dr. B. Weber, biologiste, le 12/03/2024 à 14:02")
    b.text("Agrément n° 12/345 du 03/05/2019")
    rep = parsed(b)
    assert [r.label.text for r in rep.rows] == ["Hémoglobine"]


def test_patient_block_is_not_read_as_results(parsed: Parsed) -> None:
    rep = parsed(simple_report(ROWS_FR[:2]))
    labels = " ".join(r.label.text for r in rep.rows)
    for key in ("Patient", "Né", "Sexe", "Prélèvement"):
        assert key not in labels


def test_language_and_decimal_convention_recorded(parsed: Parsed) -> None:
    rep = parsed(simple_report(ROWS_FR))
    assert rep.decimal_comma is True
    assert {r.language for r in rep.rows} == {"fr"}


def test_header_cells_that_each_name_a_column_are_not_merged() -> None:
    from extractors.results import _merge_header_phrases
    from models import BBox, Word

    def cell(text: str, x0: float) -> tuple[Word, ...]:
        out, x = [], x0
        for t in text.split():
            out.append(Word(text=t, bbox=BBox(x0=x, top=100, x1=x + 6 * len(t), bottom=112), page=1))
            x += 6 * len(t) + 4
        return tuple(out)

    bilingual = [cell("Résultats / Ergebnis", 263), cell("Unités / Einheit", 346), cell("Valeurs usuelles / Referenzwerte", 406)]
    assert len(_merge_header_phrases(bilingual, 12.0)) == 3
    spaced = [cell("Valeurs", 300), cell("de", 360), cell("référence", 390)]  # OCR spaced one header wide
    assert [len(c) for c in _merge_header_phrases(spaced, 12.0)] == [3]


@pytest.mark.parametrize(("text", "role"), [("Normberelch", "range"), ("Ergebnls", "value"), ("Referenzberelch", "range"), ("Einhelt", "unit"),
                                           ("Hämatologie", None), ("Leukozyten", None), ("Einhe", None), ("Kalium", None)])
def test_header_word_with_one_misread_letter_keeps_its_role(text: str, role: str | None) -> None:
    from extractors.results import _header_role

    assert _header_role(text) == role


def test_units_under_a_column_title_that_was_not_read_are_units() -> None:
    """A header whose unit title OCR garbled beyond any misread-letter match leaves a
    column with no role; in a table with no unit column its units are still units."""
    from extractors.results import Column, Columns, _fields_by_columns
    from models import BBox, Line, Word

    def line(texts: list[tuple[str, float]]) -> Line:
        ws = tuple(Word(text=t, bbox=BBox(x0=x, top=200, x1=x + 5 * len(t), bottom=209), page=1, font_size=9.0) for t, x in texts)
        return Line(page=1, words=ws, bbox=BBox.enclosing([w.bbox for w in ws]))

    row = line([("Leuko", 46.0), ("11.600", 250.0), ("/ul", 302.0), ("4.000", 390.0), ("bis", 417.0), ("10.000", 433.0)])
    unread = Columns([Column("label", 40, 100), Column("value", 254, 290), Column("unknown", 302, 340), Column("range", 390, 450)], page=1)
    assert [w.text for w in _fields_by_columns(row, unread).unit] == ["/ul"]
    titled = Columns([Column("label", 40, 100), Column("value", 254, 290), Column("unit", 340, 370), Column("unknown", 302, 330),
                      Column("range", 390, 450)], page=1)
    assert _fields_by_columns(row, titled).unit == []  # the table has its unit column: an untitled one holds something else
