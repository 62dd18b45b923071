"""OCR: real tesseract on small renders of reportlab-drawn lab tables (fictitious data)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pdfplumber
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFont

from extractors.ocr import (
    choose_language,
    detect_ocr_language,
    detect_ocr_language_detailed,
    language_decided,
    erase_rulings,
    find_rulings,
    language_scores,
    ocr_page,
    ocr_pdf_page,
    ocr_pdf_page_detailed,
    retry_turns,
    words_from_tesseract,
)
from extractors.preprocess import (
    Orientation,
    components,
    detect_orientation,
    edge_sharpness,
    estimate_skew,
    flatten_illumination,
    lines_look_vertical,
    percentiles_u8,
    preprocess,
    remove_specks,
    rotate_small,
    smooth_bilevel,
    to_array,
    unsharp,
)
from extractors.render import bilevel_scan, choose_dpi, render_page
from models import BBox, Page, Word, WordSource
from ocr_fixtures import LABELS, DrawnReport, draw_report

DPI = 200
CROP_PT = 420.0  # the drawn table ends above this; OCR only the top of the page (speed)
NUM = re.compile(r"^[<>]?\d+(?:[.,]\d+)?$")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> DrawnReport:
    return draw_report(tmp_path_factory.mktemp("ocr") / "fr.pdf", "fr", seed=5)


@pytest.fixture(scope="module")
def top_image(report: DrawnReport) -> tuple[Image.Image, float]:
    r = render_page(report.path, 0, DPI)
    crop = r.image.crop((0, 0, r.image.width, round(CROP_PT * r.scale)))
    return crop, r.width_pt


@pytest.fixture(scope="module")
def top_page(top_image: tuple[Image.Image, float]) -> Page:
    image, width_pt = top_image
    return ocr_page(image, 1, width_pt, CROP_PT, "fra")


def _iou(a: BBox, b: BBox) -> float:
    ix = max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0))
    iy = max(0.0, min(a.bottom, b.bottom) - max(a.top, b.top))
    inter = ix * iy
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union > 0 else 0.0


def test_render_scale_and_pixel_cap(report: DrawnReport) -> None:
    r = render_page(report.path, 0, 100)
    assert r.image.mode == "L"
    assert r.image.width == pytest.approx(r.width_pt * r.scale, abs=1)
    assert r.scale == pytest.approx(100 / 72)
    assert choose_dpi(595, 842) == 300  # A4 fits in 12 Mpx at 300 dpi
    big = choose_dpi(2384, 3370)  # A0 poster
    assert big < 300 and (2384 * big / 72) * (3370 * big / 72) <= 12_000_000


def test_ocr_words_match_text_layer_boxes(report: DrawnReport, top_image: tuple[Image.Image, float], top_page: Page) -> None:
    page, width_pt = top_page, top_image[1]
    assert page.source is WordSource.OCR and page.width == pytest.approx(width_pt)
    assert all(w.source is WordSource.OCR and 0.0 <= w.confidence <= 1.0 for w in page.words)
    assert 0.5 < page.quality <= 1.0
    with pdfplumber.open(report.path) as pdf:
        truth = [w for w in pdf.pages[0].extract_words() if w["bottom"] < CROP_PT]
    read = boxed = 0
    for t in truth:
        tb = BBox(x0=t["x0"], top=t["top"], x1=t["x1"], bottom=t["bottom"])
        same_line = [w for w in page.words if w.text == t["text"] and abs(w.bbox.ymid - tb.ymid) < 5]
        if same_line:
            read += 1
            boxed += max(_iou(tb, w.bbox) for w in same_line) > 0.5
    assert read >= 0.8 * len(truth)  # words read exactly, on the right line
    assert boxed >= 0.9 * read  # and their boxes overlap the text-layer boxes
    # font size ~ line height in points (the table is set in 10 pt)
    sizes = sorted(w.font_size or 0 for w in page.words)
    assert 7 <= sizes[len(sizes) // 2] <= 14


def test_numbers_read_exactly(report: DrawnReport, top_page: Page) -> None:
    page = top_page
    got = Counter(w.text for w in page.words if NUM.match(w.text))
    want = Counter(report.values)
    assert sum((got & want).values()) >= 0.9 * sum(want.values())


def test_rulings_found_at_drawn_lines(report: DrawnReport, top_image: tuple[Image.Image, float]) -> None:
    image, _ = top_image
    with pdfplumber.open(report.path) as pdf:
        drawn = sorted({round(ln["top"], 1) for ln in pdf.pages[0].lines if ln["top"] < CROP_PT})
    found = find_rulings(to_array(image), DPI / 72).horizontal_y
    assert len(found) == len(drawn)
    assert all(abs(f - d) < 1.5 for f, d in zip(found, drawn))


def test_text_only_image_has_no_rulings() -> None:
    img = Image.new("L", (1600, 400), 255)
    d = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=28)  # ~10 pt at 200 dpi
    for i in range(6):
        d.text((20, 20 + 60 * i), "Cholesterol total Triglycerides Hemoglobine " * 2, fill=0, font=font)
    assert find_rulings(to_array(img), DPI / 72).horizontal_y == ()


def test_broken_rule_erased_but_hyphens_kept() -> None:
    scale = DPI / 72
    img = np.full((300, 1400), 255, np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(img, "12,0 - 16,0", (40, 100), font, 1.0, 0, 2)
    cv2.putText(img, "3,5 - 5,1", (700, 100), font, 1.0, 0, 2)
    for x in range(30, 1350, 37):  # a rule the fax broke into 2-px-high dashes
        img[140:142, x : x + 9] = 0
    rulings = find_rulings(img, scale)
    assert len(rulings.horizontal_y) == 1 and abs(rulings.horizontal_y[0] - 141 / scale) < 1.5
    cleaned = erase_rulings(img, rulings)
    assert (cleaned[135:147] == 255).all()  # dashes gone
    assert np.array_equal(cleaned[60:110], img[60:110])  # text and its hyphens untouched


def _fake_tesseract() -> dict[str, list[object]]:
    rows = [
        # level, block, par, line, word, left, top, width, height, conf, text
        (4, 1, 1, 1, 0, 100, 200, 400, 40, -1, ""),
        (5, 1, 1, 1, 1, 100, 210, 120, 22, 91.5, "Sodium"),
        (5, 1, 1, 1, 2, 300, 200, 60, 30, 88.0, "140"),
        (5, 1, 1, 1, 3, 380, 200, 10, 40, 30.0, "|"),
        (5, 1, 1, 1, 4, 420, 205, 40, 30, -1, "x"),
        (5, 1, 1, 1, 5, 470, 205, 30, 30, 75.0, "   "),
    ]
    keys = ["level", "block_num", "par_num", "line_num", "word_num", "left", "top", "width", "height", "conf", "text"]
    data: dict[str, list[object]] = {k: [r[i] for r in rows] for i, k in enumerate(keys)}
    data["page_num"] = [1] * len(rows)
    return data


def test_words_from_tesseract_filters_and_scales() -> None:
    words = words_from_tesseract(_fake_tesseract(), 3, scale_x=2.0, scale_y=2.0)
    assert [w.text for w in words] == ["Sodium", "140"]
    sodium = words[0]
    assert sodium.page == 3 and sodium.confidence == pytest.approx(0.915)
    assert (sodium.bbox.x0, sodium.bbox.x1) == (50.0, 110.0)
    # vertical extent taken from the line (200..240 px -> 100..120 pt)
    assert (sodium.bbox.top, sodium.bbox.bottom) == (100.0, 120.0)
    assert sodium.font_size == pytest.approx(20.0)


def test_tall_line_box_does_not_stretch_words() -> None:
    data = _fake_tesseract()
    data["height"][0] = 200  # two rows merged into one "line"
    words = words_from_tesseract(data, 1, 1.0, 1.0)
    assert words[0].bbox.height == pytest.approx(22.0)


_KEYS = ["level", "page_num", "block_num", "par_num", "line_num", "word_num", "left", "top", "width", "height", "conf", "text"]
word_row = st.tuples(
    st.integers(1, 3),  # line number
    st.integers(0, 900), st.integers(0, 1200), st.integers(1, 200), st.integers(1, 80),
    st.sampled_from([-1.0, 0.0, 35.5, 96.0]),
    st.sampled_from(["", " ", "|", "12,5", "mg/dl", "Hémoglobine", "-"]),
)


@given(st.lists(word_row, max_size=25), st.floats(0.5, 5.0))
@settings(max_examples=80, deadline=None)
def test_tesseract_words_have_valid_boxes_inside_the_page(rows: list[tuple[int, int, int, int, int, float, str]], scale: float) -> None:
    data: dict[str, list[object]] = {k: [] for k in _KEYS}
    for line in (1, 2, 3):  # line boxes enclosing their words, as tesseract reports them
        members = [r for r in rows if r[0] == line]
        if members:
            left, top = min(r[1] for r in members), min(r[2] for r in members)
            right, bottom = max(r[1] + r[3] for r in members), max(r[2] + r[4] for r in members)
            for k, v in zip(_KEYS, (4, 1, 1, 1, line, 0, left, top, right - left, bottom - top, -1, "")):
                data[k].append(v)
    for line, left, top, width, height, conf, text in rows:
        for k, v in zip(_KEYS, (5, 1, 1, 1, line, 1, left, top, width, height, conf, text)):
            data[k].append(v)
    words = words_from_tesseract(data, 1, scale, scale)
    kept = [r for r in rows if r[6].strip() and r[5] >= 0 and r[6] != "|"]
    assert len(words) == len(kept)
    for w in words:
        assert w.bbox.x0 <= w.bbox.x1 and w.bbox.top <= w.bbox.bottom
        assert 0 <= w.bbox.x0 and w.bbox.x1 <= 1100 / scale + 0.01 and w.bbox.bottom <= 1280 / scale + 0.01
        assert 0.0 <= w.confidence <= 1.0 and w.source is WordSource.OCR


def test_language_choice_from_cue_words() -> None:
    fr = "Les résultats des examens de biologie sont validés par le biologiste".split()
    de = "Die Ergebnisse der Untersuchung wurden vom Laborarzt freigegeben und".split()
    en = "The results of the laboratory tests are reported with reference ranges".split()
    assert choose_language(language_scores(fr)) == "fra"
    assert choose_language(language_scores(de)) == "deu"
    assert choose_language(language_scores(en)) == "eng"
    assert choose_language(language_scores(fr + de)) == "fra+deu"
    assert choose_language(language_scores(["12,5", "mg/dl"]), default="deu") == "deu"


@given(st.lists(st.sampled_from(["le", "der", "the", "12", "mg", "und", "et", "and"]), max_size=40))
@settings(max_examples=50, deadline=None)
def test_language_choice_is_a_known_model(tokens: list[str]) -> None:
    assert choose_language(language_scores(tokens)) in {"fra", "deu", "eng", "fra+deu"}


def test_detect_language_on_german_image(tmp_path: Path) -> None:
    r = render_page(draw_report(tmp_path / "de.pdf", "de", seed=2).path, 0, 200)
    assert detect_ocr_language(r.image, dpi=200) == "deu"


@pytest.mark.parametrize(
    ("scores", "decided"),
    [
        ({"fra": 4, "deu": 1, "eng": 0}, True),
        ({"fra": 3, "deu": 1, "eng": 1}, True),
        ({"fra": 3, "deu": 2, "eng": 0}, False),  # stray hits could still be the language
        ({"fra": 2, "deu": 0, "eng": 0}, False),
        ({"fra": 5, "deu": 4, "eng": 0}, True),  # bilingual
    ],
)
def test_language_decided_by_a_clear_lead(scores: dict[str, int], decided: bool) -> None:
    assert language_decided(scores) is decided


def _page_of_lines(lines: Sequence[tuple[int, str]]) -> Image.Image:
    """A 150-dpi A4 page with ``(y, text)`` lines."""
    from PIL import ImageDraw, ImageFont

    img = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 28)
    for y, text in lines:
        draw.text((80, y), text, font=font, fill=0)
    return img


def test_language_look_reads_on_until_the_cue_words_decide() -> None:
    """A header of names and numbers only (a landscape report's top third): the look
    reads further down the page, to where the German words are, and is sure of them."""
    header = ["MEDILAB HOFFMANN & PARTNER", "Tel. +41 61 555 12 12", "2025-11-01   08:30   No 48213"]
    german = ["Untersuchung Ergebnis Einheit", "Leukozyten und Blut mit Befund", "Entnahme der Probe"]
    img = _page_of_lines([(60 + 60 * i, t) for i, t in enumerate(header)] + [(640 + 60 * i, t) for i, t in enumerate(german)])
    lang, conf = detect_ocr_language_detailed(img, default="fra", dpi=150)
    assert lang == "deu" and conf > 0.7


@pytest.mark.parametrize("height", [1, 3, 12])
def test_language_look_on_a_page_a_few_pixels_tall(height: int) -> None:
    assert detect_ocr_language_detailed(Image.new("L", (40, height), 255), default="deu", dpi=300) == ("deu", 0.0)


def test_language_look_stops_at_a_turned_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A report scanned upside down: its first band reads as garbage, and no further band
    is read (the caller checks the orientation)."""
    from extractors import ocr
    from seeds.scan import scan_pdf

    scanned = tmp_path / "s.pdf"
    scan_pdf(draw_report(tmp_path / "d.pdf", "de", seed=8).path, scanned, "rotated180", seed=1)
    r = render_page(scanned, 0, 150)
    calls: list[int] = []
    real = ocr.run_tesseract
    monkeypatch.setattr(ocr, "run_tesseract", lambda *a, **k: calls.append(1) or real(*a, **k))
    monkeypatch.setattr(ocr, "language_decided", lambda scores: False)  # garbage can hit cue words
    _, conf = detect_ocr_language_detailed(preprocess(r.image, dpi=r.dpi, rotation=0).image, default="fra", dpi=r.dpi)
    assert conf < ocr.GARBAGE_LOOK and len(calls) == 1


@pytest.mark.parametrize("rotate_cw", [270])  # 180 is covered end to end below
def test_osd_finds_rotation(top_image: tuple[Image.Image, float], rotate_cw: int) -> None:
    image, _ = top_image
    turned = image.rotate(-rotate_cw, expand=True)  # PIL rotates counter-clockwise
    guess = detect_orientation(turned, DPI)
    assert guess is not None
    fixed = turned.rotate(-guess.rotate, expand=True)
    assert fixed.size == image.size
    diff = np.abs(np.asarray(fixed, dtype=np.int16) - np.asarray(image, dtype=np.int16))
    assert diff.mean() < 1.0


def test_osd_failure_on_blank_page_is_none() -> None:
    assert detect_orientation(Image.new("L", (400, 600), 255), DPI) is None


def test_vertical_lines_detected_cheaply(top_image: tuple[Image.Image, float]) -> None:
    image, _ = top_image
    gray = to_array(image)
    assert not lines_look_vertical(gray)
    assert lines_look_vertical(np.rot90(gray).copy())


def test_clean_up_hands_on_its_blob_count_only_for_the_page_it_counted(top_image: tuple[Image.Image, float]) -> None:
    from extractors.preprocess import word_blob_shapes

    image, _ = top_image
    level = preprocess(image, dpi=DPI, deskew=False)
    assert level.rotation == 0 and level.blob_shapes == word_blob_shapes(to_array(level.image))
    tilted = preprocess(Image.fromarray(rotate_small(to_array(image), 2.0)), dpi=DPI)
    # a 2-degree tilt alone counted 54 wide blobs where the levelled page counts about 150 (tilted
    # lines and rules join words): a count made before the deskew is not handed on
    assert tilted.skew_deg != 0 and tilted.blob_shapes is None
    assert preprocess(image, dpi=DPI, rotation=90, deskew=False).blob_shapes is None  # not counted at all
    turned = preprocess(Image.fromarray(np.rot90(to_array(image)).copy()), dpi=DPI, deskew=False)
    assert turned.rotation in (90, 270) and turned.blob_shapes is None  # counted before the turn: not this page's


@pytest.mark.parametrize("angle", [2.0, -2.0, 0.7])
def test_deskew_estimate_within_half_degree(top_image: tuple[Image.Image, float], angle: float) -> None:
    gray = to_array(top_image[0])
    skewed = rotate_small(gray, angle)
    assert estimate_skew(skewed) == pytest.approx(angle, abs=0.5)
    assert abs(estimate_skew(rotate_small(skewed, -estimate_skew(skewed)))) < 0.3


def test_preprocess_rotates_sideways_page_upright(top_image: tuple[Image.Image, float]) -> None:
    image, _ = top_image
    sideways = image.rotate(90, expand=True)  # counter-clockwise
    pre = preprocess(sideways, dpi=DPI, deskew=False)
    assert pre.rotation == 90 and pre.image.size == image.size  # turned back clockwise
    upright = to_array(image).astype(np.int16)
    assert np.abs(to_array(pre.image).astype(np.int16) - upright).mean() < 8  # only contrast changed
    assert set(pre.timings) >= {"orientation", "deskew", "clean"}


def test_uneven_light_is_flattened(top_image: tuple[Image.Image, float]) -> None:
    gray = to_array(top_image[0]).astype(np.float32)
    h, w = gray.shape
    ramp = np.linspace(0.45, 1.0, w, dtype=np.float32)[None, :]
    dark = np.clip(gray * ramp, 0, 255).astype(np.uint8)
    flat, changed = flatten_illumination(dark)
    assert changed
    paper = to_array(top_image[0]) > 250
    left, right = flat[:, : w // 5][paper[:, : w // 5]], flat[:, -w // 5 :][paper[:, -w // 5 :]]
    assert abs(float(np.median(left)) - float(np.median(right))) < 15
    assert not flatten_illumination(to_array(top_image[0]))[1]


def test_blurred_page_is_sharpened_not_stretched(top_image: tuple[Image.Image, float]) -> None:
    gray = to_array(top_image[0])
    soft = cv2.GaussianBlur(gray, (0, 0), 1.5)
    blurred = cv2.GaussianBlur(gray, (0, 0), 3.0)
    assert edge_sharpness(gray) > edge_sharpness(soft) > edge_sharpness(blurred)
    assert not preprocess(Image.fromarray(gray), dpi=DPI).sharpened
    assert preprocess(Image.fromarray(blurred), dpi=DPI).sharpened
    # sharpening steepens the edges without inventing ink on the paper
    assert edge_sharpness(unsharp(blurred)) > edge_sharpness(blurred)
    assert (unsharp(blurred)[gray > 250] < 128).mean() < 0.01


def test_specks_removed_but_decimal_commas_kept() -> None:
    img = np.full((200, 400), 255, np.uint8)
    cv2.putText(img, "6,5 0,44", (20, 100), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 0, 3)
    rng = np.random.default_rng(1)
    ys, xs = rng.integers(0, 200, 60), rng.integers(0, 400, 60)
    specked = img.copy()
    specked[ys, xs] = 0
    cleaned = remove_specks(specked, dpi=200)
    assert (cleaned[ys, xs] == 255).mean() > 0.9  # isolated specks gone
    lost = np.count_nonzero((img < 128) & (cleaned >= 128))
    assert lost < 0.02 * np.count_nonzero(img < 128)  # digits and commas intact


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 255), min_size=1, max_size=400),
    st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=4),
)
def test_percentiles_from_the_histogram_are_numpys(values: list[int], qs: list[float]) -> None:
    a = np.array(values, dtype=np.uint8).reshape(1, -1)
    assert percentiles_u8(a, tuple(qs)) == tuple(float(v) for v in np.percentile(a, qs))


