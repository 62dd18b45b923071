"""Report metadata from drawn patient blocks: names, birth dates, sex, national id, dates,
prescriber, laboratory (one test per rule)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from pdfkit import COLS, ReportBuilder
from models import BBox, ParsedReport, ReportMeta, Word, WordSource
from models import Line as TextLine

Parsed = Callable[..., ParsedReport]
Line = str | Sequence[tuple[float, str]]  # a plain line, or cells at x positions


def report(block: Sequence[Line], *, lab: str = "Laboratoire Central d'Analyses", rows: Sequence[Sequence[str]] = ()) -> ReportBuilder:
    b = ReportBuilder()
    b.text(lab, font="Helvetica-Bold", size=13).skip(0.5)
    for line in block:
        if isinstance(line, str):
            b.text(line)
        else:
            b.cells([x for x, _ in line], [t for _, t in line])
    b.skip()
    b.cells(COLS, ["Analyse", "Résultat", "Unité", "Valeurs de référence"], font="Helvetica-Bold")
    for r in rows or [("Hémoglobine", "13,2", "g/dl", "12,0 - 16,0"), ("Sodium", "141", "mmol/l", "136 - 145")]:
        b.cells(COLS, list(r))
    return b


def meta(parsed: Parsed, block: Sequence[Line], **kw: object) -> ReportMeta:
    return parsed(report(block, **kw)).meta  # type: ignore[arg-type]


def name(m: ReportMeta) -> tuple[str | None, str | None]:
    p = m.patient
    return (p.family.text if p.family else None, p.given.text if p.given else None)


BIRTH = "Né(e) le : 14/03/1962"

# ------------------------------------------------------------------ names


@pytest.mark.parametrize(
    ("block", "family", "given"),
    [
        (["Nom : SCHMIT", "Prénom : Anne", BIRTH], "SCHMIT", "Anne"),
        (["Patient : SCHMIT Anne", BIRTH], "SCHMIT", "Anne"),
        (["Patient : Schmit, Anne", BIRTH], "Schmit", "Anne"),
        (["Name: Schmit   Vorname: Anne", "Geburtsdatum: 14.03.1962"], "Schmit", "Anne"),
        (["Patient name: Anne SCHMIT", "Date of birth: 1962-03-14"], "SCHMIT", "Anne"),
    ],
    ids=["nom-prenom", "upper-family-first", "comma", "de-name-vorname", "en-given-first-upper"],
)
def test_labelled_names(parsed: Parsed, block: list[str], family: str, given: str) -> None:
    assert name(meta(parsed, block)) == (family, given)


@pytest.mark.parametrize(
    ("line", "family", "given"),
    [
        ("SCHMIT Anne", "SCHMIT", "Anne"),
        ("Schmit, Anne", "Schmit", "Anne"),
        ("Julie Martins", "Martins", "Julie"),  # no case cue: the given-name list decides
        ("Martins Julie", "Martins", "Julie"),
        ('"SCHMITZ Noah', "SCHMITZ", "Noah"),  # OCR put a quote mark at the name's edge
    ],
)
def test_unlabelled_names_above_the_patient_fields(parsed: Parsed, line: str, family: str, given: str) -> None:
    m = meta(parsed, [line, BIRTH, "Sexe : F"])
    assert name(m) == (family, given)


@pytest.mark.parametrize(
    ("line", "family", "given", "sex"),
    [
        ("Mme Anne SCHMIT née MULLER", "SCHMIT", "Anne", "female"),
        ("Mme Anne SCHMIT", "SCHMIT", "Anne", "female"),
        ("Frau Anne Schmit", "Schmit", "Anne", "female"),
        ("M. Paul WEBER", "WEBER", "Paul", "male"),
        ("Herr Paul Weber", "Weber", "Paul", "male"),
    ],
)
def test_titles_give_sex_and_are_not_names(parsed: Parsed, line: str, family: str, given: str, sex: str) -> None:
    m = meta(parsed, [line, "Date de naissance : 14/03/1962"])
    assert name(m) == (family, given)
    assert m.patient.sex == sex


@pytest.mark.parametrize(
    "beside",
    [
        [(40, "Sexe : F"), (300, "Demandé par"), (400, "Ana De Smet")],  # a keyed value
        [(40, "Sexe : F"), (300, "Dr Ana De Smet")],  # a physician
    ],
    ids=["prescriber-key", "doctor-title"],
)
def test_unlabelled_name_is_not_the_physician_below_it(parsed: Parsed, beside: list[tuple[float, str]]) -> None:
    # OCR reads the name cell together with the sampling date beside it; no accent either
    m = meta(parsed, [[(40, "Helene Kremer"), (300, "Prélevé le 16/06/2024")], BIRTH, beside])
    assert name(m) == ("Kremer", "Helene")


def test_a_stray_key_above_the_laboratory_does_not_anchor_the_name(parsed: Parsed) -> None:
    # photo noise read as "NE Fe" matches the key "né" but holds no date: the patient block
    # is where the birth date, sex and id keys found their values, not above the lab's name
    m = meta(parsed, [
        "Laborpraxis Trier-Nord", "98, avenue de la Liberté - L-1611 Luxembourg", "Tel. +352 49 820-0",
        "Endbefund", "PEETERS Laura", "Geschlecht: w", "Geburtsdatum: 01.02.1949",
    ], lab="NE Fe")
    assert name(m) == ("PEETERS", "Laura")


def test_a_german_laboratory_compound_is_not_a_patient(parsed: Parsed) -> None:
    m = meta(parsed, ["Laborzentrum Obermosel", "Geburtsdatum: 12.06.1983", "Geschlecht: W"], lab="")
    assert name(m) == (None, None)
    assert m.laboratory == "Laborzentrum Obermosel"


def test_birth_name_is_not_the_given_name(parsed: Parsed) -> None:
    m = meta(parsed, ["Patiente : Mme SCHMIT Anne née MULLER", BIRTH])
    assert name(m) == ("SCHMIT", "Anne")


def test_name_provenance_points_at_the_printed_name(parsed: Parsed) -> None:
    m = meta(parsed, ["Patient : SCHMIT Anne", BIRTH])
    fam = m.patient.family
    assert fam is not None and fam.page == 1
    assert fam.bbox.x0 > 40  # after the key, not on it
    assert 0 < m.confidence["family"] <= 1


def test_table_header_right_below_the_patient_fields_is_not_a_name(parsed: Parsed) -> None:
    m = meta(parsed, ["Date de naissance : 14/03/1962"])
    assert m.patient.family is None and m.patient.given is None


def test_laboratory_and_report_words_are_not_a_patient_name(parsed: Parsed) -> None:
    m = meta(parsed, ["Compte rendu d'analyses", BIRTH, "Sexe : F"])
    assert m.patient.family is None


# ------------------------------------------------------------------ birth date, sex, id


@pytest.mark.parametrize(
    "printed",
    ["14/03/1962", "14.03.1962", "1962-03-14", "14-Mar-1962", "14 mars 1962", "14. März 1962", "March 14, 1962"],
)
def test_birth_date_formats(parsed: Parsed, printed: str) -> None:
    m = meta(parsed, ["Patient : SCHMIT Anne", f"Date de naissance : {printed}"])
    assert m.patient.birth_date == "1962-03-14"
    assert m.patient.birth_date_src is not None and "1962" in m.patient.birth_date_src.text


@pytest.mark.parametrize(
    ("printed", "sex"),
    [("F", "female"), ("M", "male"), ("Féminin", "female"), ("Masculin", "male"), ("weiblich", "female"), ("w", "female"), ("Female", "female"), ("männlich", "male")],
)
def test_sex_values(parsed: Parsed, printed: str, sex: str) -> None:
    m = meta(parsed, ["Patient : SCHMIT Anne", f"{BIRTH}        Sexe : {printed}"])
    assert m.patient.sex == sex


@pytest.mark.parametrize("key", ["Geschlecht", "Sex", "Gender"])
def test_sex_keys(parsed: Parsed, key: str) -> None:
    m = meta(parsed, ["Patient : SCHMIT Anne", f"{key}: F"])
    assert m.patient.sex == "female"


def test_ocr_date_separators_need_a_full_year() -> None:
    from extractors.meta import find_date

    assert find_date("geb. am 21/08:1944", birth=True).iso == "1944-08-21"  # type: ignore[union-attr]
    assert find_date("Hb 12,5 13,0-17,0") is None and find_date("4,5 12,08 20") is None


@pytest.mark.parametrize(("printed", "sex"), [("F.", "female"), ("M.", "male"), (".M", "male"), ("Ww", "female"), ("mw", None), ("Mme", None)])
def test_sex_value_with_a_full_stop_a_speck_or_a_letter_read_twice(printed: str, sex: str | None) -> None:
    from extractors.meta import parse_sex

    assert parse_sex(printed) == sex


@pytest.mark.parametrize("printed", ["1962 0314 12345", "1962031412345", "1962 03 14 123 45"])
def test_national_id_with_spaces(parsed: Parsed, printed: str) -> None:
    m = meta(parsed, ["Patient : SCHMIT Anne", BIRTH, f"Matricule : {printed}"])
    assert m.patient.national_id == "1962031412345"


def test_national_id_needs_thirteen_digits(parsed: Parsed) -> None:
    m = meta(parsed, ["Patient : SCHMIT Anne", "Matricule : 1962 0314 123"])
    assert m.patient.national_id is None


def test_unlabelled_matricule_starting_with_the_birth_date(parsed: Parsed) -> None:
    m = meta(parsed, ["Patient : SCHMIT Anne", BIRTH, "1962 0314 12345"])
    assert m.patient.national_id == "1962031412345"


def test_birth_date_read_from_a_valid_luxembourg_matricule_when_not_printed(parsed: Parsed) -> None:
    m = meta(parsed, ["Patient : WEBER Paul", "Matricule : 1975 0730 310 98"])
    assert m.patient.birth_date == "1975-07-30"
    assert m.patient.birth_date_src is not None and "1975" in m.patient.birth_date_src.text
    assert m.confidence["birth_date"] < 0.98  # derived, not read


def test_birth_date_is_not_derived_from_an_id_that_fails_its_checks(parsed: Parsed) -> None:
    m = meta(parsed, ["Patient : WEBER Paul", "Matricule : 1975 0730 310 99"])
    assert m.patient.birth_date is None


def test_one_misread_digit_of_a_matricule_is_repaired_by_its_check_digits() -> None:
    from extractors.meta import _id_valid, repair_matricule

    assert _id_valid("lu", "1944052116095")
    assert repair_matricule("1944082116095") == "1944052116095"  # a fax read 5 as 8
    assert repair_matricule("1944082116095", birth="1944-05-21") == "1944052116095"
    assert repair_matricule("1944082116095", birth="1944-08-21") is None  # the printed birth date disagrees
    assert repair_matricule("1944052116095") is None  # valid already: nothing to repair
    assert repair_matricule("1944022116095") is None  # 2 is not a digit OCR confuses here


def test_matricule_repair_applies_to_ocr_only() -> None:
    from extractors.meta import parse_meta

    def lines(source: WordSource) -> list[TextLine]:
        words = [("Matricule", 40.0), (":", 95.0), ("1944", 105.0), ("0821", 130.0), ("160", 155.0), ("95", 175.0)]
        ws = tuple(Word(text=t, bbox=BBox(x0=x, top=100, x1=x + 20, bottom=110), page=1, font_size=9.0, source=source, confidence=0.9) for t, x in words)
        return [TextLine(page=1, words=ws, bbox=BBox.enclosing([w.bbox for w in ws]))]

    scanned = parse_meta(lines(WordSource.OCR), "fr")
    assert scanned.patient.national_id == "1944052116095" and scanned.patient.birth_date == "1944-05-21"
    assert scanned.confidence["national_id"] <= 0.6 and scanned.confidence["birth_date"] <= 0.6
    printed = parse_meta(lines(WordSource.TEXT), "fr")  # a text layer prints what it means
    assert printed.patient.national_id == "1944082116095" and printed.patient.birth_date is None


def _ocr_lines(rows: list[list[tuple[str, float]]], source: WordSource = WordSource.OCR) -> list[TextLine]:
    out = []
    for i, row in enumerate(rows):
        ws = tuple(Word(text=t, bbox=BBox(x0=x, top=100 + 14 * i, x1=x + 6 * len(t), bottom=110 + 14 * i), page=1, font_size=9.0,
                        source=source, confidence=0.9) for t, x in row)
        out.append(TextLine(page=1, words=ws, bbox=BBox.enclosing([w.bbox for w in ws])))
    return out


def test_a_matricule_with_a_letter_read_for_a_digit_is_taken_when_its_check_digits_agree() -> None:
    from extractors.meta import misread_national_id, parse_meta

    assert misread_national_id("195008209783B") == ("1950082097838", "urn:oid:1.3.182.4.4")  # B for 8
    assert misread_national_id("195008209783S") is None  # 5 fails the check digits
    assert misread_national_id("19500B2O9783B") is None  # three letters: not a number read with a slip
    rows = [[("Sozialversicherungsnr.:", 40.0), ("195008209783B", 190.0)]]
    scanned = parse_meta(_ocr_lines(rows), "de")
    assert scanned.patient.national_id == "1950082097838" and scanned.confidence["national_id"] <= 0.7
    assert parse_meta(_ocr_lines(rows, WordSource.TEXT), "de").patient.national_id is None  # a text layer prints what it means


def test_a_matricule_date_part_misread_is_repaired_from_the_printed_birth_date() -> None:
    from extractors.meta import repair_matricule

    assert repair_matricule("1992011908224", birth="1952-01-19") == "1952011908224"  # 5 read 9 on a fax
    assert repair_matricule("1963010245468", birth="1963-04-02") == "1963040245468"  # 4 read 1: no confusion we list
    assert repair_matricule("1963010245468") is None  # without the printed date: nothing to go by
    assert repair_matricule("1952011908224", birth="1952-01-19") is None  # valid already
    assert repair_matricule("1992011908224", birth="1952-01-18") is None  # the checks fail with that date


def test_a_matricule_whose_date_part_is_unreadable_takes_the_printed_birth_date_when_both_checks_agree() -> None:
    from extractors.meta import parse_meta

    def rows(serial: str) -> list[list[tuple[str, float]]]:
        return [[("Matricule", 40.0), ("CNS", 95.0), (":", 118.0), ("1989", 128.0), ("UN27", 155.0), (serial, 185.0), ("77", 210.0)],
                [("Date", 40.0), ("de", 70.0), ("naissance", 85.0), (":", 140.0), ("27.08.1959", 150.0)]]

    scanned = parse_meta(_ocr_lines(rows("638")), "fr")
    assert scanned.patient.national_id == "1959082763877" and scanned.confidence["national_id"] <= 0.6
    assert parse_meta(_ocr_lines(rows("639")), "fr").patient.national_id is None  # the check digits disagree
    assert parse_meta(_ocr_lines(rows("638"), WordSource.TEXT), "fr").patient.national_id is None


def test_an_ocr_birth_date_one_digit_off_a_checked_matricule_takes_the_matricule_s() -> None:
    from extractors.meta import parse_meta

    rows = [[("Date", 40.0), ("de", 70.0), ("naissance:", 85.0), ("02/04/1964", 150.0)],
            [("Matricule:", 40.0), ("1963040245468", 100.0)]]
    scanned = parse_meta(_ocr_lines(rows), "fr")
    assert scanned.patient.birth_date == "1963-04-02" and scanned.confidence["birth_date"] <= 0.6
    printed = parse_meta(_ocr_lines(rows, WordSource.TEXT), "fr")
    assert printed.patient.birth_date == "1964-04-02" and printed.confidence["birth_date"] <= 0.6  # printed so: doubted


@pytest.mark.parametrize(
    ("words", "field", "value"),
    [
        ([("exe", 40.0), (":", 60.0), ("M", 70.0)], "sex", "male"),  # "Sexe :" with its S lost
        ([("Suxe", 40.0), (":", 66.0), ("F", 90.0)], "sex", "female"),  # one letter off a short key: its value reads as is
        ([("Probenentuahme:", 40.0), ("12.03.2024", 130.0)], "collection_date", "2024-03-12"),
        ([("Geburtsdalum:", 40.0), ("30.07.1957", 130.0)], "birth_date", "1957-07-30"),
        ([("Validé", 40.0), ("1e:", 80.0), ("02/06/2024", 130.0)], "report_date", "2024-06-02"),  # "le" read "1e"
        ([("Date", 40.0), ("de", 70.0), ("naiss,:", 85.0), ("1971-09-08", 140.0)], "birth_date", "1971-09-08"),  # "." read ","
    ],
)
def test_meta_key_misread_by_ocr_is_still_a_key(words: list[tuple[str, float]], field: str, value: str) -> None:
    from extractors.meta import parse_meta

    def lines(source: WordSource) -> list[TextLine]:
        ws = tuple(Word(text=t, bbox=BBox(x0=x, top=100, x1=x + 6 * len(t), bottom=110), page=1, font_size=9.0, source=source,
                        confidence=0.9) for t, x in words)
        return [TextLine(page=1, words=ws, bbox=BBox.enclosing([w.bbox for w in ws]))]

    def got(m) -> str | None:  # type: ignore[no-untyped-def]
        return getattr(m.patient, field, None) if field in ("sex", "birth_date") else getattr(m, field)

    assert (got(parse_meta(lines(WordSource.OCR), "de")) or "")[:10] == value
    assert got(parse_meta(lines(WordSource.TEXT), "de")) is None  # a text layer's unknown word is no key


def test_sex_read_as_e_on_an_ocr_page_is_female_for_review() -> None:
    from extractors.meta import parse_meta

    def meta_of(source: WordSource):  # type: ignore[no-untyped-def]
        ws = tuple(Word(text=t, bbox=BBox(x0=x, top=100, x1=x + 6 * len(t), bottom=110), page=1, font_size=9.0,
                        source=source, confidence=0.72) for t, x in (("Sexe:", 40.0), ("E", 90.0)))
        return parse_meta([TextLine(page=1, words=ws, bbox=BBox.enclosing([w.bbox for w in ws]))], "fr")

    scanned = meta_of(WordSource.OCR)
    assert scanned.patient.sex == "female" and scanned.confidence["sex"] <= 0.6
    assert meta_of(WordSource.TEXT).patient.sex is None  # a text layer that prints E means no sex we know


@pytest.mark.parametrize(("value", "sex"), [("EF", "female"), ("E", "female"), ("EM", None), ("FE", None)])
def test_sex_read_with_a_stroke_before_its_f_is_female_for_review(value: str, sex: str | None) -> None:
    from extractors.meta import parse_meta

    m = parse_meta(_ocr_lines([[("Sex", 53.0), (value, 127.0)]]), "en")
    assert m.patient.sex == sex
    if sex:
        assert m.confidence["sex"] <= 0.6


def test_a_long_key_misread_in_a_layout_without_colons_is_still_a_key() -> None:
    from extractors.meta import parse_meta

    rows = [[("Geschlechl", 460.0), ("M", 519.0)], [("Geb.-Datum", 459.0), ("15/06/2003", 524.0)]]
    scanned = parse_meta(_ocr_lines(rows), "de")
    assert scanned.patient.sex == "male" and scanned.patient.birth_date == "2003-06-15"
    assert parse_meta(_ocr_lines(rows, WordSource.TEXT), "de").patient.sex is None  # a text layer's unknown word is no key
    short = parse_meta(_ocr_lines([[("Sexo", 40.0), ("M", 80.0)]]), "de")  # short words need their colon
    assert short.patient.sex is None


def test_a_key_unlike_any_misread_key_stays_no_key() -> None:
    from extractors.meta import parse_meta

    ws = tuple(Word(text=t, bbox=BBox(x0=x, top=100, x1=x + 6 * len(t), bottom=110), page=1, font_size=9.0,
                    source=WordSource.OCR, confidence=0.9) for t, x in (("Validé", 40.0), ("par:", 80.0), ("02/06/2024", 130.0)))
    m = parse_meta([TextLine(page=1, words=ws, bbox=BBox.enclosing([w.bbox for w in ws]))], "fr")
    assert m.report_date is None  # "Validé par" names the validating biologist, not a date


def test_birth_date_disagreeing_with_the_matricule_is_doubted(parsed: Parsed) -> None:
    m = meta(parsed, ["Patient : WEBER Paul", "Date de naissance : 30/07/1957", "Matricule : 1975 0730 310 98"])
    assert m.patient.birth_date == "1957-07-30"  # what is printed, flagged for review
    assert m.confidence["birth_date"] <= 0.6


# ------------------------------------------------------------------ dates, prescriber, laboratory


@pytest.mark.parametrize(
    ("line", "iso"),
    [
        ("Prélèvement le : 12/03/2024 à 08:15", "2024-03-12T08:15:00"),
        ("Entnahme am: 12.03.2024 um 06:45", "2024-03-12T06:45:00"),
        ("Entnahmedatum 25.08,2024 um 17:59", "2024-08-25T17:59:00"),  # OCR: a full stop read as a comma
        ("Collected: 12 Mar 2024 at 16:30", "2024-03-12T16:30:00"),
        ("Date de prélèvement : 12/03/2024", "2024-03-12"),
        ("Prélèvement le : 12/03/2024 08h15", "2024-03-12T08:15:00"),
    ],
)
def test_collection_date_with_time(parsed: Parsed, line: str, iso: str) -> None:
    m = meta(parsed, ["Patient : SCHMIT Anne", BIRTH, line])
    assert m.collection_date == iso


def test_report_date_is_separate_from_collection_date(parsed: Parsed) -> None:
    m = meta(parsed, ["Patient : SCHMIT Anne", BIRTH, "Prélèvement le : 12/03/2024 à 08:15", "Date du rapport : 13/03/2024"])
    assert m.collection_date == "2024-03-12T08:15:00"
    assert m.report_date is not None and m.report_date.startswith("2024-03-13")


def test_date_glued_to_its_key_is_read(parsed: Parsed) -> None:
    # OCR lost the colon and the space: "Date du compte rendu02/08/2025"
    m = meta(parsed, ["Patient : SCHMIT Anne", BIRTH, "Prélevé le: 01/08/2025 à 17:20", "Date du compte rendu02/08/2025"])
    assert m.report_date is not None and m.report_date.startswith("2025-08-02")


def test_birth_date_is_never_the_collection_date(parsed: Parsed) -> None:
    m = meta(parsed, ["Patient : SCHMIT Anne", BIRTH, "Prélèvement le : 12/03/2024"])
    assert m.patient.birth_date == "1962-03-14"
    assert m.collection_date == "2024-03-12"


@pytest.mark.parametrize(
    "line",
    ["Médecin prescripteur : Dr Marc WEBER", "Einsender: Dr. med. Marc Weber", "Requested by: Dr Marc Weber"],
)
def test_prescriber(parsed: Parsed, line: str) -> None:
    m = meta(parsed, ["Patient : SCHMIT Anne", BIRTH, line])
    assert m.prescriber is not None and "weber" in m.prescriber.lower()
    assert "schmit" not in m.prescriber.lower()
    assert m.patient.family is not None and m.patient.family.text == "SCHMIT"


def test_prescriber_and_patient_on_one_line(parsed: Parsed) -> None:
    m = meta(parsed, [[(40, "Patient : SCHMIT Anne"), (320, "Prescripteur : Dr Marc WEBER")], BIRTH])
    assert name(m) == ("SCHMIT", "Anne")
    assert m.prescriber is not None and "WEBER" in m.prescriber and "SCHMIT" not in m.prescriber


@pytest.mark.parametrize("lab", ["Laboratoire Central d'Analyses", "Labor Dr. Müller & Kollegen", "Centre Hospitalier du Nord"])
def test_laboratory_name(parsed: Parsed, lab: str) -> None:
    m = meta(parsed, ["Patient : SCHMIT Anne", BIRTH], lab=lab)
    assert m.laboratory == lab


def test_keys_inside_a_result_label_are_not_keys(parsed: Parsed) -> None:
    # "patient" inside "TCA patient" (and "Nom"-like words in labels) must not override
    # the patient block nor turn a result row into metadata
    rows = [("TCA patient", "32,0", "s", "25 - 35"), ("TCA témoin", "30,0", "s", "25 - 35"), ("Sodium", "141", "mmol/l", "136 - 145")]
    rep = parsed(report(["SCHMIT Anne", BIRTH, "Sexe : F"], rows=rows))
    assert name(rep.meta) == ("SCHMIT", "Anne")
    assert "TCA patient" in [r.label.text for r in rep.rows]


def test_no_patient_block_gives_no_name_and_a_warning(parsed: Parsed) -> None:
    rep = parsed(report([]))
    assert rep.meta.patient.family is None
    assert "no-patient-name" in rep.warnings


def test_language_detected(parsed: Parsed) -> None:
    de = parsed(report(["Name: Schmit   Vorname: Anne", "Geburtsdatum: 14.03.1962"], lab="Labor Dr. Müller",
                       rows=[("Kalium", "4,1", "mmol/l", "3,5 - 5,1"), ("Harnstoff", "32", "mg/dl", "17 - 43")]))
    assert de.meta.language in ("de", "mixed")


def test_a_report_dated_before_its_sample_was_taken_sends_both_dates_to_review() -> None:
    from extractors.meta import parse_meta

    def dates(report: str):  # type: ignore[no-untyped-def]
        rows = [[("Prélevé", 40.0), ("le", 90.0), (":", 102.0), ("27/06/2025", 110.0)], [("Édité", 40.0), ("le", 80.0), (":", 92.0), (report, 110.0)]]
        return parse_meta(_ocr_lines(rows), "fr")

    misread = dates("24/06/2025")  # 28/06 with its 8 read as 4
    assert misread.report_date == "2025-06-24" and misread.confidence["report_date"] <= 0.5 and misread.confidence["collection_date"] <= 0.5
    fine = dates("28/06/2025")
    assert fine.confidence["report_date"] > 0.9 and fine.confidence["collection_date"] > 0.9


@pytest.mark.parametrize(
    ("text", "family", "given", "sex"),
    [
        ("M, Nico RODRIGUES", "RODRIGUES", "Nico", "male"),  # the title's full stop read as a comma
        ("Krier. Romain", "Krier", "Romain", None),  # the name's comma read as a full stop
        ("Anne Krier.", "Krier", "Anne", None),  # a stray full stop after the last name
        ("SCHMIT, Anne", "SCHMIT", "Anne", None),
        ("St. Jean Paul", "St. Jean", "Paul", None),  # an abbreviation keeps its full stop
        ("Dipl. Ing. Marc WEBER", "WEBER", "Dipl. Ing. Marc", None),  # a long name: no comma made up
    ],
)
def test_full_stops_and_commas_swapped_in_a_name_are_put_back(text: str, family: str, given: str, sex: str | None) -> None:
    from extractors.meta import split_full_name

    fam, giv, title_sex, _ = split_full_name(text)
    assert (fam, giv, title_sex) == (family, given, sex)


@pytest.mark.parametrize(
    ("read", "spelled"),
    [("Frangois", "François"), ("Jöröme", "Jérôme"), ("Jéréme", "Jérôme"), ("FRANGOIS", "FRANÇOIS"),
     ("Anne", None), ("Jerome", None), ("Mare", None), ("Frangoise", "Françoise")],
)
def test_a_given_name_with_accents_misread_takes_the_listed_spelling(read: str, spelled: str | None) -> None:
    from extractors.meta import accent_misread_given

    assert accent_misread_given(read) == spelled


def test_accents_of_a_given_name_are_put_back_on_ocr_pages_only_and_for_review() -> None:
    from extractors.meta import parse_meta

    rows = [[("Prénom", 40.0), (":", 80.0), ("Frangois", 90.0)], [("Nom", 40.0), (":", 80.0), ("MARTIN", 90.0)]]
    scanned = parse_meta(_ocr_lines(rows), "fr")
    assert scanned.patient.given is not None and scanned.patient.given.text == "François" and scanned.confidence["given"] <= 0.6
    printed = parse_meta(_ocr_lines(rows, WordSource.TEXT), "fr")
    assert printed.patient.given is not None and printed.patient.given.text == "Frangois"  # a text layer prints what it means


def test_the_one_checked_identifier_of_a_block_whose_keys_were_lost_names_the_patient() -> None:
    from extractors.meta import parse_meta

    # a patient box OCR merged with the address beside it: no key left readable
    rows = [[("Laboratoire", 40.0), ("Central", 110.0)],
            [("MAJERUS", 336.0), ("Pierre", 383.0)],
            [("130,", 44.0), ("Am", 62.0), ("Markt", 77.0), ("rez", 343.0)],
            [("N°", 336.0), ("rez", 343.0), ("d'identification", 349.0), ("vu", 398.0), ("1947110598743", 418.0)]]
    meta = parse_meta(_ocr_lines(rows), "fr")
    p = meta.patient
    assert (p.national_id, p.birth_date, p.family.text, p.given.text) == ("1947110598743", "1947-11-05", "MAJERUS", "Pierre")  # type: ignore[union-attr]
    assert meta.confidence["national_id"] <= 0.7  # unlabelled: for review
    two = [*rows, [("Réf.", 40.0), ("1984011885701", 80.0)]]  # a second checked number: which one is the patient's?
    assert parse_meta(_ocr_lines(two), "fr").patient.national_id is None
    unchecked = [*rows[:3], [("N°", 336.0), ("1947110598744", 418.0)]]  # the check digits fail
    assert parse_meta(_ocr_lines(unchecked), "fr").patient.national_id is None


@pytest.mark.parametrize(
    ("printed", "sex"),
    [("männl.", "male"), ("weibl.", "female"), ("Fémini Sn", "female"), ("Masculi", "male"), ("Fémin", "female"), ("Mas", None)],
)
def test_sex_abbreviated_or_cut_short_by_ocr(printed: str, sex: str | None) -> None:
    from extractors.meta import parse_sex

    assert parse_sex(printed) == sex  # "männl." and "weibl." are printed; "Fémini" is "Féminin" OCR cut short


def test_a_key_read_one_letter_off_takes_only_a_value_that_reads_as_it_is() -> None:
    from extractors.meta import parse_meta

    def sex(*words: tuple[str, float]) -> str | None:
        return parse_meta(_ocr_lines([list(words)]), "fr").patient.sex

    assert sex(("Sexe", 40.0), (":", 66.0), ("E", 90.0)) == "female"  # a sure key: an F read as E, for review
    assert sex(("Suxe", 40.0), (":", 66.0), ("E", 90.0)) is None  # a loose key: no repair of its value
    assert sex(("Suxe", 40.0), ("F", 90.0)) is None  # no colon: no loose key
    # "Bern" is as close to the key "born" (75), but any date reads as a date: not taken
    assert parse_meta(_ocr_lines([[("Bern", 40.0), (":", 66.0), ("12.03.1950", 90.0)]]), "en").patient.birth_date is None


@pytest.mark.parametrize(
    ("token", "spelled"),
    [
        ("Jéro6me", "Jérôme"),  # the circumflex read as a glyph of its own
        ("Chlo&,", "Chloé,"),  # the accented letter read as a glyph; the comma stays
        ("Mar1e", "Marie"),  # a letter read as a digit
        ("JÉRO6ME", "JÉRÔME"),
        ("Jean-Luc", None),  # hyphens are letters of names
        ("Weber", None),  # nothing odd in it
        ("J6", None),  # too short to tell
        ("Ma6r1e", None),  # two odd glyphs
        ("Xyz4q", None),  # no listed name fits
    ],
)
def test_given_name_read_with_a_glyph_for_a_letter_is_spelled_from_the_list(token: str, spelled: str | None) -> None:
    from extractors.meta import stray_glyph_given

    assert stray_glyph_given(token) == spelled


def test_unlabelled_name_with_a_glyph_for_an_accent_is_found_and_doubted() -> None:
    from extractors.meta import parse_meta

    rows = [[("Jéro6me", 40.0), ("Bernard", 90.0)], [("Born:", 40.0), ("1967-09-17", 100.0)], [("Gender:", 40.0), ("Male", 100.0)]]
    scanned = parse_meta(_ocr_lines(rows), "en")
    assert (scanned.patient.given.text, scanned.patient.family.text) == ("Jérôme", "Bernard")
    assert scanned.confidence["given"] <= 0.6  # spelled from the list: a person confirms
    assert parse_meta(_ocr_lines(rows, WordSource.TEXT), "en").patient.given is None  # printed so: no name


@pytest.mark.parametrize(
    ("value", "sex"),
    [("lemme", "female"), ("Mascu]in", "male"), ("weiblick", "female"), ("Hommes", "male"), ("xxxxx", None), ("Lemma", None)],
)
def test_sex_word_a_glyph_off_is_read_on_an_ocr_page_for_review(value: str, sex: str | None) -> None:
    from extractors.meta import parse_meta

    scanned = parse_meta(_ocr_lines([[("Sexe", 40.0), (":", 66.0), (value, 90.0)]]), "fr")
    assert scanned.patient.sex == sex
    if sex is not None:
        assert scanned.confidence["sex"] <= 0.6
    assert parse_meta(_ocr_lines([[("Sexe", 40.0), (":", 66.0), (value, 90.0)]], WordSource.TEXT), "fr").patient.sex is None


def test_a_colon_read_as_a_comma_keys_only_self_checking_fields() -> None:
    from extractors.meta import parse_meta

    sexed = parse_meta(_ocr_lines([[("Gender,", 40.0), ("Male", 120.0)]]), "en")
    assert sexed.patient.sex == "male" and sexed.confidence["sex"] <= 0.8
    assert parse_meta(_ocr_lines([[("Gender,", 40.0), ("Mule", 120.0)]]), "en").patient.sex is None  # its value reads as is
    assert parse_meta(_ocr_lines([[("Surname,", 40.0), ("DUPONT", 120.0)]]), "en").patient.family is None  # a name checks nothing


def test_a_key_with_a_degree_sign_and_an_apostrophe_misread_is_still_a_key() -> None:
    from extractors.meta import parse_meta
    from extractors.rules import _plain_key

    assert _plain_key("n[°o]\\.? d'identification") == "no d'identification"  # as the fuzzy match spells keys
    # a fax: the key's "a" read "n", the date part of the matricule two digits off, the birth date's
    # key and separators misread; the printed birth date puts the date part back, the check digits agree
    row = [("N°", 51.0), ("d'identificntion:", 65.0), ("1945", 151.0), ("9324", 174.0), ("437", 198.0), ("04", 216.0),
           ("Date", 299.0), ("de", 323.0), ("paissauce:", 337.0), ("23:03,1945", 398.0)]
    scanned = parse_meta(_ocr_lines([row]), "fr")
    assert (scanned.patient.national_id, scanned.patient.birth_date) == ("1945032343704", "1945-03-23")
    assert scanned.confidence["national_id"] <= 0.6
    assert parse_meta(_ocr_lines([row], WordSource.TEXT), "fr").patient.national_id is None


def test_a_patient_value_read_unsurely_asks_for_the_block_to_be_read_again() -> None:
    from extractors.meta import patient_read

    def lines(first_conf: float, source: WordSource = WordSource.OCR) -> list[TextLine]:
        rows = [[("Bes,", 40.0), ("Nathalie", 70.0), ("FRISCH", 120.0)], [("Born", 40.0), ("2002-02-21", 100.0)],
                [("Social", 40.0), ("security", 70.0), ("no.", 120.0), ("2002022165824", 150.0)], [("Sex", 40.0), ("F", 100.0)]]
        out = _ocr_lines(rows, source)
        w = out[0].words[0].model_copy(update={"confidence": first_conf})
        return [out[0].model_copy(update={"words": (w, *out[0].words[1:])}), *out[1:]]

    unsure = patient_read(lines(0.32))  # "Mrs" read "Bes," made the family name
    assert unsure.doubtful and not unsure.complete and len(unsure.fields) == 5
    assert not patient_read(lines(0.9)).doubtful
    assert not patient_read(lines(0.32, WordSource.TEXT)).doubtful  # a text layer is what it is
