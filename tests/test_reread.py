"""Issue 3: doubtful OCR words read again cell by cell, unit and label repairs (real tesseract)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from extractors.ocr import _cell_box, ocr_page, reread_doubtful_words, words_from_tesseract
from extractors.preprocess import preprocess
from extractors.render import render_page
from extractors.tesseract import engine, parse_tsv, tessdata_dir
from mappers.repair import component_units, repair_unit
from mappers.results import MappingContext, label_variants, map_result
from models import BBox, Printed, RawResult, Word, WordSource

DE = MappingContext(decimal_comma=True, sex="female", language="de")
EN = MappingContext(decimal_comma=False, sex="female", language="en")


def _ocr_strip(path: Path, font: str, texts: tuple[tuple[str, float], ...], rule_x: float | None = None):  # type: ignore[no-untyped-def]
    """One line of 9-pt text (and a short vertical rule) near the top of an A4 page,
    rendered at 300 dpi, the top 120 pt OCR'd with the German model: (image, page, scale)."""
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont(font, 9)
    y = A4[1] - 80
    for text, x in texts:
        c.drawString(x, y, text)
    if rule_x is not None:
        c.setLineWidth(0.8)
        c.line(rule_x, y - 4, rule_x, y + 10)
    c.save()
    r = render_page(path, 0, 300)
    image = preprocess(r.image.crop((0, 0, r.image.width, int(120 * r.scale))), dpi=300, deskew=False).image
    return image, ocr_page(image, 1, r.width_pt, 120.0, "deu"), r.scale