def test_sharpness_from_integer_gradients_is_the_floating_point_measure(top_image: tuple[Image.Image, float]) -> None:
    gray = cv2.GaussianBlur(to_array(top_image[0]), (0, 0), 1.2)
    band = gray[gray.shape[0] // 4 : 3 * gray.shape[0] // 4].astype(np.float32)
    mag = cv2.magnitude(cv2.Sobel(band, cv2.CV_32F, 1, 0)[::2, ::2], cv2.Sobel(band, cv2.CV_32F, 0, 1)[::2, ::2])
    lo, hi = np.percentile(cv2.resize(gray, (500, round(gray.shape[0] * 500 / gray.shape[1])), interpolation=cv2.INTER_AREA), (1, 99))
    assert edge_sharpness(gray) == pytest.approx(float(np.percentile(mag, 99.5) / max(1.0, hi - lo)), rel=1e-12)


def test_unsharp_mask_is_the_clipped_difference_with_the_blur() -> None:
    gray = np.random.default_rng(5).integers(0, 256, (120, 160)).astype(np.uint8)
    g = gray.astype(np.float32)
    expected = np.clip(g * 1.8 - cv2.GaussianBlur(g, (0, 0), 2.0) * 0.8, 0, 255).astype(np.uint8)
    assert np.array_equal(unsharp(gray), expected)


@pytest.mark.parametrize("density", [0.02, 0.1])  # a few hundred components; more than 65 534 (noise)
def test_components_match_32_bit_labelling_also_past_16_bits(density: float) -> None:
    mask = (np.random.default_rng(3).random((1200, 1200)) < density).astype(np.uint8)
    n, labels, stats = components(mask)
    n32, labels32, stats32, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    assert n == n32 and (n > 65_534) == (density > 0.05)
    assert np.array_equal(labels.astype(np.int64), labels32) and np.array_equal(stats, stats32)


def test_fax_page_known_as_one_bit_from_the_pdf_not_the_pixels(report: DrawnReport, tmp_path: Path) -> None:
    import pypdfium2 as pdfium

    from seeds.scan import scan_pdf

    fax, photo = tmp_path / "fax.pdf", tmp_path / "photo.pdf"
    scan_pdf(report.path, fax, "fax", seed=2)
    scan_pdf(report.path, photo, "photo", seed=2)
    r = render_page(fax, 0, 150)
    assert r.one_bit
    assert not render_page(photo, 0, 150).one_bit
    assert not render_page(report.path, 0, 150).one_bit  # text and vector rules only
    # pdfium smooths the 1-bit image it scales up: the pixels alone may not say "bilevel"
    gray = to_array(r.image)
    assert 0 < np.count_nonzero((gray > 40) & (gray < 215))
    pre = preprocess(r.image, dpi=r.dpi, deskew=False, one_bit=True)
    assert pre.bilevel and not pre.flattened and not pre.sharpened
    # a bilevel image that covers only a corner (a stamp, a signature) does not make a fax page
    pdf = pdfium.PdfDocument(str(fax))
    try:
        assert bilevel_scan(pdf[0])
        assert not bilevel_scan(pdf[0], min_cover=1.01)
    finally:
        pdf.close()


def test_bilevel_smoothing_ramps_edges_and_keeps_the_ink() -> None:
    img = np.full((60, 120), 255, np.uint8)
    img[20:40, 10:110:6] = 0  # a row of 1-px-wide hard-edged strokes
    smooth = smooth_bilevel(img, dpi=300)
    assert np.count_nonzero((smooth > 40) & (smooth < 215)) > 0  # grey ramps appear
    assert smooth[30, 10] < 200  # stroke still dark enough to read
    assert (smooth[:10] == 255).all()  # no ink invented far from the strokes
    assert smooth_bilevel(img, dpi=72, sigma_pt=0.2) is img  # below 0.3 px: nothing to do


def test_ocr_pdf_page_end_to_end_on_skewed_scan(tmp_path: Path) -> None:
    from seeds.scan import scan_pdf

    drawn = draw_report(tmp_path / "d.pdf", "fr", seed=9)
    scanned = tmp_path / "s.pdf"
    scan_pdf(drawn.path, scanned, "skewed", seed=3)
    page = ocr_pdf_page_detailed(scanned, 0, "fra", dpi=200).page
    assert page.source is WordSource.OCR and page.number == 1 and page.rotation == 0
    got = Counter(w.text for w in page.words if NUM.match(w.text))
    want = Counter(drawn.values)
    assert sum((got & want).values()) >= 0.8 * sum(want.values())
    # deskewed: a row's label and value (200 pt apart) sit on one line within 3 pt
    labels = [label.split()[0] for label, _, _ in LABELS["fr"]]
    pairs = 0
    for label, value in zip(labels, drawn.values):
        lw = [w for w in page.words if w.text == label]
        vw = [w for w in page.words if w.text == value]
        if lw and vw:
            pairs += 1
            assert min(abs(a.bbox.ymid - b.bbox.ymid) for a in lw for b in vw) < 3.0
    assert pairs >= 8


def test_retry_turns_trust_osd_else_try_plausible_turns() -> None:
    assert retry_turns(Orientation(rotate=180, confidence=6.0), lines_vertical=False) == (180,)
    # OSD called badly-read upside-down scans upright (confidence 3 to 5): not trusted then
    assert retry_turns(Orientation(rotate=0, confidence=6.0), lines_vertical=True) == (90, 270)
    assert retry_turns(Orientation(rotate=0, confidence=4.0), lines_vertical=False) == (180,)
    assert retry_turns(None, lines_vertical=True) == (90, 270)
    # OSD without an answer and blobs that do not stand tall: every turn gets a quick look
    assert retry_turns(None, lines_vertical=False) == (180, 90, 270)


def test_upside_down_scan_is_turned_and_read(tmp_path: Path) -> None:
    from seeds.scan import scan_pdf

    drawn = draw_report(tmp_path / "d.pdf", "fr", seed=8)
    scanned = tmp_path / "s.pdf"
    scan_pdf(drawn.path, scanned, "rotated180", seed=1)
    result = ocr_pdf_page_detailed(scanned, 0, "fra", dpi=150)
    assert result.page.rotation == 180
    assert result.page.quality > 0.7
    got = Counter(w.text for w in result.page.words if NUM.match(w.text))
    assert sum((got & Counter(drawn.values)).values()) >= 0.8 * len(drawn.values)


def test_sideways_scan_read_with_fair_confidence_is_still_turned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # OSD on the cleaned page gave no answer for two real sideways scans and tesseract read
    # them sideways at mean confidence 0.53-0.57 (above the low-confidence retry): the
    # tall word blobs alone must send the page back to be turned
    import extractors.ocr as ocr_module
    from seeds.scan import scan_pdf

    drawn = draw_report(tmp_path / "d.pdf", "fr", seed=8)
    scanned = tmp_path / "s.pdf"
    scan_pdf(drawn.path, scanned, "rotated90", seed=1)
    real = ocr_module.preprocess
    monkeypatch.setattr(ocr_module, "preprocess", lambda image, **kw: real(image, **{**kw, "rotation": 0}))  # OSD said nothing
    monkeypatch.setattr(ocr_module, "LOW_CONFIDENCE", 0.0)  # and the sideways reading looked fair
    result = ocr_pdf_page_detailed(scanned, 0, "fra", dpi=150)
    assert result.page.rotation in (90, 270) and result.page.quality > 0.7
    got = Counter(w.text for w in result.page.words if NUM.match(w.text))
    assert sum((got & Counter(drawn.values)).values()) >= 0.8 * len(drawn.values)


def test_sideways_page_read_as_a_handful_of_words_is_turned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a landscape table in a monospaced font turned onto a portrait page: its letters stand
    # apart, so the blob test cannot tell it is sideways, OSD had no answer, and the page
    # pass read five words of it at 0.53 (above the low-confidence retry)
    import extractors.ocr as ocr_module
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    path = tmp_path / "sideways.pdf"
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    c.translate(A4[0], 0)
    c.rotate(90)
    c.setFont("Courier", 9)
    rows = [("Leukozyten", "8,10", "/nl", "4,00 - 10,00"), ("Natrium", "141", "mmol/l", "135 - 145"), ("Kalium", "4,2", "mmol/l", "3,5 - 5,1")]
    for i in range(24):
        label, value, unit, rng = rows[i % 3]
        for x, text in ((50, label), (300, value), (380, unit), (460, rng)):
            c.drawString(x, A4[0] - 60 - 14 * i, text)
    c.save()
    monkeypatch.setattr(ocr_module, "detect_orientation", lambda *a, **k: None)
    monkeypatch.setattr(ocr_module, "blobs_stand_tall", lambda *a, **k: False)
    monkeypatch.setattr(ocr_module, "LOW_CONFIDENCE", 0.0)
    result = ocr_pdf_page_detailed(path, 0, "deu", dpi=150)
    assert result.page.rotation in (90, 270) and result.page.quality > 0.7
    assert sum(w.text in ("Natrium", "Kalium", "141", "mmol/l") for w in result.page.words) >= 12


def test_unknown_language_is_detected_and_german_model_used(tmp_path: Path) -> None:
    pdf = draw_report(tmp_path / "de.pdf", "de", seed=3).path
    page = ocr_pdf_page(pdf, 0, None, dpi=150, route_reason="no-text-layer")
    texts = {w.text for w in page.words}
    assert page.route_reason == "no-text-layer"
    assert {"Ergebnis", "Einheit", "Referenzbereich"} <= texts
    assert "Hämoglobin" in texts  # umlauts: read with the German model


def _grainy_table(grain: float) -> Image.Image:
    """Three rows; the value column printed on grainy paper (photographed page)."""
    rng = np.random.default_rng(1)
    img = np.full((520, 1400), 255, np.uint8)
    img[60:400, 330:900] = np.clip(rng.normal(225, grain, (340, 570)), 0, 255).astype(np.uint8)
    pil = Image.fromarray(img)
    d = ImageDraw.Draw(pil)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 28)
    for i, (label, value, unit) in enumerate([("Leukozyten", "7400", "/nl"), ("Erythrozyten", "5,24", "/pl"), ("Hämatokrit", "47,6", "%")]):
        for x, text in ((40, label), (400, value), (1000, unit)):
            d.text((x, 100 + 60 * i), text, fill=0, font=font)
    return pil


