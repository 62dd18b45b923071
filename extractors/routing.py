"""Per-page routing: use the PDF text layer, or OCR the rendered page?

A page goes to OCR when its text layer cannot be trusted:

* ``no-text-layer``          — no printable characters at all (scans, text drawn as outlines);
* ``sparse-text-over-image`` — a handful of characters (a stamp, a page number, a scanner
  footer) over an image that covers most of the page: the real content is in the image;
* ``garbage-text-layer``     — characters exist but do not decode to text: ``(cid:NN)``
  glyphs, U+FFFD / private-use code points, mostly non-alphanumeric symbols, absurdly long
  "words", or letter soup with an impossible vowel ratio (fonts with a broken ToUnicode map).

Otherwise the text layer is used (``text-layer-ok``) with a quality score in [0, 1].

The decision works on plain statistics (:class:`TextStats`) so it can be tested without
PDFs; :func:`route_pdfplumber_page` is the adapter for a pdfplumber page.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from models import WordSource

# --- thresholds (documented, tuned on synthetic + typical report pages) -----------------
SPARSE_MAX_CHARS = 200  # fewer printable chars than this over a big image -> OCR
SPARSE_MIN_IMAGE_FRACTION = 0.5  # "big image": covers at least half of the page
GARBAGE_BAD_FRACTION = 0.15  # share of cid / U+FFFD / private-use / control glyphs
GARBAGE_MIN_ALNUM_FRACTION = 0.45  # letters + digits among printable chars
GARBAGE_LONG_WORD_FRACTION = 0.35  # share of chars inside "words" longer than LONG_WORD
LONG_WORD = 30
VOWEL_CHECK_MIN_LETTERS = 80  # only judge the vowel ratio on enough Latin letters
VOWEL_RATIO_RANGE = (0.12, 0.75)  # real fr/de/en text (even abbreviation-heavy) sits inside

_CID = re.compile(r"^\(cid:\d+\)$")
_VOWELS = frozenset("aeiouy")


@dataclass(frozen=True)
class RouteDecision:
    source: WordSource
    reason: str
    text_quality: float  # [0,1]; 0 when the text layer is absent or unusable


@dataclass(frozen=True)
class TextStats:
    """Counts over the printable (non-space) characters of a page's text layer."""

    printable: int = 0
    bad: int = 0  # (cid:N), U+FFFD, private use, control characters
    alnum: int = 0  # letters + digits
    latin_letters: int = 0  # ASCII letters after accent stripping
    vowels: int = 0  # among latin_letters
    in_long_words: int = 0  # chars belonging to words longer than LONG_WORD

    @property
    def bad_fraction(self) -> float:
        return self.bad / self.printable if self.printable else 0.0

    @property
    def alnum_fraction(self) -> float:
        return self.alnum / self.printable if self.printable else 0.0

    @property
    def long_word_fraction(self) -> float:
        return self.in_long_words / self.printable if self.printable else 0.0

    @property
    def vowel_ratio(self) -> float | None:
        if self.latin_letters < VOWEL_CHECK_MIN_LETTERS:
            return None
        return self.vowels / self.latin_letters


def is_bad_glyph(text: str) -> bool:
    """A glyph that did not decode to a real character."""
    if _CID.match(text):
        return True
    for ch in text:
        if ch == "\ufffd":
            return True
        cat = unicodedata.category(ch)
        if cat in ("Co", "Cs", "Cn") or (cat == "Cc" and not ch.isspace()):
            return True
    return False


def _base_letter(ch: str) -> str:
    return unicodedata.normalize("NFKD", ch)[:1].lower()


def _split_words(chars: Sequence[Mapping[str, Any]]) -> list[int]:
    """Lengths of runs of glyphs with no space and no visual gap (content-stream order)."""
    lengths: list[int] = []
    run = 0
    prev: Mapping[str, Any] | None = None
    for c in chars:
        text = str(c.get("text", ""))
        if not text or text.isspace():
            if run:
                lengths.append(run)
            run, prev = 0, None
            continue
        if prev is not None and run:
            size = float(c.get("size", 0) or prev.get("size", 0) or 10.0)
            gap = float(c.get("x0", 0.0)) - float(prev.get("x1", 0.0))
            same_line = abs(float(c.get("top", 0.0)) - float(prev.get("top", 0.0))) < 0.5 * size
            if not same_line or gap > 0.2 * size or gap < -2 * size:
                lengths.append(run)
                run = 0
        run += 1
        prev = c
    if run:
        lengths.append(run)
    return lengths


_DECOR = frozenset(".·…_-=*~")


