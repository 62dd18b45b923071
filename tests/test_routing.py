"""Routing: text layer vs OCR, on reportlab-drawn PDFs and on plain char statistics."""

from __future__ import annotations

import io
from pathlib import Path

import pdfplumber
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from extractors.routing import TextStats, decide_route, image_area_fraction, route_pdfplumber_page, text_stats
from models import WordSource
from ocr_fixtures import draw_report

W, H = A4


def _page_image(text_lines: int = 20) -> ImageReader:
    img = Image.new("L", (int(W * 100 / 72), int(H * 100 / 72)), 245)
    d = ImageDraw.Draw(img)
    for i in range(text_lines):
        d.text((80, 100 + 40 * i), f"Resultat {i} mg/dl 12,{i}", fill=20)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    buf.seek(0)
    return ImageReader(buf)


def _route(path: Path) -> tuple[str, WordSource, float]:
    with pdfplumber.open(path) as pdf:
        d = route_pdfplumber_page(pdf.pages[0])
    return d.reason, d.source, d.text_quality


def test_digital_report_uses_text_layer(tmp_path: Path) -> None:
    pdf = draw_report(tmp_path / "text.pdf").path
    reason, source, quality = _route(pdf)
    assert (reason, source) == ("text-layer-ok", WordSource.TEXT)
    assert quality > 0.8


def test_image_only_page_goes_to_ocr(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    c.drawImage(_page_image(), 0, 0, W, H)
    c.save()
    assert _route(path)[:2] == ("no-text-layer", WordSource.OCR)


def test_footer_text_over_full_page_image_goes_to_ocr(tmp_path: Path) -> None:
    path = tmp_path / "stamped.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    c.drawImage(_page_image(), 0, 0, W, H)
    c.setFont("Helvetica", 7)
    c.drawString(40, 20, "Scanned 2024-03-02 page 1/2")
    c.save()
    assert _route(path)[:2] == ("sparse-text-over-image", WordSource.OCR)


def test_short_text_page_without_image_keeps_text_layer(tmp_path: Path) -> None:
    path = tmp_path / "short.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    c.drawString(72, 700, "Fin du compte rendu - valide par le biologiste")
    c.save()
    assert _route(path)[:2] == ("text-layer-ok", WordSource.TEXT)


def test_symbol_soup_text_layer_goes_to_ocr(tmp_path: Path) -> None:
    path = tmp_path / "garbage.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont("Helvetica", 10)
    for i in range(30):
        c.drawString(60, 780 - 20 * i, "¤¶§ ¬±× ÷¦© ®°µ ¤¶ §¬±×÷ ¦©®° 1")
    c.save()
    reason, source, quality = _route(path)
    assert (reason, source) == ("garbage-text-layer", WordSource.OCR)
    assert quality < 0.5


def _chars(texts: list[str]) -> list[dict[str, object]]:
    return [{"text": t, "x0": 10.0 * i, "x1": 10.0 * i + 9.5, "top": 100.0, "size": 10.0} for i, t in enumerate(texts)]


@pytest.mark.parametrize(
    "glyphs",
    [
        ["(cid:12)"] * 60 + list("Sodium 140"),  # unmapped CID glyphs
        ["\ufffd"] * 50 + list("Kalium 4,1"),  # replacement characters
        ["\ue001", "\ue002", "\ue003"] * 30 + list("TSH"),  # private use area
    ],
)
def test_undecodable_glyphs_are_garbage(glyphs: list[str]) -> None:
    d = decide_route(_chars(glyphs), W, H, 0.0)
    assert (d.source, d.reason) == (WordSource.OCR, "garbage-text-layer")


def test_absurdly_long_words_are_garbage() -> None:
    glyphs = list("Hemoglobinehematocriteleucocytesplaquettesglucosecreatininepotassium" * 3)
    assert decide_route(_chars(glyphs), W, H, 0.0).reason == "garbage-text-layer"


def test_consonant_soup_is_garbage() -> None:
    soup = list("Xkcd Brrt Pqst Nmfk Trvx Hglm Stzk Wrdk " * 5)
    assert decide_route(_chars(soup), W, H, 0.0).reason == "garbage-text-layer"


def test_abbreviation_heavy_lab_text_is_not_garbage() -> None:
    text = "TSH 2,30 mUI/l GGT 25 U/l ALAT 31 U/l HDL 1,2 mmol/l LDL 2,9 mmol/l CRP < 5 mg/l " * 3
    d = decide_route(_chars(list(text)), W, H, 0.0)
    assert d.source is WordSource.TEXT


def test_image_area_fraction_counts_overlaps_once() -> None:
    half = (0.0, 0.0, W, H / 2)
    assert image_area_fraction([half, half], W, H) == pytest.approx(0.5, abs=0.01)
    assert image_area_fraction([(-50.0, -50.0, W + 50, H + 50)], W, H) == pytest.approx(1.0)
    assert image_area_fraction([], W, H) == 0.0


box = st.tuples(
    st.floats(-100, 700), st.floats(-100, 900), st.floats(-100, 700), st.floats(-100, 900)
)


@given(st.lists(box, max_size=6), box)
@settings(max_examples=60, deadline=None)
def test_image_fraction_is_bounded_and_monotone(boxes: list[tuple[float, float, float, float]], extra: tuple[float, float, float, float]) -> None:
    f = image_area_fraction(boxes, W, H)
    assert 0.0 <= f <= 1.0
    assert image_area_fraction([*boxes, extra], W, H) >= f


@given(st.lists(st.text(min_size=1, max_size=1), max_size=300), st.floats(0, 1))
@settings(max_examples=100, deadline=None)
def test_quality_in_unit_interval_and_empty_means_ocr(texts: list[str], img_frac: float) -> None:
    stats = text_stats(_chars(texts))
    d = decide_route(stats, W, H, img_frac)
    assert 0.0 <= d.text_quality <= 1.0
    if stats.printable == 0:
        assert d.source is WordSource.OCR and d.reason == "no-text-layer"
    if d.source is WordSource.TEXT:
        assert d.reason == "text-layer-ok"


def test_stats_accept_precomputed() -> None:
    assert decide_route(TextStats(), W, H, 1.0).reason == "no-text-layer"


def test_later_ocr_pages_are_offered_the_first_pages_language_and_turn(tmp_path: Path) -> None:
    from extractors.document import OcrHint, extract_document
    from models import BBox, Page, Word

    path = tmp_path / "three.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    for _ in range(3):
        c.drawImage(_page_image(), 0, 0, W, H)
        c.showPage()
    c.save()
    seen: list[OcrHint] = []

    def ocr(_: Path, index: int, hint: OcrHint, reason: str) -> Page:
        seen.append(hint)
        words = () if index == 0 else (Word(text="Hämoglobin", bbox=BBox(x0=1, top=1, x1=9, bottom=5), page=index + 1, confidence=0.9, source=WordSource.OCR),)
        return Page(number=index + 1, width=W, height=H, words=words, source=WordSource.OCR, route_reason=reason, rotation=180, quality=0.9)

    doc = extract_document(path, ocr=ocr)
    assert [p.rotation for p in doc.pages] == [180, 180, 180]
    # a blank first page teaches nothing; the first page with words sets language and turn
    assert seen[0] == OcrHint() and seen[1] == OcrHint()
    assert seen[2].rotation == 180 and seen[2].lang is not None