def test_values_in_a_region_tesseract_takes_for_a_picture_are_read_again() -> None:
    # grain under the value column made tesseract's layout analysis call it a picture
    # and drop the values in it unread (a photographed report lost nine results so)
    from extractors.ocr import text_in_regions, words_from_tesseract
    from extractors.tesseract import engine

    image, scale = _grainy_table(20.0), 200 / 72
    eng = engine("deu")
    words = words_from_tesseract(eng.read_page(image, 4, 200), 1, scale, scale)
    regions = eng.image_blocks()
    assert regions and not {"7400", "5,24", "47,6"} & {w.text for w in words}  # the failure, as tesseract has it
    found = text_in_regions(eng, image, words, regions, 1, scale, scale)
    assert [w.text for w in found] == ["7400", "5,24", "47,6"]
    assert all(400 / scale - 2 < w.bbox.x0 < 400 / scale + 4 for w in found)  # in page points, where printed


def test_page_without_picture_regions_reads_nothing_twice() -> None:
    from extractors.ocr import text_in_regions, words_from_tesseract
    from extractors.tesseract import engine

    image, scale = _grainy_table(8.0), 200 / 72
    eng = engine("deu")
    words = words_from_tesseract(eng.read_page(image, 4, 200), 1, scale, scale)
    assert {"7400", "5,24", "47,6"} <= {w.text for w in words}
    assert eng.image_blocks() == []
    # a region over words already read adds none of them again
    assert text_in_regions(eng, image, words, [(300, 50, 920, 420)], 1, scale, scale) == ()


