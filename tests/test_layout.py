"""Layout: lines, cells, repeated page headers/footers (one test per rule)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import extract
from pdfkit import ReportBuilder, text_width
from extractors.layout import furniture_lines, group_lines, split_cells
from extractors.parse import document_lines
from models import BBox, Line, Word


def word(text: str, x: float, baseline: float, size: float = 10.0, page: int = 1, font: str = "Helvetica") -> Word:
    """A word as the text layer would box it: top = baseline - 0.8 em, bottom = baseline + 0.2 em."""
    return Word(
        text=text,
        bbox=BBox(x0=x, top=baseline - 0.8 * size, x1=x + text_width(text, font, size), bottom=baseline + 0.2 * size),
        page=page,
        font_size=size,
    )


def phrase(text: str, x: float, baseline: float, size: float = 10.0, page: int = 1) -> list[Word]:
    """Words of ``text`` set with normal spaces starting at x."""
    out, space = [], text_width(" ", "Helvetica", size)
    for t in text.split():
        out.append(word(t, x, baseline, size, page))
        x = out[-1].bbox.x1 + space
    return out


# ------------------------------------------------------------------ lines


def test_words_with_slightly_different_baselines_form_one_line() -> None:
    # a label at 10 pt, the value 1.5 pt lower in 9 pt, a flag 1 pt higher in bold 8 pt
    ws = [word("Ferritine", 40, 200.0), word("12", 230, 201.5, size=9), word("L", 300, 199.0, size=8)]
    lines = group_lines(ws)
    assert len(lines) == 1
    assert lines[0].text == "Ferritine 12 L"


def test_lines_are_ordered_top_to_bottom_and_words_left_to_right() -> None:
    ws = [word("141", 230, 215), word("Sodium", 40, 215), word("4,1", 230, 200), word("Potassium", 40, 200)]
    lines = group_lines(list(reversed(ws)))
    assert [ln.text for ln in lines] == ["Potassium 4,1", "Sodium 141"]


def test_tight_leading_still_separates_lines() -> None:
    # 10 pt type on 11 pt leading: boxes overlap by 1 pt only
    lines = group_lines([word("Sodium", 40, 200), word("Potassium", 40, 211)])
    assert [ln.text for ln in lines] == ["Sodium", "Potassium"]


def test_same_height_on_two_pages_is_two_lines() -> None:
    lines = group_lines([word("Seite", 40, 100, page=1), word("Seite", 40, 100, page=2)])
    assert [ln.page for ln in lines] == [1, 2]


def test_a_drifting_long_line_does_not_swallow_the_next_line() -> None:
    # the line's extent is fixed by its first glyphs; a gently sloping scan-like line
    # must not grow until it captures the line below
    ws = [word(f"w{i}", 40 + 30 * i, 200 + 0.6 * i) for i in range(12)]
    ws.append(word("next", 40, 214))
    lines = group_lines(ws)
    assert lines[-1].text == "next"


# ------------------------------------------------------------------ cells


def _line(words: list[Word]) -> Line:
    return Line(page=1, words=tuple(words), bbox=BBox.enclosing([w.bbox for w in words]))


def test_cells_split_at_wide_gaps_only() -> None:
    ws = phrase("Glucose à jeun", 40, 200) + phrase("5,4", 230, 200) + phrase("mmol/l", 300, 200) + phrase("3,9 - 5,8", 400, 200)
    cells = [" ".join(w.text for w in c) for c in split_cells(_line(ws))]
    assert cells == ["Glucose à jeun", "5,4", "mmol/l", "3,9 - 5,8"]


def test_value_and_unit_one_space_apart_stay_in_one_cell() -> None:
    ws = phrase("Hémoglobine", 40, 200) + phrase("13,2 g/dl", 230, 200)
    assert [len(c) for c in split_cells(_line(ws))] == [1, 2]


def test_cell_gap_scales_with_font_size() -> None:
    # a 12 pt gap is a column gutter at 8 pt type, an ordinary space-and-a-bit at 16 pt
    small = [word("A", 40, 200, size=8), word("B", 40 + text_width("A", size=8) + 12, 200, size=8)]
    large = [word("A", 40, 200, size=16), word("B", 40 + text_width("A", size=16) + 12, 200, size=16)]
    assert len(split_cells(_line(small))) == 2
    assert len(split_cells(_line(large))) == 1


# ------------------------------------------------------------------ furniture


def _report_pages(n: int, save: Callable[..., Path]) -> Path:
    b = ReportBuilder(
        header=["Laboratoire Central d'Analyses", "Patient : SCHMIT Anne   Dossier 24-0312"],
        footer=["Page {page} / {pages}", "Imprimé le 13/03/2024 à 10:0{page}"],
    )
    for p in range(n):
        if p:
            b.new_page()
        b.cells((40, 230, 320), [f"Analyse numéro {p + 1}", f"{p + 4},{p}", "mmol/l"])
        b.cells((40, 230, 320), ["Sodium", f"14{p}", "mmol/l"])
    return save(b)


def _furniture_texts(path: Path) -> tuple[list[str], list[str]]:
    lines, skip = document_lines(extract(path))
    return [ln.text for i, ln in enumerate(lines) if i in skip], [ln.text for i, ln in enumerate(lines) if i not in skip]


def test_repeated_headers_and_footers_with_changing_numbers_are_furniture(save: Callable[..., Path]) -> None:
    furniture, body = _furniture_texts(_report_pages(3, save))
    assert sum(t.startswith("Page ") for t in furniture) == 3  # 1 / 3, 2 / 3, 3 / 3
    assert sum(t.startswith("Imprimé le") for t in furniture) == 3
    assert sum(t.startswith("Laboratoire Central") for t in furniture) == 3
    assert sum(t.startswith("Patient : SCHMIT") for t in furniture) == 3
    assert not any(t.startswith("Page ") or t.startswith("Imprimé") for t in body)


def test_result_rows_repeated_at_the_same_height_on_every_page_are_not_furniture(save: Callable[..., Path]) -> None:
    furniture, body = _furniture_texts(_report_pages(3, save))
    assert sum(t.startswith("Sodium") for t in body) == 3
    assert not any(t.startswith("Sodium") for t in furniture)


def test_single_page_document_has_no_furniture(save: Callable[..., Path]) -> None:
    furniture, body = _furniture_texts(_report_pages(1, save))
    assert furniture == []
    assert any(t.startswith("Laboratoire Central") for t in body)


def test_a_line_on_one_page_only_is_not_furniture() -> None:
    pages = [
        [_line(phrase("Laboratoire Central", 40, 50, page=p + 1))] + ([_line(phrase("Remarque importante", 40, 70, page=1))] if p == 0 else [])
        for p in range(3)
    ]
    out = furniture_lines(pages, [842.0] * 3)
    assert out == {(0, 0), (1, 0), (2, 0)}


def test_repeated_text_at_a_different_height_is_not_furniture() -> None:
    # the same text in the page's middle band (e.g. a repeated section title) is content
    pages = [[_line(phrase("HÉMATOLOGIE", 40, 300 + 40 * p, page=p + 1))] for p in range(3)]
    assert furniture_lines(pages, [842.0] * 3) == set()


@pytest.mark.parametrize("n", [2, 4])
def test_footer_page_counter_detected_for_any_page_count(n: int) -> None:
    pages = [[_line(phrase(f"Seite {p + 1} von {n}", 40, 810, page=p + 1))] for p in range(n)]
    assert furniture_lines(pages, [842.0] * n) == {(p, 0) for p in range(n)}