@pytest.fixture(scope="module")
def row_page(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One table row in 9-pt Times with wide gaps."""
    texts = (("Harnstoff", 60.0), ("3,3", 300.0), ("mmol/l", 360.0), ("2,8 bis 7,2", 460.0))
    return _ocr_strip(tmp_path_factory.mktemp("reread") / "row.pdf", "Times-Roman", texts)


def test_parse_tsv_gives_typed_columns() -> None:
    tsv = "5\t1\t1\t1\t1\t1\t10\t20\t30\t12\t91.5\tSodium\n1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t\n"
    data = parse_tsv(tsv)
    assert data["text"] == ["Sodium", ""]
    assert data["left"] == [10, 0] and data["conf"] == [91.5, -1.0]
    words = words_from_tesseract(data, 1, 1.0, 1.0)
    assert [w.text for w in words] == ["Sodium"]


def test_tessdata_has_the_report_languages() -> None:
    assert all((Path(tessdata_dir()) / f"{lang}.traineddata").exists() for lang in ("fra", "deu", "eng", "ltz"))


def test_cell_box_stops_halfway_to_the_neighbour() -> None:
    def w(text: str, x0: float, x1: float) -> Word:
        return Word(text=text, bbox=BBox(x0=x0, top=100, x1=x1, bottom=110), page=1, confidence=0.5, source=WordSource.OCR)

    left, mid, right = w("2,8", 100, 110), w("bis", 112, 122), w("7,2", 150, 160)
    x, y, width, height = _cell_box(mid, (left, mid, right), 1.0, 1.0, (1000, 1000))
    assert x == 111 and x + width == 128  # 1 pt gap to the left -> 1 pt / 2; 6 pt margin on the right
    assert y < 100 and y + height > 110


def test_line_mates_are_the_words_sharing_the_line() -> None:
    from extractors.ocr import _line_mates, _same_line

    rng = np.random.default_rng(7)
    words = []
    for k in range(80):
        top, height = float(rng.uniform(0, 200)), float(rng.uniform(4, 14))
        words.append(Word(text=f"w{k}", bbox=BBox(x0=k, top=top, x1=k + 5, bottom=top + height), page=1, confidence=0.5, source=WordSource.OCR))
    picks = list(range(0, 80, 3))
    mates = _line_mates(words, picks)
    assert all(mates[i] == [w for w in words if _same_line(words[i], w)] for i in picks)
    assert any(len(mates[i]) > 1 for i in picks) and any(len(mates[i]) < 80 for i in picks)


def test_page_reads_the_row(row_page) -> None:  # type: ignore[no-untyped-def]
    _, page, _ = row_page
    texts = [w.text for w in page.words]
    assert "Harnstoff" in texts and "mmol/l" in texts


def test_doubtful_number_is_read_again_from_its_cell(row_page) -> None:  # type: ignore[no-untyped-def]
    image, page, scale = row_page
    value = min(page.words, key=lambda w: abs(w.bbox.x0 - 300))
    # the row-level misreading seen on scans: "3,3" -> "38", with middling confidence
    wrong = value.model_copy(update={"text": "38", "confidence": 0.6})
    words = tuple(wrong if w is value else w for w in page.words)
    fixed = reread_doubtful_words(engine("deu"), image, words, scale, scale)
    new = next(w for w in fixed if w.bbox == value.bbox)
    assert new.text == "3,3"
    assert new.confidence > 0.6


def test_word_read_with_the_table_rules_around_it_is_read_again(row_page) -> None:  # type: ignore[no-untyped-def]
    # a short label between vertical rules came out as "[6]" or "[ei]" (it was "Cl"); alone
    # the cell reads clean, at any length
    image, page, scale = row_page
    label = next(w for w in page.words if w.text == "Harnstoff")
    for misread, confidence, expected in (("[ei]", 0.56, "Harnstoff"), ("[6]", 0.6, "Harnstoff"), ("[ei]", 0.95, "[ei]")):
        wrong = label.model_copy(update={"text": misread, "confidence": confidence})
        words = tuple(wrong if w is label else w for w in page.words)
        fixed = reread_doubtful_words(engine("deu"), image, words, scale, scale)
        assert next(w for w in fixed if w.bbox == label.bbox).text == expected


def test_confident_words_are_not_read_again(row_page) -> None:  # type: ignore[no-untyped-def]
    image, page, scale = row_page
    value = min(page.words, key=lambda w: abs(w.bbox.x0 - 300))
    sure = value.model_copy(update={"text": "38", "confidence": 0.99})  # above REREAD_BELOW: trusted
    label = next(w for w in page.words if w.text == "Harnstoff").model_copy(update={"text": "Harnstaff", "confidence": 0.9})
    words = tuple(sure if w is value else label if w.text == "Harnstoff" else w for w in page.words)
    fixed = reread_doubtful_words(engine("deu"), image, words, scale, scale)
    assert [w.text for w in fixed] == [w.text for w in words]


@pytest.mark.parametrize(
    ("printed", "component", "ucum"),
    [
        ("W/1", "ast", "U/L"), ("4/1", "alt", "U/L"), ("I/l", "hematocrit", "L/L"), ("£1", "mcv", "fL"),
        ("g/d1i", "hemoglobin", "g/dL"), ("mmolA", "potassium", "mmol/L"), ("pmoli", "iron", "umol/L"),
        # weighted by the confusion table (mappers/data/ocr_confusions.csv)
        ("TIL", "rbc", "10*12/L"), ("Inl", "platelets", "10*9/L"), ("ls", "aptt", "s"), ("pmol1", "ft4", "pmol/L"),
        ("UZL", "ck", "U/L"), ("&%", "eosinophils", "%"), ("|%", "hematocrit", "%"), ("un", "ast", "U/L"),
        ("$", "hematocrit", "%"), ("10-97", "wbc", "10*9/L"), ("mmoi", "potassium", "mmol/L"),
        ("3/ul", "wbc", "10*3/uL"), ("9/l", "platelets", "10*9/L"),  # the "10" read apart and lost
        ("Ujl", "alt", "U/L"),
    ],
)
def test_ocr_unit_confusions(printed: str, component: str, ucum: str) -> None:
    fixed = repair_unit(printed, component_units(component))
    assert fixed is not None and fixed.ucum == ucum


def test_ocr_distance_charges_less_for_known_confusions() -> None:
    from mappers.repair import ocr_distance, ocr_similarity

    assert ocr_distance("t/l", "t/l") == 0.0
    assert ocr_distance("til", "t/l") == pytest.approx(0.2)  # '/' read as 'I'
    assert ocr_distance("tal", "t/l") == pytest.approx(1.0)  # no known confusion: a full edit
    assert ocr_distance("", "abc") == pytest.approx(3.0)
    assert 0.0 <= ocr_similarity("xyz", "mmol/l") < 0.5


def test_confusion_table_rejects_a_cost_of_one_or_more(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mappers.repair as repair

    (tmp_path / "ocr_confusions.csv").write_text("read,printed,cost,note\ni,/,1.5,wrong\n", encoding="utf-8")
    monkeypatch.setattr(repair, "_DATA", tmp_path)
    repair._confusions.cache_clear()
    try:
        with pytest.raises(ValueError):
            repair._confusions()
    finally:
        monkeypatch.undo()
        repair._confusions.cache_clear()


def test_truncated_unit_is_repaired_only_when_its_box_holds_the_whole_spelling() -> None:
    accepted = component_units("ast")
    fixed = repair_unit("U", accepted, box_chars=3.0)  # "U" read in the box of "U/l"
    assert fixed is not None and fixed.ucum == "U/L" and fixed.similarity < 1.0
    assert repair_unit("U", accepted, box_chars=1.0) is None  # a box for one letter: really "U"
    assert repair_unit("U", accepted) is None


def test_a_speck_before_the_label_is_dropped_as_a_variant() -> None:
    assert "RDW" in label_variants("1 RDW")
    assert "Lymphozyten abs." in label_variants("j Lymphozyten abs.")
    assert label_variants("RDW") == ["RDW"]
    # a short lowercase fragment before a capitalised label (specks on a photographed page)
    assert "MCHC" in label_variants("ta MCHC")
    assert "Basophile abs." in label_variants("e: Basophile abs.")
    assert "urinaire" not in label_variants("pH urinaire")  # no capital after "pH": not a fragment
    assert all(not v.startswith("Sérique") for v in label_variants("Fe Sérique"))  # capitalised: a word


def _ocr(text: str) -> Printed:
    return Printed(text=text, page=1, bbox=BBox(x0=40, top=100, x1=90, bottom=110), confidence=0.9, source=WordSource.OCR)


def test_low_flag_glued_before_an_ocr_value_is_split() -> None:
    raw = RawResult(index=0, label=_ocr("Hämoglobin"), value=_ocr("-6,7"), unit=_ocr("mmol/l"), range=_ocr("7,4 bis 9,9"))
    r = map_result(raw, DE)
    assert r.value == pytest.approx(6.7) and r.interpretation == "L"
    assert "flag-split-from-value" in r.notes and r.review_status == "needs-review"


@pytest.mark.parametrize(
    ("value", "confidence", "rng", "expected", "repaired"),
    [
        ("16,01", 0.52, "11,5 - 14,5", 16.0, True),  # "16,0 +": the high flag read as a 1
        ("3,31", 0.6, "4,0 - 6,0", 3.3, True),  # "3,3 -": the low flag
        ("5,01", 0.52, "4,1 - 5,9", 5.01, False),  # 5,0 is inside the range: no flag was printed there
        ("16,01", 0.95, "11,5 - 14,5", 16.01, False),  # read surely: a value of two decimals
        ("16,02", 0.52, "11,5 - 14,5", 16.02, False),  # a flag mark reads as 1, not as 2
        ("16,01", 0.52, "11,50 - 14,50", 16.01, False),  # the range has two decimals too
    ],
)
def test_a_flag_mark_read_as_the_last_digit_is_dropped_when_range_and_decimals_agree(
    value: str, confidence: float, rng: str, expected: float, repaired: bool
) -> None:
    raw = RawResult(index=0, label=_ocr("Ery-Verteilungsbreite"), value=_ocr(value).model_copy(update={"confidence": confidence}),
                    unit=_ocr("%"), range=_ocr(rng))
    r = map_result(raw, DE)
    assert r.value == pytest.approx(expected)
    assert ("digit-was-flag" in r.notes) is repaired
    if repaired:
        assert r.review_status == "needs-review" and r.interpretation in ("H", "L")


def test_negative_value_with_a_range_below_zero_is_kept() -> None:
    raw = RawResult(index=0, label=_ocr("Basenüberschuss"), value=_ocr("-3,1"), unit=_ocr("mmol/l"), range=_ocr("-2,0 bis 3,0"))
    r = map_result(raw, DE)
    assert r.value == pytest.approx(-3.1)
    assert "flag-split-from-value" not in r.notes


@pytest.mark.parametrize(
    ("printed", "low", "high"),
    [("f4,00-5,20]", 4.0, 5.2), ("127,0-33,0]", 27.0, 33.0), ("[111,5-14,5]", 11.5, 14.5), ("T 11,5-16,0", 11.5, 16.0)],
)
def test_ocr_range_with_a_misread_bracket_is_repaired_and_doubted(printed: str, low: float, high: float) -> None:
    raw = RawResult(index=0, label=_ocr("Hämoglobin"), value=_ocr("13,0"), unit=_ocr("g/dl"), range=_ocr(printed))
    r = map_result(raw, DE)
    assert (r.ref_low, r.ref_high) == (pytest.approx(low), pytest.approx(high))
    assert "range-repaired" in r.notes and r.confidence_fields["range"] <= 0.7


def test_header_cell_naming_two_columns_is_split() -> None:
    # word boxes as tesseract gave them on a skewed scan: "Einheit" and "Valeurs" 14 pt
    # apart in 6.7-pt text, so the unit and range titles arrived as one cell
    from extractors.layout import group_lines
    from extractors.results import detect_header

    boxes = [("Analyse", 42.7, 65.97), ("/", 67.89, 70.05), ("Parameter", 71.73, 103.88), ("Résultat", 265.09, 289.8),
             ("/", 291.48, 293.64), ("Befund", 295.08, 317.15), ("Unités", 332.03, 350.5), ("/", 352.42, 354.58),
             ("Einheit", 356.02, 378.09), ("Valeurs", 392.48, 415.27), ("usuelles", 416.95, 440.46), ("/", 441.9, 444.3),
             ("Referenzwerte", 445.74, 489.88), ("Ind.", 508.12, 519.87), ("/", 521.79, 524.19), ("Bew.", 525.63, 540.26)]
    words = [Word(text=t, bbox=BBox(x0=a, top=186.69, x1=b, bottom=193.41), page=1, font_size=6.72, confidence=0.9,
                  source=WordSource.OCR) for t, a, b in boxes]
    (line,) = group_lines(words)
    cols = detect_header(line, None)
    assert cols is not None
    assert [c.role for c in cols.cols] == ["label", "value", "unit", "range", "flag"]


@pytest.mark.parametrize(
    ("read", "bare"),
    [("[6,4", "6,4"), ("|120", "120"), ("6,4]", "6,4"), ("12|", "12"), ("[4,0-10,0]", "[4,0-10,0]"), ("6,4", "6,4")],
)
def test_table_rule_read_against_a_number_is_dropped(read: str, bare: str) -> None:
    from extractors.results import _without_rule_marks

    assert _without_rule_marks(read) == bare


def test_range_with_a_rule_read_before_it_is_repaired_and_doubted() -> None:
    from mappers.repair import repair_range_texts

    assert "4,0 à 10,0" in repair_range_texts("|4,0 à 10,0")
    assert "11,5 à 14,5" in repair_range_texts("[11,5 à 14,5")
    assert repair_range_texts("H 4,50-5,90") == []  # "H", "F", "M", "W" before a range name the sex it is for
    r = map_result(RawResult(index=0, label=_ocr("Leukozyten"), value=_ocr("6,4"), unit=_ocr("G/l"), range=_ocr("|4,0 - 10,0")), DE)
    assert (r.ref_low, r.ref_high) == (4.0, 10.0)
    assert "range-repaired" in r.notes and r.confidence_fields["range"] <= 0.7


def test_ocr_plus_against_a_value_inside_its_range_is_the_percent_sign() -> None:
    def row(value: str, flag: str) -> RawResult:
        return RawResult(index=0, label=_ocr("Lymphozyten"), value=_ocr(value), range=_ocr("20,0 - 45,0"), flag=_ocr(flag))

    inside = map_result(row("33,7", "+"), DE)
    assert inside.unit_ucum == "%" and "unit-from-flag" in inside.notes
    assert inside.interpretation in (None, "N")  # the '+' was no high flag
    above = map_result(row("51,6", "+"), DE)  # a '+' beside a high value is the high flag
    assert "unit-from-flag" not in above.notes and above.interpretation == "H"
    text = map_result(row("33,7", "+").model_copy(update={"flag": _ocr("+").model_copy(update={"source": WordSource.TEXT})}), DE)
    assert "unit-from-flag" not in text.notes  # a printed '+' is what it says


@pytest.mark.parametrize(("read", "texts"), [("* 1,25", ["*", "1,25"]), ("1,25 H", ["1,25", "H"]), ("- 6,7", ["-", "6,7"])])
def test_cell_read_as_a_flag_and_a_number_becomes_two_words(read: str, texts: list[str]) -> None:
    from extractors.ocr import _FLAGGED_NUMBER, _split_flag

    old = Word(text="21,25", bbox=BBox(x0=200, top=100, x1=230, bottom=110), page=1, confidence=0.38, source=WordSource.OCR)
    m = _FLAGGED_NUMBER.match(read)
    assert m is not None
    words = _split_flag(old, m, 0.94)
    assert [w.text for w in words] == texts
    assert words[0].bbox.x1 <= words[1].bbox.x0 and old.bbox.x0 <= words[0].bbox.x0 and words[1].bbox.x1 <= old.bbox.x1
    assert _FLAGGED_NUMBER.match("1,25") is None and _FLAGGED_NUMBER.match("U/l 3") is None


def test_label_token_with_a_misread_one_still_matches_but_other_tokens_still_discriminate() -> None:
    from mappers.terminology import match_label

    hit = match_label("VS îre heure", "mm/h", "fr")  # "1re" read as "îre"
    assert hit is not None and hit.loinc == "30341-2" and hit.method == "fuzzy"
    assert match_label("Vitamine Bl2", None, "fr").loinc == "2132-9"  # type: ignore[union-attr]
    assert match_label("Cholestérol LDL", None, "fr").loinc != match_label("Cholestérol HDL", None, "fr").loinc  # type: ignore[union-attr]


def test_misread_unit_decides_between_the_tests_a_label_can_name() -> None:
    # German tables call plateletcrit "PCT"; with "µg/l" misread as "yg/l" (valid UCUM:
    # yoctogram) the row is procalcitonin
    r = map_result(RawResult(index=0, label=_ocr("PCT"), value=_ocr("0,72"), unit=_ocr("yg/l"), range=_ocr("0,00 - 0,50")), DE)
    assert (r.loinc, r.unit_ucum) == ("33959-8", "ug/L") and "unit-repaired" in r.notes
    plateletcrit = map_result(RawResult(index=0, label=_ocr("PCT"), value=_ocr("0,25"), unit=_ocr("%"), range=_ocr("0,15 - 0,40")), DE)
    assert plateletcrit.loinc == "51637-7"


@pytest.mark.parametrize(
    ("texts", "value"),
    [(["1", "36,7"], "36,7"), (["t", "11,6"], "11,6"), (["1", "250"], "1 250"), (["36,7"], "36,7")],
)
def test_stray_glyph_before_an_ocr_value_is_a_misread_arrow(texts: list[str], value: str) -> None:
    from extractors.results import _split_value_zone

    words, x = [], 250.0
    for t in texts:
        words.append(Word(text=t, bbox=BBox(x0=x, top=100, x1=x + 5 * len(t), bottom=109), page=1, font_size=9, confidence=0.9, source=WordSource.OCR))
        x += 5 * len(t) + 3
    v, _, units = _split_value_zone(words, True)
    assert " ".join(w.text for w in v) == value and not units


def test_ambiguous_ocr_unit_is_decided_by_the_value_magnitude() -> None:
    def mchc(value: str, rng: str):  # type: ignore[no-untyped-def]
        return map_result(RawResult(index=0, label=_ocr("MCHC"), value=_ocr(value), unit=_ocr("ga"), range=_ocr(rng)), DE)

    assert mchc("31,3", "32,0 - 36,0").unit_ucum == "g/dL"  # "ga" reads as g/l or g/dl
    assert mchc("313", "320 - 360").unit_ucum == "g/L"
    # a unit without a span in the table is not ruled out by the one that has a span
    crp = map_result(RawResult(index=0, label=_ocr("CRP"), value=_ocr("0,03"), unit=_ocr("mg/di"), range=_ocr("< 0,50")), DE)
    assert crp.unit_ucum == "mg/dL"
    # the printed range speaks too when the value lost its decimal comma ("95" for 9,5)
    ca = map_result(RawResult(index=0, label=_ocr("Calcium"), value=_ocr("95"), unit=_ocr("mg/di"), range=_ocr("(8.6-10.2)")), EN)
    assert (ca.unit_ucum, ca.value) == ("mg/dL", 9.5)


def test_ocr_unit_valid_only_by_ucum_grammar_is_garbage_and_the_unit_is_inferred() -> None:
    # "ps" (picoseconds) for "pg" beside an MCH: not a unit of the test, nothing to repair from
    r = map_result(RawResult(index=0, label=_ocr("MCH"), value=_ocr("29,0"), unit=_ocr("ps"), range=_ocr("27,0 - 33,0")), DE)
    assert r.unit_ucum == "pg" and "unit-inferred" in r.notes and r.review_status == "needs-review"


def test_unit_with_a_misread_square_after_the_range_is_the_unit() -> None:
    from extractors.results import _unit_tail

    assert _unit_tail("m?") and _unit_tail("m²") and not _unit_tail("mg")


def test_image_opened_from_a_file_is_handed_to_tesseract_untagged(tmp_path: Path) -> None:
    from PIL import Image

    from extractors.tesseract import _untagged

    path = tmp_path / "page.png"
    Image.new("L", (40, 20), 255).save(path)
    opened = Image.open(path)
    assert opened.format == "PNG" and _untagged(opened).format is None  # else re-encoded as PNG: 0.4 s a page
    fresh = Image.new("L", (4, 4))
    assert _untagged(fresh) is fresh


def test_grey_pixels_handed_over_raw_read_as_the_encoded_image(row_page) -> None:  # type: ignore[no-untyped-def]
    """A grey image goes to tesseract as raw pixels (no BMP encoding): the page pass and the
    cell reads see exactly what the encoded image gave them (cells at the 96 dpi its
    header declared)."""
    import numpy as np

    from extractors.tesseract import CELL_DPI, _set_image

    image, _, _ = row_page
    eng = engine("deu")
    raw = eng.read_page(image, 4, 300)
    encoded = eng.read_page(image.convert("RGB"), 4, 300)  # not grey: tesserocr's own encoding
    assert raw == encoded and "Harnstoff" in raw["text"]
    cell = np.asarray(image)[:, 1100:1400]
    api = eng._api
    _set_image(api, cell)
    api.SetSourceResolution(CELL_DPI)
    by_bytes = api.GetUTF8Text()
    assert "3" in by_bytes
    from PIL import Image

    api.SetImage(Image.fromarray(cell))
    assert api.GetUTF8Text() == by_bytes


def _ocr_words(boxes: list[tuple[str, float, float]], top: float = 300.0, size: float = 8.0) -> list[Word]:
    return [Word(text=t, bbox=BBox(x0=a, top=top, x1=b, bottom=top + size), page=1, font_size=size, confidence=0.9,
                 source=WordSource.OCR) for t, a, b in boxes]


def test_range_title_ocr_split_into_a_value_word_stays_the_range_column() -> None:
    # "Valeurs de référence / Referenzbereich" read as "Valeurs ‘elle: / Referenzbereich" (skewed scan)
    from extractors.layout import group_lines
    from extractors.results import detect_header

    # word boxes as tesseract gave them
    words = _ocr_words([("Paramètre", 45.34, 79.89), ("/", 82.29, 84.45), ("Analyse", 86.61, 112.27), ("Résultat", 292.2, 319.79),
                        ("/", 322.19, 324.35), ("Befund", 326.75, 350.98), ("Unités", 367.29, 392.96), ("/", 389.36, 392.96),
                        ("Einheit", 395.6, 419.35), ("Valeurs", 440.22, 465.41), ("‘elle:", 483.65, 487.48), ("/", 497.08, 499.24),
                        ("Referenzbereich", 501.64, 556.82)], top=206.85, size=8.16)
    (line,) = group_lines(words)
    cols = detect_header(line, None)
    assert cols is not None
    assert [c.role for c in cols.cols] == ["label", "value", "unit", "range"]
    assert cols.zone(445).role == "range" and cols.zone(300).role == "value"


@pytest.mark.parametrize(
    ("boxes", "unit", "rng"),
    [
        # "U/l" read as "UA" (a shape no unit has): between value and range it is the unit
        ([("ALT", 40, 55), ("19", 200, 210), ("UA", 250, 262), ("0-50", 300, 320)], "UA", "0-50"),
        # a flag misread as "[L" before the range, the unit printed after the range
        ([("TSH", 40, 60), ("0.08", 200, 218), ("[L", 230, 238), ("0.27", 300, 318), ("-", 320, 323), ("4.20", 326, 344),
          ("mlU/L", 360, 385)], "mlU/L", "0.27 - 4.20"),
    ],
)
def test_ocr_word_in_the_unit_slot_is_the_unit(boxes: list[tuple[str, float, float]], unit: str, rng: str) -> None:
    from extractors.layout import group_lines
    from extractors.results import _fields_by_tokens, _text

    (line,) = group_lines(_ocr_words(boxes))
    f = _fields_by_tokens(line, False)
    assert _text(f.unit) == unit and _text(f.range) == rng


def test_text_layer_word_of_no_unit_shape_is_not_taken_as_the_unit() -> None:
    from extractors.layout import group_lines
    from extractors.results import _fields_by_tokens

    words = [w.model_copy(update={"source": WordSource.TEXT}) for w in _ocr_words([("ALT", 40, 55), ("19", 200, 210), ("UA", 250, 262), ("0-50", 300, 320)])]
    (line,) = group_lines(words)
    assert _fields_by_tokens(line, False).unit == []


def test_garbled_unit_after_a_value_is_read_again_and_kept_only_as_a_known_unit() -> None:
    from extractors.ocr import _unit_candidate, _unit_read
    from mappers.units import is_printed_unit

    words = _ocr_words([("Triglycérides", 40, 90), ("3,45", 200, 218), ("H", 222, 226), ("mmolL", 240, 265), ("<1,70", 300, 320),
                        ("Hématocrite", 40, 90), ("49,0", 200, 218), ("%", 240, 246), ("[40,0-52,0]", 300, 340)], top=300)
    words = words[:5] + [w.model_copy(update={"bbox": w.bbox.model_copy(update={"top": 320, "bottom": 328})}) for w in words[5:]]
    picks = [words[i].text for i in range(len(words)) if _unit_candidate(words, i)]
    assert picks == ["mmolL"]  # not the flag, the range, the label, nor a unit the table knows ("%")
    # nor a key or a word the report prints, after a number: "Page 2", "12 rue", "M: 13-17 H: 12-16"
    after = _ocr_words([("Page", 40, 60), ("2", 62, 66), ("Seite", 80, 100), ("12", 110, 118), ("rue", 120, 134), ("17", 150, 158),
                        ("H:", 160, 168), ("3", 180, 184), ("gaL", 186, 200)], top=500)
    assert [after[i].text for i in range(len(after)) if _unit_candidate(after, i)] == ["gaL"]
    garbled = words[3]
    assert _unit_read(garbled, "mmol/L")
    assert not _unit_read(garbled, "mmol")  # not a unit of the table... or fewer letters
    assert not _unit_read(garbled.model_copy(update={"text": "mlU/L"}), "mU/L")  # a letter lost: not taken
    assert is_printed_unit("10^12/l") and is_printed_unit("U/L") and not is_printed_unit("UL") and not is_printed_unit("gd")


@pytest.mark.parametrize(
    ("value", "rng", "parts"),
    [
        ("23B", "[35-105]", ["23", "B"]),  # "bas" glued to a value below its range: a flag
        ("8,1B", "[12,0-22,0]", ["8,1", "B"]),
        ("23B", "[10-20]", ["23B"]),  # above the range: "B" may be a misread 8 (238), the word stays
        ("4B", "", ["4B"]),  # no range to agree with
    ],
)
def test_one_letter_flag_glued_to_the_value_is_split_when_the_range_agrees(value: str, rng: str, parts: list[str]) -> None:
    from extractors.results import _split_letter_flag

    (w,) = _ocr_words([(value, 200, 200 + 5 * len(value))])
    assert [p.text for p in _split_letter_flag(w, rng, True)] == parts


def test_row_with_a_glued_bas_flag_is_read_in_both_table_paths() -> None:
    from extractors.layout import group_lines
    from extractors.results import _fields_by_tokens, _text, _to_raw

    (line,) = group_lines(_ocr_words([("Lipase", 40, 65), ("4B", 200, 210), ("U/L", 250, 262), ("[13-60]", 300, 330)]))
    f = _fields_by_tokens(line, True)
    assert _text(f.value) == "4" and _text(f.unit) == "U/L"
    raw = _to_raw(f, 0, None, "fr", True)
    assert raw is not None and raw.value.text == "4" and raw.flag is not None and raw.flag.text == "B"


def test_glued_bas_flag_in_the_value_column_is_split_against_the_range_column() -> None:
    from extractors.results import Fields, _to_raw

    label, value, unit, rng = _ocr_words([("Lipase", 40, 65), ("4B", 200, 210), ("U/L", 250, 262), ("[13-60]", 300, 330)])
    raw = _to_raw(Fields(label=[label], value=[value], unit=[unit], range=[rng]), 0, None, "fr", True)
    assert raw is not None and (raw.value.text, raw.flag.text if raw.flag else None) == ("4", "B")


@pytest.mark.parametrize(("text", "role"), [("Value’", "value"), ("‘Flag", "flag"), ("“Unit”", "unit"), ("Résultat’ / ‘Ergebnis", "value")])
def test_header_word_with_a_speck_read_as_a_quote_mark_keeps_its_role(text: str, role: str) -> None:
    from extractors.results import _header_role

    assert _header_role(text) == role


def test_comment_sentence_with_two_header_words_is_not_a_table_header() -> None:
    # "Result confirmed on repeat analysis" under a result row: "Result" (value) and
    # "analysis" (label) in the wrong order; taken as a header it swallowed the rest of the table
    from extractors.layout import group_lines
    from extractors.results import detect_header

    sentence = _ocr_words([("Result", 67.17, 92.0), ("confirmed", 103.88, 145.0), ("on", 156.42, 165.0), ("repeat", 170.0, 200.0),
                           ("analysis", 208.96, 240.0)])
    (line,) = group_lines(sentence)
    assert detect_header(line, None) is None
    header = _ocr_words([("Investigation", 53.74, 105.0), ("Result", 213.51, 240.0), ("Abn.", 260.53, 278.0), ("Ref.", 298.68, 315.0),
                         ("interval", 318.0, 350.0), ("Unit", 390.56, 408.0)])
    (line,) = group_lines(header)
    cols = detect_header(line, None)
    assert cols is not None and [c.role for c in cols.cols] == ["label", "value", "flag", "range", "unit"]


@pytest.fixture(scope="module")
def name_page(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A patient name in 9-pt Helvetica with a box's edge just left of it."""
    texts = (("Patient", 60.0), ("Wagner, Katharina", 300.0))
    return _ocr_strip(tmp_path_factory.mktemp("reread") / "name.pdf", "Helvetica", texts, rule_x=296.0)


@pytest.mark.parametrize(
    ("printed", "misread", "confidence"),
    [
        ("Katharina", "VREHArIRB", 0.0),  # a long name garbled in its line (photo), read at confidence 0
        ("Wagner,", "Wbgnar,", 0.1),  # alone, its crop takes in the box's edge: "| Wagner," is the name
    ],
)
def test_long_doubtful_word_is_read_again_alone(name_page, printed: str, misread: str, confidence: float) -> None:  # type: ignore[no-untyped-def]
    image, page, scale = name_page
    word = next(w for w in page.words if w.text == printed)
    wrong = word.model_copy(update={"text": misread, "confidence": confidence})
    fixed = reread_doubtful_words(engine("deu"), image, tuple(wrong if w is word else w for w in page.words), scale, scale)
    assert next(w for w in fixed if w.bbox == word.bbox).text == printed


@pytest.mark.parametrize(
    ("old", "new", "kept"),
    [
        ("Prélevé", "Prélové", True),  # the page pass was right, only unsure: a known key word
        ("Francois", "Frangois", True),  # a given name
        ("Hamoglobin", "Hämoglobin", False),  # towards the vocabulary
        ("VREHArIRB", "Katharina", False),  # garbage is no word to keep
    ],
)
def test_a_known_word_is_not_traded_for_an_unknown_one(old: str, new: str, kept: bool) -> None:
    from extractors.ocr import _leaves_the_vocabulary

    assert _leaves_the_vocabulary(old, new) is kept


@pytest.mark.parametrize(
    ("old", "cell", "confidence", "number"),
    [
        ("15,91", "15,9 1", 0.72, "15,9"),  # "15,9 ↑" on a photo: the arrow glued as a 1, apart in its cell
        ("30,84", "30,8 }", 0.78, "30,8"),  # "30,8 ↓"
        ("351", "35 1", 0.79, "35"),
        ("15,91", "15,9 1", 0.5, None),  # an unsure cell reading does not split
        ("15,91", "15,91", 0.94, None),  # no gap in the cell either: one number
        ("1234", "1 234", 0.9, None),  # a thousands group is no mark
        ("15,91", "15,9 7", 0.9, None),  # a 7 is no mark OCR makes of an arrow
    ],
)
def test_glyph_glued_to_a_number_is_a_mark_when_its_cell_shows_a_gap(old: str, cell: str, confidence: float, number: str | None) -> None:
    from extractors.ocr import number_before_mark

    assert number_before_mark(old, cell, confidence) == number


@pytest.mark.parametrize(
    ("old", "cell", "confidence", "parts"),
    [
        ("1149", "1 14,9", 0.79, ("1", "14,9")),  # "↑ 14,9": the arrow glued as a 1 and the comma lost
        ("1124", "1 12,4", 0.68, ("1", "12,4")),
        ("4124", "4 12.4", 0.7, ("4", "12.4")),
        ("1124", "1 12,4", 0.5, None),  # an unsure cell reading does not split
        ("1125", "1 12,4", 0.9, None),  # the digits disagree with the page pass's
        ("4250", "4 250,0", 0.9, None),  # three digits after the gap: a thousands group, maybe
        ("1124", "11,24", 0.9, None),  # no gap in the cell
    ],
)
def test_digit_apart_before_a_decimal_number_in_its_cell_is_kept_apart(
    old: str, cell: str, confidence: float, parts: tuple[str, str] | None
) -> None:
    from extractors.ocr import mark_then_number

    m = mark_then_number(old, cell, confidence)
    assert (m["before"], m["n1"]) == parts if parts else m is None


@pytest.mark.parametrize(
    ("value", "rng", "mapped", "interpretation"),
    [
        ("8l", "<115", 81.0, "N"),  # a 1 read as l, split off as a low flag: 8 is not below the range
        ("12l", "5 - 150", 121.0, "N"),
        ("2,1l", "3,5 - 5,1", 2.1, "L"),  # below the range: the glued l is the low flag
    ],
)
def test_glued_lower_case_l_is_a_low_flag_only_when_the_range_agrees(value: str, rng: str, mapped: float, interpretation: str) -> None:
    from extractors.layout import group_lines
    from extractors.results import _fields_by_tokens, _to_raw

    (line,) = group_lines(_ocr_words([("Kalium", 40, 65), (value, 200, 210), ("mmol/l", 250, 275), (rng, 300, 330)]))
    raw = _to_raw(_fields_by_tokens(line, True), 0, None, "de", True)
    assert raw is not None
    r = map_result(raw, DE)
    assert (r.value, r.interpretation) == (mapped, interpretation)
    if mapped != float(raw.value.text.replace(",", ".")):
        assert "value-repaired" in r.notes and r.review_status == "needs-review"



@pytest.mark.parametrize("glyph", ["<", ">", "≤"])
def test_comparator_boxed_apart_from_its_number_stays_with_it(glyph: str) -> None:
    """"< 0.5": tesseract boxes the short glyph alone, a word space from its number; it was
    dropped as a stray mark and "0.5" auto-accepted (fresh seed 20261226, CRP and D-dimer)."""
    from extractors.layout import group_lines
    from extractors.results import _fields_by_tokens, _to_raw

    (line,) = group_lines(_ocr_words([("CRP", 40, 58), (glyph, 187, 192), ("0.5", 199, 210), ("mg/L", 250, 270), ("<", 300, 305), ("5.0", 309, 320)]))
    raw = _to_raw(_fields_by_tokens(line, False), 0, None, "en", False)
    assert raw is not None and raw.value.text.replace(" ", "") == f"{glyph}0.5"


def test_lower_case_l_before_a_number_is_not_its_last_digit() -> None:
    from extractors.layout import group_lines
    from extractors.results import _fields_by_tokens, _to_raw

    # "Vitesse de sédimentation  l 18  mm/lh  <20": a stray l before the value, not glued after it
    (line,) = group_lines(_ocr_words([("VS", 40, 55), ("l", 190, 193), ("18", 200, 210), ("mm/h", 250, 270), ("<20", 300, 315)]))
    raw = _to_raw(_fields_by_tokens(line, True), 0, None, "fr", True)
    assert raw is not None and map_result(raw, DE).value == 18.0


def _blocks(widths_gaps: list[tuple[int, int]], height: int = 30) -> tuple[np.ndarray, int]:
    """A white strip with black blocks (glyphs) of the given widths, each followed by the
    given gap: (image, width)."""
    total = 10 + sum(w + g for w, g in widths_gaps)
    img = np.full((height + 10, total + 10), 255, np.uint8)
    x = 10
    for w, g in widths_gaps:
        img[5 : 5 + height, x : x + w] = 0
        x += w + g
    return img, x


@pytest.mark.parametrize(
    ("text", "widths_gaps", "parts"),
    [
        ("1162", [(12, 24), (10, 5), (14, 5), (14, 0)], ["1", "162"]),  # a word space after the first glyph: a mark
        ("1162", [(12, 5), (10, 5), (14, 5), (14, 0)], ["1162"]),  # digits set evenly: one number
        ("1162", [(12, 24), (10, 5), (28, 0)], ["1162"]),  # two glyphs touch: runs and characters disagree, left alone
        ("16,4", [(12, 12), (14, 4), (4, 4), (14, 0)], ["16,4"]),  # gap under half the ink's height: one number
    ],
)
def test_first_glyph_set_apart_from_a_number_is_split_off(text: str, widths_gaps: list[tuple[int, int]], parts: list[str]) -> None:
    from extractors.ocr import split_marked_numbers

    img, right = _blocks(widths_gaps)
    word = Word(text=text, bbox=BBox(x0=8, top=4, x1=right + 1, bottom=36), page=1, font_size=32, confidence=0.9, source=WordSource.OCR)
    out = split_marked_numbers(img, (word,), 1.0, 1.0)
    assert [w.text for w in out] == parts
    if len(out) == 2:
        assert out[0].bbox.x1 <= 10 + 12 + 1 and out[1].bbox.x0 >= 10 + 12 + 24 - 1  # boxes cut in the gap
    text_layer = word.model_copy(update={"source": WordSource.TEXT})
    assert split_marked_numbers(img, (text_layer,), 1.0, 1.0) == (text_layer,)  # text-layer words are never cut


@pytest.mark.parametrize(
    ("point_top", "parts"),
    [
        (24, ["1", "117"]),  # "↑ 11,7" read "1117": the comma is a glyph, not a character; the mark is set apart
        (5, ["1117"]),  # the narrow glyph stands as tall as a digit: a character lost, left alone
    ],
)
def test_mark_set_apart_from_a_number_whose_decimal_comma_was_lost(point_top: int, parts: list[str]) -> None:
    from extractors.ocr import split_marked_numbers

    img, right = _blocks([(12, 24), (10, 5), (10, 3), (4, 3), (14, 0)])
    x_point = 10 + 12 + 24 + 10 + 5 + 10 + 3
    img[5 : 5 + 30, x_point : x_point + 4] = 255
    img[5 + point_top : 5 + point_top + 8, x_point : x_point + 4] = 0  # a comma: 4 wide, 8 tall
    word = Word(text="1117", bbox=BBox(x0=8, top=4, x1=right + 1, bottom=44), page=1, font_size=32, confidence=0.46, source=WordSource.OCR)
    assert [w.text for w in split_marked_numbers(img, (word,), 1.0, 1.0)] == parts


@pytest.mark.parametrize(
    ("mark", "number", "gap", "rng", "value", "doubted"),
    [
        ("1", "162", 3.0, "70-120", "162", True),  # "↑ 162": 162 is nearer the range than 1162; both read, so doubted
        ("1", "162", 12.0, "70-120", "162", False),  # set far apart: no thousands space, no doubt
        ("3", "48000", 3.0, "150000-400000", "48000", False),  # "↓ 48000": "3 48000" is no number
        ("1", "500", 3.0, "4 000 - 10 000", "1 500", False),  # 1500 is nearer the range: a thousands space
        ("1", "250", 3.0, "150 - 400", "1 250", False),  # 250 inside the range: no mark belongs before it
        ("1", "162", 3.0, "", "1 162", False),  # no range to weigh the readings
    ],
)
def test_digit_set_apart_before_a_value_is_a_mark_when_the_range_says_so(
    mark: str, number: str, gap: float, rng: str, value: str, doubted: bool
) -> None:
    from extractors.results import MARK_DOUBT, _mark_before_number

    words = _ocr_words([(mark, 250.0, 254.0), (number, 254.0 + gap, 254.0 + gap + 5 * len(number))])
    out = _mark_before_number(words, rng, True)
    assert " ".join(w.text for w in out) == value
    assert (out[-1].confidence <= MARK_DOUBT) is doubted


def test_arrow_printed_before_a_value_does_not_become_its_first_digit(tmp_path: Path) -> None:
    from seeds._render import font_family

    family = font_family("DejaVuSerif")
    texts = (("Quick", 60.0), ("↑ 162", 300.0), ("%", 360.0), ("70-120", 460.0))
    _, page, _ = _ocr_strip(tmp_path / "arrow.pdf", family.regular, texts)
    numbers = [w.text for w in page.words if any(ch.isdigit() for ch in w.text)]
    assert "162" in numbers and "1162" not in numbers


def test_count_unit_read_as_digits_in_the_row_is_read_again_as_the_unit(tmp_path: Path) -> None:
    from extractors.ocr import _POWER_UNIT_READ

    texts = (("Leukozyten", 60.0), ("10,9", 300.0), ("10^9/L", 360.0), ("4,0 - 10,0", 460.0))
    image, page, scale = _ocr_strip(tmp_path / "power.pdf", "Helvetica", texts)
    unit = next(w for w in page.words if w.bbox.x0 > 350 and w.bbox.x1 < 420)
    garbled = unit.model_copy(update={"text": "1092", "confidence": 0.45})  # as the long row read it on a scan
    words = tuple(garbled if w is unit else w for w in page.words)
    again = reread_doubtful_words(engine("deu"), image, words, scale, scale)
    read = next(w for w in again if w.bbox == unit.bbox)
    assert _POWER_UNIT_READ.match(read.text) or read.text == "10^9/L"
    fixed = repair_unit(read.text, component_units("wbc"))
    assert fixed is not None and fixed.ucum == "10*9/L"
    assert not _POWER_UNIT_READ.match("10,5/L") and not _POWER_UNIT_READ.match("1092")


@pytest.mark.parametrize(
    ("rng", "value", "flag", "low", "high"),
    [
        ("= 200", 159.0, None, None, 200.0),  # unflagged below the bound: an upper limit ("≤ 200")
        ("=10", 12.0, None, 10.0, None),  # unflagged above it: a lower limit ("≥ 10", an antibody titre)
        ("= 1,70", 4.85, "H", None, 1.7),  # flagged high above it: an upper limit it exceeds
        ("=10", 8.0, "L", 10.0, None),  # flagged low below it: a lower limit it falls short of
        ("= 0,30", 0.33, "*", None, 0.3),  # marked abnormal, no direction: the side it lies outside
        ("= 1,70", 1.2, "H", None, None),  # flagged high below the bound: no side agrees
        ("< 200", 159.0, None, None, None),  # a comparator that was read: not this repair's business
    ],
)
def test_bound_whose_comparator_was_read_as_equals_takes_the_side_the_flag_agrees_with(
    rng: str, value: float, flag: str | None, low: float | None, high: float | None
) -> None:
    from extractors.values import parse_flag
    from mappers.ocr_repair import misread_bound

    found = misread_bound(rng, value, parse_flag(flag) if flag else None, True)
    assert ((found.low, found.high) if found else (None, None)) == (low, high)
    if found is not None:
        assert found.text == rng


def test_ocr_row_with_a_misread_upper_bound_is_interpreted_and_sent_to_review() -> None:
    r = map_result(RawResult(index=0, label=_ocr("Gesamtcholesterin"), value=_ocr("159"), unit=_ocr("mg/dl"), range=_ocr("= 200")), DE)
    assert (r.ref_low, r.ref_high, r.interpretation) == (None, 200.0, "N") and "range-repaired" in r.notes
    assert r.confidence < 0.9


@pytest.mark.parametrize(
    ("printed", "low", "high"),
    [
        ("s 150", None, 150.0),  # "≤" read as "s"
        ("s< 35", None, 35.0),
        ("<I4", None, 14.0),  # a 1 read as a letter inside the bound
        ("0,00-0,50 Inl", 0.0, 0.5),  # the unit after the range read as garbage
        ("(7.5-11.5) £l", 7.5, 11.5),
        ("2.0 -4,0 4", 2.0, 4.0),
        ("12,8-7,21", 2.8, 7.2),  # both brackets read as 1
        ("150 bis 100", None, None),  # a bound misread: nothing safe to make of it
        ("NM: <190 / W: <170 UL", None, None),  # a sex key misread: no bounds invented
        ("12,0-16,0 124", 12.0, 16.0),  # a short token after the range, whatever it was
        ("0,5-1,0 G/L", 0.5, 1.0),
        ("0,5-1,0 x y z", None, None),  # three tokens after it: a sentence, not a unit; nothing dropped
        ("4,00 5,20", 4.0, 5.2),  # the dash lost
        ("[8,6 10,2]", 8.6, 10.2),
        ("30 400", None, None),  # may be 30 400: left
        ("1,00 400", None, None),  # printed unlike (a decimal comma lost too): no guess
        ("150 000", None, None),  # a thousands group, not a range
        ("2 1,30", None, None),  # "≥ 1,30" with its sign read as 2
    ],
)
def test_misread_ocr_range_is_repaired_only_into_a_proper_range(printed: str, low: float | None, high: float | None) -> None:
    from mappers.ocr_repair import repair_range

    found = repair_range(printed, True, "female")
    assert ((found.low, found.high) if found else (None, None)) == (low, high)


@pytest.mark.parametrize(("texts", "value", "unit"), [(["37,5%"], "37,5", "%"), (["<0,5%"], "<0,5", "%"), (["37,5", "%"], "37,5", "%")])
def test_percent_sign_glued_to_the_value_is_its_unit(texts: list[str], value: str, unit: str) -> None:
    from extractors.results import _split_value_zone

    words, x = [], 250.0
    for t in texts:
        words.append(Word(text=t, bbox=BBox(x0=x, top=100, x1=x + 5 * len(t), bottom=109), page=1, font_size=9, confidence=0.9, source=WordSource.OCR))
        x += 5 * len(t) + 3
    v, flags, units = _split_value_zone(words, True)
    assert (" ".join(w.text for w in v), [w.text for w in units], flags) == (value, [unit], [])


def test_a_word_read_as_garbage_is_replaced_by_its_cell_read_surely_even_with_fewer_letters() -> None:
    # "Gender:   F" read in the long line as "iE" at 0.03; alone, the cell reads "F" surely
    from PIL import Image, ImageDraw, ImageFont

    scale = 300 / 72
    pil = Image.new("L", (1400, 140), 255)
    d = ImageDraw.Draw(pil)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 36)
    boxes = {}
    for text, x in (("Gender:", 40), ("F", 400), ("8,1", 700), ("U", 900)):
        d.text((x, 50), text, fill=0, font=font)
        x0, y0, x1, y1 = d.textbbox((x, 50), text, font=font)
        boxes[text] = BBox(x0=x0 / scale, top=y0 / scale, x1=x1 / scale, bottom=y1 / scale)

    def word(text: str, at: str, conf: float) -> Word:
        return Word(text=text, bbox=boxes[at], page=1, confidence=conf, source=WordSource.OCR)

    eng = engine("eng")
    words = (word("Gender:", "Gender:", 0.96), word("iE", "F", 0.03), word("8,1", "8,1", 0.96), word("Ul!", "U", 0.05))
    out = reread_doubtful_words(eng, pil, words, scale, scale)
    assert out[1].text == "F" and out[1].confidence >= 0.85
    assert out[3].text == "Ul!"  # where a unit is printed, a cell never reads fewer letters than the line did
    unsure = (words[0], word("iE", "F", 0.3), *words[2:])
    assert reread_doubtful_words(eng, pil, unsure, scale, scale)[1].text == "iE"  # not garbage: the letters count again