def test_words_two_rows_tall_and_unsure_are_taken_out_for_a_second_read() -> None:
    # word boxes as tesseract gave them (points): the address line on the left joined to an
    # address window on the right, whose two rows came out as one row of tall garbage
    from extractors.ocr import merged_row_words

    def w(text: str, x0: float, x1: float, top: float, bottom: float, conf: float) -> Word:
        return Word(text=text, bbox=BBox(x0=x0, top=top, x1=x1, bottom=bottom), page=1, confidence=conf, source=WordSource.OCR)

    row = [w(t, x, x + 25, 65.3, 73.7, 0.96) for t, x in (("110,", 47), ("rue", 76), ("de", 97), ("Gare", 130), ("Metz", 214))]
    garbage = [w("6a", 336, 359, 57.8, 78.0, 0.27), w("Se", 365, 376, 57.8, 78.0, 0.0), w("raiibes", 382, 423, 59.5, 78.9, 0.0)]
    tall_but_sure = w("HÄMATOLOGIE", 47, 150, 90.0, 110.0, 0.95)  # a title in a big font is not two rows
    scale = 300 / 72
    found = merged_row_words((*row, *garbage, tall_but_sure), scale, scale, (2480, 3508))
    assert len(found) == 1
    (left, top, right, bottom), words = found[0]
    assert [x.text for x in words] == ["6a", "Se", "raiibes"]
    assert left < 336 * scale and right > 423 * scale and top < 57.8 * scale and bottom > 78.9 * scale
    assert right < 480 * scale  # a line height of margin, not the rest of the page