def _without_decoration(chars: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Drop runs of repeated punctuation (dotted leaders, rules drawn with '_' or '-'):
    they are layout, not text, and would make a clean page look like garbage."""
    texts = [str(c.get("text", "")) for c in chars]
    keep: list[Mapping[str, Any]] = []
    n = len(texts)
    for i, c in enumerate(chars):
        t = texts[i]
        if t in _DECOR:
            run = 1
            j = i - 1
            while j >= 0 and texts[j] == t and run < 3:
                run += 1
                j -= 1
            j = i + 1
            while j < n and texts[j] == t and run < 3:
                run += 1
                j += 1
            if run >= 3:
                continue
        keep.append(c)
    return keep


def text_stats(chars: Sequence[Mapping[str, Any]]) -> TextStats:
    """Statistics of a pdfplumber-style char list (dicts with at least ``text``);
    decorative runs of punctuation (leaders) are not counted."""
    chars = _without_decoration(chars)
    printable = bad = alnum = latin = vowels = 0
    for c in chars:
        text = str(c.get("text", ""))
        if not text or text.isspace():
            continue
        printable += 1
        if is_bad_glyph(text):
            bad += 1
            continue
        ch = text[0]
        if ch.isalnum():
            alnum += 1
        if ch.isalpha():
            base = _base_letter(ch)
            if "a" <= base <= "z":
                latin += 1
                vowels += base in _VOWELS
    long_chars = sum(n for n in _split_words(chars) if n > LONG_WORD)
    return TextStats(printable, bad, alnum, latin, vowels, long_chars)


def text_quality(stats: TextStats) -> float:
    """Heuristic readability of a text layer in [0, 1] (1 = clean text)."""
    if stats.printable == 0:
        return 0.0
    q = 1.0 - min(1.0, stats.bad_fraction / GARBAGE_BAD_FRACTION) * 0.6
    q *= min(1.0, stats.alnum_fraction / 0.6)
    q *= 1.0 - stats.long_word_fraction
    vr = stats.vowel_ratio
    if vr is not None:
        lo, hi = VOWEL_RATIO_RANGE
        if vr < lo:
            q *= vr / lo
        elif vr > hi:
            q *= max(0.0, (1.0 - vr) / (1.0 - hi))
    return round(max(0.0, min(1.0, q)), 3)


def _is_garbage(stats: TextStats) -> bool:
    if stats.bad_fraction >= GARBAGE_BAD_FRACTION:
        return True
    if stats.alnum_fraction < GARBAGE_MIN_ALNUM_FRACTION:
        return True
    if stats.long_word_fraction >= GARBAGE_LONG_WORD_FRACTION:
        return True
    vr = stats.vowel_ratio
    return vr is not None and not (VOWEL_RATIO_RANGE[0] <= vr <= VOWEL_RATIO_RANGE[1])


def decide_route(
    chars: Sequence[Mapping[str, Any]] | TextStats,
    page_width: float,
    page_height: float,
    image_area_fraction: float,
) -> RouteDecision:
    """Choose text layer or OCR for one page.

    ``chars`` is pdfplumber's ``page.chars`` (or precomputed :class:`TextStats`);
    ``image_area_fraction`` is the share of the page covered by raster images.
    ``page_width``/``page_height`` (points) scale the sparse-text threshold: a page twice
    the size of A4 needs twice as many characters to count as a real text page.
    """
    stats = chars if isinstance(chars, TextStats) else text_stats(chars)
    if stats.printable == 0:
        return RouteDecision(WordSource.OCR, "no-text-layer", 0.0)
    a4_area = 595.0 * 842.0
    area_factor = max(0.25, (page_width * page_height) / a4_area) if page_width > 0 and page_height > 0 else 1.0
    if image_area_fraction >= SPARSE_MIN_IMAGE_FRACTION and stats.printable < SPARSE_MAX_CHARS * area_factor:
        return RouteDecision(WordSource.OCR, "sparse-text-over-image", text_quality(stats))
    quality = text_quality(stats)
    if _is_garbage(stats):
        return RouteDecision(WordSource.OCR, "garbage-text-layer", quality)
    return RouteDecision(WordSource.TEXT, "text-layer-ok", quality)


def image_area_fraction(
    boxes: Iterable[tuple[float, float, float, float]], page_width: float, page_height: float, grid: int = 200
) -> float:
    """Share of the page covered by the union of boxes ``(x0, top, x1, bottom)`` (points).

    Rasterised on a coarse grid so overlapping images are not counted twice.
    """
    if page_width <= 0 or page_height <= 0:
        return 0.0
    mask = np.zeros((grid, grid), dtype=bool)
    for x0, top, x1, bottom in boxes:
        c0 = int(np.clip(np.floor(min(x0, x1) / page_width * grid), 0, grid))
        c1 = int(np.clip(np.ceil(max(x0, x1) / page_width * grid), 0, grid))
        r0 = int(np.clip(np.floor(min(top, bottom) / page_height * grid), 0, grid))
        r1 = int(np.clip(np.ceil(max(top, bottom) / page_height * grid), 0, grid))
        mask[r0:r1, c0:c1] = True
    return float(mask.mean())


def route_pdfplumber_page(page: Any) -> RouteDecision:
    """Adapter: routing decision for a ``pdfplumber.page.Page``."""
    width, height = float(page.width), float(page.height)
    x_off, y_off = float(page.bbox[0]), float(page.bbox[1])
    boxes = [
        (float(im["x0"]) - x_off, float(im["top"]) - y_off, float(im["x1"]) - x_off, float(im["bottom"]) - y_off)
        for im in page.images
    ]
    return decide_route(page.chars, width, height, image_area_fraction(boxes, width, height))
