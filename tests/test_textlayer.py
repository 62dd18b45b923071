"""Text layer: characters -> words (one test per rule), on PDFs drawn by ``pdfkit``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pdfplumber
import pytest

from conftest import extract
from pdfkit import PageSpec, Rule, Text
from extractors.textlayer import horizontal_rulings, page_words
from models import Word


def words_of(path: Path, page: int = 0) -> list[Word]:
    with pdfplumber.open(path) as pdf:
        return list(page_words(pdf.pages[page].chars, page + 1))


def texts(words: list[Word]) -> list[str]:
    return [w.text for w in words]


@pytest.mark.parametrize("seed", range(6))
def test_words_from_per_glyph_objects_with_uneven_advances_and_no_spaces(save: Callable[..., Path], seed: int) -> None:
    # every glyph its own text object, advances jittered by up to 0.08 em, no space glyphs
    line = "Hémoglobine glyquée HbA1c 6,1 % 4,0 - 6,0"
    path = save([PageSpec([Text(50, 100, line, glyph_jitter=0.08, space_em=0.25, seed=seed)])])
    with pdfplumber.open(path) as pdf:
        assert not any(c["text"] == " " for c in pdf.pages[0].chars)  # really no space objects
    assert texts(words_of(path)) == line.split()


@pytest.mark.parametrize("font", ["Courier", "Helvetica", "Times-Roman"])
@pytest.mark.parametrize("per_glyph", [False, True])
def test_word_spacing_in_monospace_and_proportional_fonts(save: Callable[..., Path], font: str, per_glyph: bool) -> None:
    # Courier glyph boxes touch (0.6 em advance = box width) and a space is 0.6 em;
    # Helvetica/Times spaces are ~0.25 em. Both must split at spaces and nowhere else.
    line = "Glucose à jeun 5,4 mmol/l"
    space = 0.6 if font == "Courier" else 0.26
    item = Text(50, 100, line, font=font, glyph_jitter=0.0 if per_glyph else None, space_em=space)
    assert texts(words_of(save([PageSpec([item])]))) == line.split()


def test_courier_table_columns_stay_separate_words(save: Callable[..., Path]) -> None:
    # fixed-pitch reports pad columns with runs of spaces
    line = "Sodium          141   mmol/l    136-145"
    words = words_of(save([PageSpec([Text(40, 100, line, font="Courier")])]))
    assert texts(words) == ["Sodium", "141", "mmol/l", "136-145"]


def test_overprinted_fake_bold_is_one_bold_word(save: Callable[..., Path]) -> None:
    page = PageSpec([
        Text(50, 100, "Leucocytes"),
        Text(200, 100, "13,2", overprint=0.4),  # drawn twice, 0.4 pt apart
        Text(260, 100, "G/l"),
    ])
    words = words_of(save([page]))
    assert texts(words) == ["Leucocytes", "13,2", "G/l"]
    bold = {w.text: w.bold for w in words}
    assert bold == {"Leucocytes": False, "13,2": True, "G/l": False}


def test_overprinted_word_box_is_not_doubled(save: Callable[..., Path]) -> None:
    path = save([PageSpec([Text(50, 100, "Ferritine", overprint=0.4), Text(50, 130, "Ferritine")])])
    fake, plain = words_of(path)
    assert fake.bbox.width == pytest.approx(plain.bbox.width, abs=0.5)


@pytest.mark.parametrize(
    ("font", "bold"),
    [
        ("Helvetica-Bold", True),
        ("Times-Bold", True),
        ("Courier-Bold", True),
        ("Helvetica-BoldOblique", True),
        ("Helvetica", False),
        ("Helvetica-Oblique", False),
        ("Times-Italic", False),
        ("DejaVuSans-Bold", True),  # embedded subset: "AAAAAA+DejaVuSans-Bold"
    ],
)
def test_bold_from_font_name(save: Callable[..., Path], font: str, bold: bool) -> None:
    (w,) = words_of(save([PageSpec([Text(50, 100, "Kreatinin", font=font)])]))
    assert w.text == "Kreatinin"
    assert w.bold is bold


def test_bold_word_among_regular_words(save: Callable[..., Path]) -> None:
    page = PageSpec([Text(50, 100, "Potassium"), Text(200, 100, "5,9", font="Helvetica-Bold"), Text(250, 100, "mmol/l")])
    words = words_of(save([page]))
    assert [w.bold for w in words] == [False, True, False]


@pytest.mark.parametrize("angle", [90, 270, 45])  # 45: pdfminer calls it "upright"
def test_rotated_text_is_ignored(save: Callable[..., Path], angle: float) -> None:
    # margin notes and watermarks printed sideways are not part of the report's text
    page = PageSpec([Text(50, 100, "Sodium 141 mmol/l"), Text(560, 600, "DOCUMENT CONFIDENTIEL", angle=angle)])
    assert texts(words_of(save([page]))) == ["Sodium", "141", "mmol/l"]


def test_non_latin1_glyphs_survive(save: Callable[..., Path]) -> None:
    page = PageSpec([Text(50, 100, "DFG 58 mL/min/1,73 m² ↓", font="DejaVuSans")])
    assert texts(words_of(save([page]))) == ["DFG", "58", "mL/min/1,73", "m²", "↓"]


def test_word_boxes_use_top_left_origin(save: Callable[..., Path]) -> None:
    # baseline 100 pt below the top edge, 10 pt type
    (w,) = words_of(save([PageSpec([Text(50, 100, "Natrium", size=10)])]))
    assert w.bbox.x0 == pytest.approx(50, abs=0.5)
    assert 88 < w.bbox.top < 100 < w.bbox.bottom < 104
    assert w.font_size == pytest.approx(10)
    assert w.page == 1


def test_lines_are_separated_even_when_close(save: Callable[..., Path]) -> None:
    # 11 pt leading with 10 pt type: two lines, not one
    page = PageSpec([Text(50, 100, "Sodium 141"), Text(50, 111, "Potassium 4,1")])
    words = words_of(save([page]))
    tops = sorted({round(w.bbox.top) for w in words})
    assert len(tops) == 2
    assert [w.text for w in words if round(w.bbox.top) == tops[0]] == ["Sodium", "141"]


def test_horizontal_rulings_found(save: Callable[..., Path]) -> None:
    page = PageSpec([Text(50, 100, "Analyse"), Rule(105.0), Rule(300.0, x0=40, x1=60)])  # second is too short
    path = save([page])
    with pdfplumber.open(path) as pdf:
        ys = horizontal_rulings(pdf.pages[0])
    assert any(abs(y - 105.0) < 1.0 for y in ys)
    assert not any(abs(y - 300.0) < 1.0 for y in ys)


def test_extract_document_keeps_page_sizes_and_words(save: Callable[..., Path]) -> None:
    p1 = PageSpec([Text(50, 100, "Seite eins")])
    p2 = PageSpec([Text(50, 100, "Seite zwei")], size=(842.0, 595.0))  # landscape
    doc = extract(save([p1, p2]))
    assert [(p.number, round(p.width), round(p.height)) for p in doc.pages] == [(1, 595, 842), (2, 842, 595)]
    assert [w.text for w in doc.pages[1].words] == ["Seite", "zwei"]
    assert all(w.page == 2 for w in doc.pages[1].words)
    assert doc.source.page_count == 2