def test_a_garbled_word_of_normal_height_is_taken_out_with_the_rest_of_its_row() -> None:
    # word boxes as tesseract gave them on a photo (points): "Tel. +352 96 681-0" on the left
    # joined to "Geschlecht: W" of the patient box, less than half a row lower, read "REITEN"
    from extractors.ocr import GARBLED_REACH, garbled_row_words, merged_row_words

    def w(text: str, x0: float, x1: float, conf: float, top: float = 83.0, bottom: float = 92.0) -> Word:
        return Word(text=text, bbox=BBox(x0=x0, top=top, x1=x1, bottom=bottom), page=1, confidence=conf, source=WordSource.OCR)

    row = [w(t, x, x + 20, 0.95) for t, x in (("Tel.", 47), ("+352", 70), ("96", 95), ("681-0", 110))]
    above = [w(t, x, x + 40, 0.96, 70.0, 79.0) for t, x in (("Matrikelnummer:", 459), ("1969", 520))]
    garbled, short_noise = w("REITEN", 459, 530, 0.0, 83.0, 97.0), w("mn", 763, 792, 0.42, 54.0, 54.4)
    scale = 300 / 72
    assert merged_row_words((*row, *above, garbled, short_noise), scale, scale, (2480, 3508)) == []  # not two rows tall
    found = garbled_row_words((*row, *above, garbled, short_noise), scale, scale, (2480, 3508))
    assert [[x.text for x in words] for _, words in found] == [["REITEN"]]
    (left, top, right, bottom), _ = found[0]
    assert left < 459 * scale and top < 83 * scale and bottom > 97 * scale
    assert right == int((530 + GARBLED_REACH * 9.0) * scale)  # no word after it in its row: the reach
    sure = garbled.model_copy(update={"confidence": 0.5})
    assert garbled_row_words((*row, *above, sure), scale, scale, (2480, 3508)) == []
    unit = w("Inl", 135, 150, 0.1)  # a unit after its number has its own repairs
    assert garbled_row_words((*row, w("332", 125, 133, 0.9), unit, *above), scale, scale, (2480, 3508)) == []


def test_a_garbled_word_is_replaced_only_by_a_sure_reading_of_its_own_place() -> None:
    from extractors.ocr import reads_the_garbage

    def w(text: str, x0: float, x1: float, conf: float) -> Word:
        return Word(text=text, bbox=BBox(x0=x0, top=83, x1=x1, bottom=95), page=1, confidence=conf, source=WordSource.OCR)

    garbage = [w("REITEN", 459, 530, 0.0)]
    assert reads_the_garbage([w("Geschlecht:", 459, 520, 0.93), w("W", 525, 532, 0.93)], garbage)
    assert not reads_the_garbage([w("Geschlecht:", 459, 520, 0.6)], garbage)  # unsure
    assert not reads_the_garbage([w("Geschlecht:", 600, 660, 0.95)], garbage)  # elsewhere in the region
    assert not reads_the_garbage([w("Ge", 459, 470, 0.95)], garbage)  # fewer letters than the garbage


def _text_page(width: int = 1700, height: int = 2200) -> np.ndarray:
    img = Image.new("L", (width, height), 255)
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", 26)
    for i in range(40):
        d.text((80, 80 + 50 * i), f"Parametre {i:02d}      {i * 1.7:6.2f}      g/l      {i:02d},0 - {i + 9:02d},0", fill=0, font=font)
    return np.asarray(img, dtype=np.uint8)


def test_lines_tilted_more_at_the_top_than_at_the_bottom_are_levelled() -> None:
    # a photo not square to the paper: lines rise 1.6° at the top, none at the bottom
    from extractors.preprocess import KEYSTONE_BANDS, estimate_skew, straighten_lines

    flat = _text_page()
    h, w = flat.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    tilt = np.tan(np.deg2rad(1.6 * (1 - np.arange(h, dtype=np.float32) / h)))[:, None]
    photo = cv2.remap(flat, xs, ys + (xs - w / 2) * tilt, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=255)
    bands = lambda g: [estimate_skew(g[i * h // KEYSTONE_BANDS : (i + 1) * h // KEYSTONE_BANDS], 3.0) for i in range(KEYSTONE_BANDS)]  # noqa: E731
    assert max(bands(photo)) - min(bands(photo)) > 0.8  # the failure: no single rotation levels it
    levelled, done = straighten_lines(photo)
    assert done
    assert all(abs(a) <= 0.3 for a in bands(levelled))
    unchanged, done = straighten_lines(flat)  # a level page is left as it is
    assert not done and unchanged is flat


def _patient_block_page() -> tuple[Image.Image, float, dict[str, tuple[float, float, float, float]]]:
    """A letterhead on the left whose last word reaches over the left edge of the patient
    block beside it, one row higher (a photographed report's layout); the boxes (points)
    of what is drawn."""
    scale = 300 / 72
    pil = Image.new("L", (1500, 520), 255)
    d = ImageDraw.Draw(pil)
    bold = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 44)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 30)
    boxes: dict[str, tuple[float, float, float, float]] = {}

    def draw(key: str, x: int, y: int, text: str, f: ImageFont.FreeTypeFont) -> None:
        d.text((x, y), text, fill=0, font=f)
        x0, y0, x1, y1 = d.textbbox((x, y), text, font=f)
        boxes[key] = (x0 / scale, y0 / scale, x1 / scale, y1 / scale)

    draw("letterhead", 40, 40, "Medizinisches Labor & Kollegen", bold)
    # the block's left edge (a third of a key's height left of the keys) cuts the letterhead's last
    # word before its "en", letters without ascenders, in the lower part of the word's box
    key_height = d.textbbox((0, 0), "Geschlecht", font=font)[3] - d.textbbox((0, 0), "Geschlecht", font=font)[1]
    block = int(boxes["letterhead"][2] * scale - bold.getlength("en") - 4 + 0.3 * key_height)
    for i, (key, text) in enumerate((("name", "Luca Rossi"), ("birth", "geb. am 09/08/2005"), ("sex", "Geschlecht m"),
                                     ("id", "Matrikelnummer 2005080907640"))):
        draw(key, block, 100 + 55 * i, text, font)
    return pil, scale, boxes


def test_patient_block_read_again_when_the_page_pass_joined_it_to_the_letterhead() -> None:
    # the page pass of a photographed report: "Kollegen" boxed down over the name row,
    # the name and the sex line read as garbage; the block read alone reads them
    from extractors.layout import group_lines
    from extractors.meta import patient_read
    from extractors.ocr import reread_patient_block
    from extractors.tesseract import engine

    image, scale, boxes = _patient_block_page()
    eng = engine("deu")
    read = words_from_tesseract(eng.read_page(image, 6, 300), 1, scale, scale)
    assert {"Luca", "Rossi", "Geschlecht", "Kollegen"} <= {w.text for w in read}  # drawn cleanly: tesseract reads it all

    def box(key: str, **changes: float) -> BBox:
        x0, top, x1, bottom = boxes[key]
        return BBox(x0=x0, top=top, x1=x1, bottom=bottom).model_copy(update=changes)

    kollegen = next(w for w in read if w.text == "Kollegen")
    name_row = [w for w in read if w.text in ("Luca", "Rossi")]
    sex_row = [w for w in read if w.text in ("Geschlecht", "m")]
    page_pass = tuple(w for w in read if w is not kollegen and w not in name_row and w not in sex_row) + (
        kollegen.model_copy(update={"bbox": kollegen.bbox.model_copy(update={"top": kollegen.bbox.top - 2.5, "bottom": box("name").bottom})}),
        Word(text="Koss", bbox=box("name", x0=box("name").x0 + 20), page=1, confidence=0.74, source=WordSource.OCR),
        Word(text="IIRINEGARE", bbox=box("sex"), page=1, confidence=0.0, source=WordSource.OCR),
        # read in the page pass where the block's re-read finds nothing (it drops what it is unsure of): stays
        Word(text="Zimmer", bbox=box("sex", x0=box("sex").x1 + 60, x1=box("sex").x1 + 90), page=1, confidence=0.9, source=WordSource.OCR),
    )
    before = patient_read(group_lines(page_pass))
    assert {"family", "given", "sex"}.isdisjoint(before.fields) and before.anchors

    words = reread_patient_block(eng, image, page_pass, 1, scale, scale)
    after = patient_read(group_lines(words))
    assert after.complete
    lines = [ln.text for ln in group_lines(words)]
    assert "Luca Rossi" in lines and "Geschlecht m Zimmer" in lines
    assert not {"Koss", "IIRINEGARE"} & {w.text for w in words}
    head = next(w for w in words if w.text == "Kollegen")  # kept, giving up the name row it was boxed over
    assert head.bbox.bottom <= box("name").top and "Medizinisches Labor & Kollegen" in lines
    assert len(words) == len(read) + 1  # no tail of "Kollegen" read again from the block's edge
    assert "Zimmer" in {w.text for w in words}


def test_patient_block_is_where_most_of_its_anchors_are() -> None:
    from extractors import ocr
    from extractors.meta import PatientRead

    def anchor(x0: float, top: float) -> BBox:
        return BBox(x0=x0, top=top, x1=x0 + 60, bottom=top + 7)

    block = [anchor(336, 67), anchor(336, 79), anchor(380, 91)]
    footer_id = anchor(40, 800)  # the identifier repeated in the page's footer
    x0, top, x1, bottom = ocr.patient_block_region(PatientRead(frozenset(), (*block, footer_id), False), 595)
    assert x0 == pytest.approx(336 - 0.3 * 7) and x1 == 595
    assert top == pytest.approx(67 - ocr.PATIENT_BLOCK_ABOVE * 7) and bottom == pytest.approx(98 + ocr.PATIENT_BLOCK_BELOW * 7)
    assert ocr.patient_block_region(PatientRead(frozenset(), (), False), 595) is None


def test_patient_block_left_alone_when_it_read_or_is_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    from extractors.ocr import reread_patient_block
    from extractors.tesseract import engine

    image, scale, _ = _patient_block_page()
    eng = engine("deu")
    read = words_from_tesseract(eng.read_page(image, 6, 300), 1, scale, scale)

    def no_read(*args: object, **kwargs: object) -> None:
        raise AssertionError("read again")

    monkeypatch.setattr(eng, "read_page", no_read)
    assert reread_patient_block(eng, image, read, 1, scale, scale) is read  # every field read: nothing to do
    letterhead = tuple(w for w in read if w.bbox.top < 20)
    assert reread_patient_block(eng, image, letterhead, 1, scale, scale) is letterhead  # no patient key: no block


def test_patient_block_reading_kept_only_when_it_reads_more() -> None:
    from extractors.meta import PatientRead
    from extractors.ocr import _boxed_over_two_rows, _reads_better

    def read(*fields: str, crowded: bool = False) -> PatientRead:
        return PatientRead(frozenset(fields), (), crowded)

    assert _reads_better(read("family", "given", "national_id"), read("national_id"))
    assert not _reads_better(read("family", "given"), read("national_id"))  # the id lost
    assert not _reads_better(read("national_id"), read("national_id"))
    assert _reads_better(read("family", "given"), read("family", "given", crowded=True))  # the name no longer read twice
    assert not _reads_better(read("family", "given", "sex", crowded=True), read("family", "given"))
    assert _reads_better(read("family", "given"), PatientRead(frozenset({"family", "given"}), (), False, doubtful=True))  # now read surely
    assert not _reads_better(PatientRead(frozenset({"family", "given", "sex"}), (), False, doubtful=True), read("family", "given"))

    def dated(collected: str | None, number: str | None, *fields: str) -> PatientRead:
        return PatientRead(frozenset(fields), (), False, others=(collected, None, number))

    before = dated("2026-01-24T15:00:00", "2601246026", "national_id")
    assert _reads_better(dated("2026-01-24T15:00:00", "2601246026", "national_id", "family"), before)
    assert not _reads_better(dated("2026-01-24", "2601246026", "national_id", "family"), before)  # the time lost beside the block
    assert not _reads_better(dated("2026-01-24T15:00:00", "am", "national_id", "family"), before)
    assert _reads_better(dated("2026-01-24T15:00:00", "2601246026", "national_id", "family"), dated(None, None, "national_id"))

    def w(top: float, bottom: float) -> Word:
        return Word(text="x", bbox=BBox(x0=0, top=top, x1=10, bottom=bottom), page=1, confidence=0.9, source=WordSource.OCR)

    assert _boxed_over_two_rows(w(58.8, 80.4), w(72.5, 79.4))  # "Kollegen" over "Luca"
    assert not _boxed_over_two_rows(w(58.8, 70.0), w(60.0, 69.0))  # the same row
