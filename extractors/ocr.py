"""OCR of page images with tesseract -> ``models.Page`` of ``Word``s in PDF points.

Coordinate space: word boxes are in the *corrected* page — upright (after the 90/180/270
fix) and deskewed — scaled to points, origin top-left. ``Page.width``/``height`` are that
upright page's size (swapped relative to the PDF page for 90/270), ``Page.rotation`` the
clockwise right angle applied. For small skews this is the page as it was printed, which is
what row reconstruction wants (horizontal lines of text).

Word boxes mimic the text layer: the vertical extent of a word is its tesseract *line*'s
extent (ascender to descender, like pdfplumber's font-size-high glyph boxes) unless that
line is implausibly tall; ``font_size`` is that height in points.

Before tesseract runs, table rules are found (``Page.rulings_y``) and erased: tesseract
otherwise reads them as ``|``/``1``/``l`` or merges table rows across them (on scanned
seeds this took exact numeric tokens from ~80% to ~95%). ``--psm 4`` (one column of
variable-size text) with ``preserve_interword_spaces=1`` and ``--oem 1`` read table rows
best among psm 3/4/6/11 on the scanned seeds (6 was the weakest).

Tesseract runs single-threaded (``OMP_THREAD_LIMIT=1``): its OpenMP threading is much
slower on small machines; parallelism comes from processing pages in separate processes.
Tesseract runs in-process (:mod:`extractors.tesseract`): the model stays loaded and
doubtful words are re-read cell by cell.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from statistics import fmean, median
from typing import Any

import cv2
import numpy as np
from PIL import Image

from extractors.layout import group_lines
from extractors.meta import PatientRead, patient_read
from extractors.preprocess import (
    Orientation,
    at_most_dpi,
    blobs_stand_tall,
    components,
    detect_orientation,
    preprocess,
    rotate_right_angle,
    to_array,
    whiten,
    word_blob_shapes,
)
from extractors.render import DEFAULT_DPI, render_page
from extractors.rules import fold_word, known_words
from extractors.tesseract import Engine, engine
from extractors.timing import again, stage
from extractors.values import is_flag, parse_number, parse_range
from mappers.units import is_printed_unit
from models import BBox, Page, Word, WordSource

ERASE_VERTICAL = False  # erasing vertical rules ate digits stacked in value columns (78% -> 68% exact numbers)
ERASE_DEBRIS = True
DEFAULT_PSM = 4  # single column of variable-size text: rows stay whole lines; best of 3/4/6/11 on scanned seeds
DEFAULT_LANG = "fra"  # Luxembourg lab reports: French first
PREDETECT_LANGUAGE = True
LOW_CONFIDENCE = 0.5  # mean word confidence under which the orientation is re-checked (upside-down pages score ~0.35)
_CUES_PATH = Path(__file__).parent / "rules" / "ocr_language_cues.json"
_LINE_ARTEFACT = re.compile(r"^[|_¦\[\]{}]+$")
_EDGE_JUNK = "_«»\\¦`~"  # never printed at the edge of a lab report word; specks, rule ends
_FLAG_CHARS = frozenset("+-*HLhlNn↑↓")
NOISE_CONFIDENCE = 0.2  # a lone character read with less confidence than this is a speck


def tesseract_config(psm: int = DEFAULT_PSM, dpi: float = DEFAULT_DPI) -> str:
    """The same settings as command-line options (for the ``tesseract`` CLI baseline)."""
    return f"--oem 1 --psm {psm} --dpi {int(round(dpi))} -c preserve_interword_spaces=1"


def run_tesseract(image: Image.Image, lang: str, psm: int = DEFAULT_PSM, dpi: float = DEFAULT_DPI) -> dict[str, list[Any]]:
    """Recognise ``image`` with the process's loaded ``lang`` model; TSV columns."""
    return engine(lang).read_page(image, psm, dpi)


# --- tesseract output -> Words -------------------------------------------------------------


@dataclass(frozen=True)
class _Box:
    left: int
    top: int
    width: int
    height: int


def _line_key(data: Mapping[str, Sequence[Any]], i: int) -> tuple[int, int, int, int]:
    return (int(data["page_num"][i]), int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))


def _box(data: Mapping[str, Sequence[Any]], i: int) -> _Box:
    return _Box(int(data["left"][i]), int(data["top"][i]), int(data["width"][i]), int(data["height"][i]))


def words_from_tesseract(
    data: Mapping[str, Sequence[Any]],
    page_number: int,
    scale_x: float,
    scale_y: float,
    max_line_to_word_height: float = 2.0,
) -> tuple[Word, ...]:
    """Words (in points) from ``image_to_data`` output; ``scale_*`` are pixels per point.

    Drops empty words, conf -1 entries and table-ruling artefacts (``|``, ``_``). A word's
    vertical extent is its line's unless the line is more than ``max_line_to_word_height``
    times the line's median word height (tesseract merged rows).
    """
    lines: dict[tuple[int, int, int, int], _Box] = {}
    heights: dict[tuple[int, int, int, int], list[int]] = {}
    for i, level in enumerate(data["level"]):
        if int(level) == 4:
            lines[_line_key(data, i)] = _box(data, i)
        elif int(level) == 5 and str(data["text"][i]).strip() and float(data["conf"][i]) >= 0:
            heights.setdefault(_line_key(data, i), []).append(int(data["height"][i]))
    typical = {k: median(v) for k, v in heights.items()}
    words: list[Word] = []
    for i, level in enumerate(data["level"]):
        if int(level) != 5:
            continue
        text = unicodedata.normalize("NFC", str(data["text"][i]).strip())
        conf = float(data["conf"][i])
        if not text or conf < 0 or _LINE_ARTEFACT.match(text):
            continue
        text = text.strip(_EDGE_JUNK)
        if not text or (len(text) == 1 and conf / 100.0 < NOISE_CONFIDENCE and text not in _FLAG_CHARS):
            continue
        wb = _box(data, i)
        top, bottom = wb.top, wb.top + wb.height
        key = _line_key(data, i)
        line = lines.get(key)
        # small glyphs ("-", "<", ",") take the line's extent too, judged by the line's
        # typical word height, so every word of a line gets the same vertical band
        if line is not None and line.height <= max_line_to_word_height * max(typical.get(key, wb.height), 1):
            top, bottom = min(top, line.top), max(bottom, line.top + line.height)
        bbox = BBox(
            x0=round(wb.left / scale_x, 2),
            top=round(top / scale_y, 2),
            x1=round((wb.left + wb.width) / scale_x, 2),
            bottom=round(bottom / scale_y, 2),
        )
        words.append(
            Word(
                text=text,
                bbox=bbox,
                page=page_number,
                font_size=round(bbox.height, 2),
                confidence=round(min(1.0, max(0.0, conf / 100.0)), 3),
                source=WordSource.OCR,
            )
        )
    return tuple(words)


@dataclass(frozen=True)
class Rulings:
    horizontal_y: tuple[float, ...]  # points, centre lines of horizontal rules
    mask: np.ndarray  # uint8 mask of rule pixels (horizontal and vertical), image-sized


def _rule_components(
    opened: np.ndarray, ink: np.ndarray, axis: int, max_thickness: int, clearance: int, max_side_ink: float = 0.25
) -> tuple[np.ndarray, list[float]]:
    """Keep thin components with clear space on both sides (a band cut through a line of
    text has ink just above / below it; a table rule does not, apart from descenders)."""
    n, labels, stats = components(opened)
    keep = np.zeros(n, dtype=bool)
    centres: list[float] = []
    height, width = ink.shape
    for i in range(1, n):
        x, y, w, h, _ = stats[i]
        if (h if axis == 0 else w) > max_thickness:
            continue
        if axis == 0:
            sides = (ink[max(0, y - clearance), x : x + w], ink[min(height - 1, y + h - 1 + clearance), x : x + w])
        else:
            sides = (ink[y : y + h, max(0, x - clearance)], ink[y : y + h, min(width - 1, x + w - 1 + clearance)])
        if max(float(side.mean()) for side in sides) > max_side_ink:
            continue
        keep[i] = True
        centres.append(y + h / 2.0 if axis == 0 else x + w / 2.0)
    return keep[labels], centres


def _rule_debris(
    bw: np.ndarray,
    scale: float,
    min_span: int,
    max_height_pt: float = 2.0,
    reach_pt: float = 12.0,
    band_pt: float = 1.0,
    min_pieces: int = 3,
) -> tuple[np.ndarray, list[float]]:
    """Rules that faxing / thresholding broke into dashes and dots, and dot leaders.

    A flat fragment (no taller than ``max_height_pt``) is debris when no taller ink lies
    beside it (within ``reach_pt``, in its own rows) — a hyphen between two numbers or an
    accent next to a letter has taller neighbours in the same rows, a piece of a rule does
    not — and when at least ``min_pieces`` such fragments line up (within ``band_pt``)
    over ``min_span`` pixels.
    """
    n, labels, stats = components(bw)
    none = (np.zeros(bw.shape, dtype=bool), [])
    if n <= 1:
        return none
    x, y, w, h = (stats[:, i] for i in range(4))
    flat = h <= max(2, int(max_height_pt * scale))
    flat[0] = False
    if not flat.any():
        return none
    tall = (bw > 0) & ~flat[labels]
    integral = cv2.integral(tall.astype(np.uint8))
    reach = max(2, int(reach_pt * scale))
    rows, cols = bw.shape
    idx = np.nonzero(flat)[0]
    x0 = np.clip(x[idx] - reach, 0, cols)
    x1 = np.clip(x[idx] + w[idx] + reach, 0, cols)
    y0 = np.clip(y[idx], 0, rows)
    y1 = np.clip(y[idx] + h[idx], 0, rows)
    beside = integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]
    lone = idx[beside == 0]
    if lone.size < min_pieces:
        return none
    centre = y[lone] + h[lone] / 2.0
    band = max(1.0, band_pt * scale)
    order = np.argsort(centre)
    debris = np.zeros(n, dtype=bool)
    centres: list[float] = []
    group: list[int] = []

    def close_group() -> None:
        if len(group) >= min_pieces:
            members = lone[group]
            span = int((x[members] + w[members]).max() - x[members].min())
            if span >= min_span:
                debris[members] = True
                centres.append(float(np.median(centre[group])))

    for j in order:
        if group and centre[j] - centre[group[0]] > band:
            close_group()
            group = []
        group.append(int(j))
    close_group()
    if not debris.any():
        return none
    return debris[labels], centres


def find_rulings(
    gray: np.ndarray,
    scale: float,
    min_h_length_pt: float = 100.0,
    min_v_length_pt: float = 25.0,
    max_thickness_pt: float = 3.0,
    bridge_pt: float = 3.0,
    clearance_pt: float = 1.2,
    ink_below: int = 200,
) -> Rulings:
    """Table rules: long, thin runs of ink, horizontal and vertical.

    A fixed ink threshold (not Otsu) keeps anti-aliased hairlines; a closing bridges
    slightly broken rules (JPEG); the long opening removes text; the thickness and
    clearance checks reject any band of text that survived. Rules broken into dashes and
    dots (fax) are found by :func:`_rule_debris`; both go into ``mask``, only lines at
    least half of ``min_h_length_pt`` long into ``horizontal_y``. Above ~180 dpi the search
    runs at half resolution on a darkest-pixel downscale (keeps hairlines, 4x cheaper).
    """
    if scale > 2.5:
        half = cv2.erode(gray, np.ones((2, 2), np.uint8))[::2, ::2]
        found = find_rulings(
            half, scale / 2, min_h_length_pt, min_v_length_pt, max_thickness_pt, bridge_pt, clearance_pt, ink_below
        )
        full = cv2.resize(found.mask, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_NEAREST)
        return Rulings(horizontal_y=found.horizontal_y, mask=full)
    ink = gray < ink_below
    bw = ink.astype(np.uint8) * 255
    bridge = max(2, int(bridge_pt * scale))
    thick = max(3, int(max_thickness_pt * scale))
    clear = max(2, int(clearance_pt * scale))
    h_len, v_len = max(10, int(min_h_length_pt * scale)), max(10, int(min_v_length_pt * scale))
    h_src = cv2.morphologyEx(bw, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (bridge, 1)))
    h_open = cv2.morphologyEx(h_src, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (h_len, 1)))
    h_mask, h_centres = _rule_components(h_open, ink, 0, thick, clear)
    if ERASE_VERTICAL:
        v_src = cv2.morphologyEx(bw, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, bridge)))
        v_open = cv2.morphologyEx(v_src, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, v_len)))
        v_mask, _ = _rule_components(v_open, ink, 1, thick, clear)
    else:  # not searched at all: erasing them cost more digits than it saved
        v_mask = np.zeros(ink.shape, dtype=bool)
    d_mask, d_centres = _rule_debris(bw, scale, h_len // 2) if ERASE_DEBRIS else (np.zeros(bw.shape, dtype=bool), [])
    h_mask |= d_mask
    h_centres += d_centres
    merged: list[float] = []
    for y in sorted(c / scale for c in h_centres):  # a thick or broken rule gives several parts
        if not merged or y - merged[-1] >= 1.5:
            merged.append(y)
    return Rulings(horizontal_y=tuple(round(float(y), 1) for y in merged), mask=(h_mask | v_mask).astype(np.uint8))


def erase_rulings(gray: np.ndarray, rulings: Rulings) -> np.ndarray:
    """Paint rules white (with a 1-px halo): tesseract reads them as ``|``/``l``/``1`` or
    merges rows across them otherwise. Ink of glyphs crossing a rule is lost only where
    it overlaps the rule itself."""
    if not rulings.mask.any():
        return gray
    return whiten(gray, cv2.dilate(rulings.mask, np.ones((3, 3), np.uint8)))


REREAD_DOUBTFUL = True  # value recall on the scanned tuning pages: 87.5% -> 94.5%, about +4% OCR time
REREAD_BELOW = 0.95  # numbers read with less confidence are read again (0.95 and 1.0 gave the same recall)
_NUMERIC_WORD = re.compile(r"^[<>≤≥]?[\dOoIlSB|!.,:;'’\"()]*\d[\dOoIlSB|!.,:;'’\"()]*[*+-]?$")
_NUMBER_READ = re.compile(r"^[<>≤≥]?\d[\d.,]*[*+-]?$")


def _same_line(a: Word, b: Word) -> bool:
    """Do two words share a line (vertical overlap of at least half the smaller height)?"""
    overlap = min(a.bbox.bottom, b.bbox.bottom) - max(a.bbox.top, b.bbox.top)
    return overlap >= 0.5 * min(a.bbox.height, b.bbox.height)


def _cell_box(
    word: Word, neighbours: Sequence[Word], scale_x: float, scale_y: float, size: tuple[int, int]
) -> tuple[int, int, int, int]:
    """Pixel rectangle around ``word``: half a line height of margin, but never reaching
    past half the gap to the nearest word on the same line (its letters would be read too)."""
    h = word.bbox.bottom - word.bbox.top
    left_room = right_room = 0.6 * h
    for other in neighbours:
        if other is word or not _same_line(word, other):
            continue
        if other.bbox.x1 <= word.bbox.x0:
            left_room = min(left_room, (word.bbox.x0 - other.bbox.x1) / 2)
        elif other.bbox.x0 >= word.bbox.x1:
            right_room = min(right_room, (other.bbox.x0 - word.bbox.x1) / 2)
    pad_y = 0.15 * h
    x0 = max(0, int((word.bbox.x0 - left_room) * scale_x))
    x1 = min(size[0], int(round((word.bbox.x1 + right_room) * scale_x)))
    y0 = max(0, int((word.bbox.top - pad_y) * scale_y))
    y1 = min(size[1], int(round((word.bbox.bottom + pad_y) * scale_y)))
    return x0, y0, max(1, x1 - x0), max(1, y1 - y0)


def _line_mates(words: Sequence[Word], picks: Sequence[int]) -> dict[int, list[Word]]:
    """For each picked word, the words that share its line (:func:`_same_line`), found with
    one array comparison per pick instead of a test of every pair (a page of 300 words and
    35 picks made 10 000 calls)."""
    tops = np.array([w.bbox.top for w in words], dtype=np.float64)
    bottoms = np.array([w.bbox.bottom for w in words], dtype=np.float64)
    heights = bottoms - tops
    out: dict[int, list[Word]] = {}
    for i in picks:
        overlap = np.minimum(bottoms, bottoms[i]) - np.maximum(tops, tops[i])
        same = overlap >= 0.5 * np.minimum(heights, heights[i])
        out[i] = [words[j] for j in np.flatnonzero(same)]
    return out


DOUBTFUL_WORD = 0.6  # any short word read with less confidence is read again on its own
# ...and any longer one that is mostly letters: a name or label garbled in its long line
# ("VREHArIRB" for Katharina, "Sibbfer:" for Schäfer, both at confidence 0) reads right alone
DOUBTFUL_LONG_LETTERS = 0.5


# a short word between table rules read as brackets or bars: "[6]" and "[ei]" for "Cl"
_BETWEEN_RULES = re.compile(r"^[\[|{](?P<inner>[^\[\]|{}\s]{1,3})[\]|}]$")
BETWEEN_RULES_BELOW = 0.9


def _reread_candidate(word: Word) -> bool:
    if _NUMERIC_WORD.match(word.text):
        return word.confidence < REREAD_BELOW
    if _BETWEEN_RULES.match(word.text):
        return word.confidence < BETWEEN_RULES_BELOW
    if word.confidence >= DOUBTFUL_WORD:
        return False
    return len(word.text) <= 6 or _letters(word.text) >= DOUBTFUL_LONG_LETTERS * len(word.text)


REREAD_UNITS = True
_BOUND_OR_RANGE = re.compile(r"^[\[(<>≤≥]\s*\d|\d\s*[-–]\s*\d")  # "[4,50-5,90", "<15": not a unit


def _after_number(words: Sequence[Word], i: int) -> bool:
    """Is word ``i`` the next on its line after a number (and that number's flag)?"""
    if i == 0:
        return False
    word, before = words[i], words[i - 1]
    if is_flag(before.text) and i >= 2 and _same_line(before, word):  # "13,33 H mmo/L"
        before = words[i - 2]
    return bool(_NUMBER_READ.match(before.text) and before.bbox.x1 <= word.bbox.x0 and _same_line(before, word))


def _unit_candidate(words: Sequence[Word], i: int) -> bool:
    """The word right after a number (and its flag) on its line, short, with a letter or
    ``%``, and not a unit the table knows: where a unit is printed, read garbled in the
    long row ("gaL" for g/dL, "UL", "mmolL"). Numbers, ranges, bounds, range words
    ("bis") and flags are not candidates, nor are keys (``H:``) and words the report
    vocabulary knows (:func:`extractors.rules.known_words`: ``Page 1``, ``12 rue``):
    a quarter of the unit cells of a development set, and never a unit."""
    if not _after_number(words, i):
        return False
    text = words[i].text
    if len(text) > 12 or not re.search(r"[^\W\d_]|%", text) or _BOUND_OR_RANGE.search(text):
        return False
    if text.endswith(":") or fold_word(text) in known_words():
        return False  # a key ("H:") or a word the report prints ("Page", "rue"): not a unit read garbled
    if is_flag(text) or parse_number(text) is not None or parse_range(f"1 {text} 2") is not None:
        return False
    return not is_printed_unit(text)


_EDGE_BAR = re.compile(r"^[|¦]\s+|\s+[|¦]$")  # a table rule caught at the edge of a cell's crop: "| Schafer,"


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


def _unit_read(old: Word, new: str) -> bool:
    """A unit candidate's cell reading replaces it when it is a unit the table knows, of
    two characters or more (``%`` alone), with no fewer letters (a cell cut short reads
    ``mU/L`` for ``mlU/L``)."""
    return (len(new) >= 2 or new == "%") and is_printed_unit(new) and _letters(new) >= _letters(old.text)


def _leaves_the_vocabulary(old: str, new: str) -> bool:
    """A word the report vocabulary knows (:func:`extractors.rules.known_words`) read again
    as one it does not: the first reading was right, only unsure ("Prélevé" at 0.38 read
    alone as "Prélové" at 0.79)."""
    known = known_words()
    return fold_word(old) in known and fold_word(new) not in known


def reread_doubtful_words(
    eng: Engine, image: Image.Image, words: tuple[Word, ...], scale_x: float, scale_y: float
) -> tuple[Word, ...]:
    """Read doubtful words again, each cell on its own (see :mod:`extractors.tesseract`).

    Tesseract reads a table row as one long line and drops or garbles small glyphs in it
    (decimal commas, a leading digit: "62,0" -> "2,0", "5,3" -> "Sl"); a cell read alone
    does not suffer from that. Candidates are numeric-looking words under
    ``REREAD_BELOW`` confidence and any short word under ``DOUBTFUL_WORD``. A new reading
    replaces the old one only when it is one clean token (a number, for numeric-looking
    words) and tesseract is at least as sure of it (clearly surer, for words that change
    from letters to a number or stay letters); the word then carries the new confidence.
    """
    doubtful = {i for i, w in enumerate(words) if _reread_candidate(w)}
    unit_picks = {i for i in range(len(words)) if REREAD_UNITS and _unit_candidate(words, i)}
    picks = sorted(doubtful | unit_picks)
    if not picks:
        return words
    mates = _line_mates(words, picks)
    boxes = [_cell_box(words[i], mates[i], scale_x, scale_y, image.size) for i in picks]
    reads = eng.read_cells(image, boxes)
    out: list[Word | tuple[Word, ...]] = list(words)
    for i, read in zip(picks, reads):
        old = words[i]
        new = _EDGE_BAR.sub("", read.text.strip(_EDGE_JUNK))
        if i in unit_picks:  # a garbled unit read alone: taken only as one the table knows
            if _unit_read(old, new):
                out[i] = old.model_copy(update={"text": new, "confidence": round(read.confidence, 3)})
            if i not in doubtful:
                continue
        number = number_before_mark(old.text, new, read.confidence)
        if number is not None:
            box = old.bbox.model_copy(update={"x1": old.bbox.x0 + old.bbox.width * len(number) / len(old.text)})
            out[i] = old.model_copy(update={"text": number, "confidence": round(read.confidence, 3), "bbox": box})
            continue
        marked = mark_then_number(old.text, new, read.confidence)
        if marked is not None:  # "1149" was "1 14,9": a mark read as a digit, then the value
            out[i] = _split_flag(old, marked, read.confidence)
            continue
        flagged = _FLAGGED_NUMBER.match(new)
        if flagged and _NUMERIC_WORD.match(old.text) and read.confidence >= max(0.8, old.confidence):
            out[i] = _split_flag(old, flagged, read.confidence)  # "21,25" was "* 1,25": a flag and the number
            continue
        if not new or new == old.text or " " in new:
            continue
        numeric_before = bool(_NUMERIC_WORD.match(old.text))
        if numeric_before and _POWER_UNIT_READ.match(new) and _after_number(words, i) and read.confidence >= max(0.5, old.confidence):
            # a count unit the long row read as digits ("1092" for 10^9/L; alone: "10A9/L"):
            # taken as read, the unit mapping repairs the caret and sends it to review
            out[i] = old.model_copy(update={"text": new, "confidence": round(read.confidence, 3)})
            continue
        if _NUMBER_READ.match(new):
            ok = read.confidence >= old.confidence if numeric_before else read.confidence >= max(0.8, old.confidence + 0.2)
        elif (ruled := _BETWEEN_RULES.match(old.text)) and new.isalnum():
            # the rules were read as glyphs of the word: alone, the cell reads clean ("Cl")
            ok = read.confidence >= 0.7 and len(new) >= len(ruled.group("inner"))
        else:
            # letters stay letters: never fewer of them (a cell cut short reads "U" for "U/l")
            ok = (
                not numeric_before
                and read.confidence >= max(0.7, old.confidence + 0.2)
                and (len(new) >= len(old.text.strip("[](){}|!'")) or _garbage_read_clean(old, read.confidence, words, i))
                and not _leaves_the_vocabulary(old.text, new)
            )
        if ok:
            out[i] = old.model_copy(update={"text": new, "confidence": round(read.confidence, 3)})
    return tuple(w for item in out for w in (item if isinstance(item, tuple) else (item,)))


GARBAGE_WORD = 0.1  # a word the page pass read with less confidence than this is garbage...
CLEAN_CELL = 0.85  # ...and its cell read alone this surely replaces it, even with fewer letters


def _garbage_read_clean(old: Word, confidence: float, words: Sequence[Word], i: int) -> bool:
    """A word read as garbage in the long line ("iE" at 0.03 for a lone "F" after
    "Gender:") that its cell reads surely: fewer letters are allowed, except where a unit
    is printed (after a number: a cell cut short reads "U" for "U/l")."""
    return old.confidence < GARBAGE_WORD and confidence >= CLEAN_CELL and not _after_number(words, i)


# "10^9/L" read alone, its caret misread or lost: "10A9/L", "1019/L", "10*12/l"
_POWER_UNIT_READ = re.compile(r"^10[^\s/.,]{1,3}/[^\W\d_]{1,3}$")
_MARKED_NUMBER = re.compile(r"^(?P<n>[<>≤≥]?\d+(?:[.,]\d+)?)\s+(?P<m>[^\s\w*+\-]|[14])$")
MARKED_NUMBER_READ = 0.7  # a number read apart from a glyph glued to it in the page pass


def number_before_mark(old: str, cell: str, confidence: float) -> str | None:
    """The number of a word the page pass read with a glyph glued to its end ("15,91"),
    when the word's cell, read alone, shows a gap before that glyph ("15,9 1", "30,8 }"):
    the glyph is a mark printed after the value (a flag arrow read as 1, 4 or a brace). No
    number continues after a gap with a single glyph (a thousands group has three digits)."""
    m = _MARKED_NUMBER.match(cell)
    if m is None or old[:-1] != m["n"] or confidence < MARKED_NUMBER_READ:
        return None
    return m["n"]


# a digit set apart before a number whose integer part has one or two digits: no thousands
# group (those have three), so a mark read as a digit ("↑ 14,9" read alone as "1 14,9")
_MARK_THEN_NUMBER = re.compile(r"^(?P<before>\d)\s+(?P<n1>\d{1,2}[.,]\d+)$")
MARK_THEN_NUMBER_READ = 0.6  # lower than for a mark after: the cell's digits must agree with the page pass's


def mark_then_number(old: str, cell: str, confidence: float) -> re.Match[str] | None:
    """The cell of a word the page pass read as one number ("1149"), read alone as a
    digit, a gap and a decimal number with the same digits ("1 14,9"): the page pass
    glued a mark printed before the value (an arrow read as 1) onto it, and here also
    lost its decimal comma. The digit is kept as a word of its own; whether it is a mark is
    weighed against the reference range by :mod:`extractors.results`."""
    m = _MARK_THEN_NUMBER.match(cell)
    if m is None or confidence < MARK_THEN_NUMBER_READ:
        return None
    digits = re.sub(r"\D", "", old)
    return m if digits == m["before"] + re.sub(r"\D", "", m["n1"]) else None


_FLAGGED_NUMBER = re.compile(r"^(?:(?P<before>[*+\-HLhl↑↓])\s+(?P<n1>\d+(?:[.,]\d+)?)|(?P<n2>\d+(?:[.,]\d+)?)\s+(?P<after>[*+\-HLhl↑↓]))$")


def _split_flag(old: Word, m: re.Match[str], confidence: float) -> tuple[Word, ...]:
    """Two words in ``old``'s box for a cell read as a flag and a number."""
    text = m.group(0)
    per = old.bbox.width / max(1, len(text))
    parts = [("before", "n1"), ("n2", "after")][0 if m.group("n1") else 1]
    out = []
    for name in parts:
        a, b = m.span(name)
        box = old.bbox.model_copy(update={"x0": round(old.bbox.x0 + a * per, 2), "x1": round(old.bbox.x0 + b * per, 2)})
        out.append(old.model_copy(update={"text": m.group(name), "bbox": box, "confidence": round(confidence, 3)}))
    return tuple(out)


SPLIT_MARKS = True
MARK_GAP = 0.6  # a gap after a number's first glyph this wide (of the ink's height)...
MARK_GAP_RATIO = 3.0  # ...and this many times its widest other gap sets the glyph apart
_MARK_CANDIDATE = re.compile(r"^\d\d[\d.,]*\d$")  # three glyphs at least: the rest has a gap to compare
INK_BELOW = 140  # a pixel this dark is ink (pages come cleaned: white paper, dark print)


def _ink_runs(columns: np.ndarray) -> list[tuple[int, int]]:
    """``(start, end)`` of each run of True in a 1-D array."""
    padded = np.concatenate(([False], columns, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def split_marked_numbers(gray: np.ndarray, words: tuple[Word, ...], scale_x: float, scale_y: float) -> tuple[Word, ...]:
    """A number whose first glyph stands apart from the rest, as two words.

    Tesseract reads a mark printed before a value ("↑ 162", an arrow it has no glyph for)
    as a digit and glues it on: "1162". In the pixels the mark is set off by a word
    space; the digits of a number are not (measured on the scanned seed pages: the gap
    after a glued arrow is 0.65-0.96 of the ink's height, after a first digit at most
    0.31 on clean pages and 0.43 on a blurred photo, where two-digit words whose decimal
    point was lost ("42" for 4.2) reached 0.62). Split only when every glyph of the word
    is one ink run, so the first character is the first run, and the word has three
    glyphs at least, so the gap is also weighed against the number's own gaps. Whether
    the glyph is a mark or the first group of a number printed with a thousands space
    ("1 162") is not decided here (:func:`extractors.results` weighs both against the
    reference range).
    """
    out: list[Word] = []
    for w in words:
        parts = _marked_parts(gray, w, scale_x, scale_y) if w.source is WordSource.OCR and _MARK_CANDIDATE.match(w.text) else None
        out.extend(parts or (w,))
    return tuple(out)


def _marked_parts(gray: np.ndarray, w: Word, scale_x: float, scale_y: float) -> tuple[Word, Word] | None:
    x0, x1 = int(w.bbox.x0 * scale_x), round(w.bbox.x1 * scale_x)
    y0, y1 = int(w.bbox.top * scale_y), round(w.bbox.bottom * scale_y)
    ink = gray[max(0, y0) : y1, max(0, x0) : x1] < INK_BELOW
    if ink.size == 0:
        return None
    runs = _ink_runs(ink.any(axis=0))
    rows = np.flatnonzero(ink.any(axis=1))
    height = int(rows.size)
    if height == 0:
        return None
    if len(runs) == len(w.text) + 1 and w.text.isdigit():
        # one run more than characters: a decimal point the text lost ("↑ 11,7" read "1117")
        # is no character, but it is a glyph, and still no gap to set the mark apart
        points = [k for k in range(2, len(runs) - 1) if _is_point(ink[:, runs[k][0] : runs[k][1]], rows[0], height)]
        if len(points) != 1:
            return None
    elif len(runs) != len(w.text):  # a glyph broken in two, or two touching: characters and runs disagree
        return None
    gaps = [b[0] - a[1] for a, b in pairwise(runs)]
    if gaps[0] < MARK_GAP * height or gaps[0] < MARK_GAP_RATIO * max([1, *gaps[1:]]):
        return None
    cut = (x0 + runs[0][1]) / scale_x, (x0 + runs[1][0]) / scale_x
    mark = w.model_copy(update={"text": w.text[0], "bbox": w.bbox.model_copy(update={"x1": round(cut[0], 2)})})
    number = w.model_copy(update={"text": w.text[1:], "bbox": w.bbox.model_copy(update={"x0": round(cut[1], 2)})})
    return mark, number


def _is_point(ink: np.ndarray, top: int, height: int) -> bool:
    """Is this glyph's ink (columns of a word's ink mask) a decimal point or comma: narrow,
    short, and in the lower half of the word's ink?"""
    rows = np.flatnonzero(ink.any(axis=1))
    return rows.size > 0 and ink.shape[1] <= 0.35 * height and rows.size <= 0.4 * height and rows[0] - top >= 0.5 * height


READ_UNREAD_REGIONS = True  # pictures' regions and merged rows read again
PICTURE_MIN_SHARE = 0.01  # of the page area: smaller picture regions (a logo, a stamp) are left alone
REGION_WORD_CONFIDENCE = 0.5  # words read again in a region below this are taken for grain
MERGED_ROWS_HEIGHT = 1.8  # a word this many times the page's median word height spans two rows...
MERGED_ROWS_CONFIDENCE = 0.5  # ...and read below this confidence is garbage made of both
GARBLED_CONFIDENCE = 0.35  # a word of normal height read this unsurely may be rows merged less than half a row apart
GARBLED_REACH = 6.0  # line heights its region reaches right when no word follows in its row


def picture_regions(eng: Engine, image: Image.Image) -> list[tuple[int, int, int, int]]:
    """The regions the last page pass took for pictures (:meth:`Engine.image_blocks`),
    of at least ``PICTURE_MIN_SHARE`` of the page."""
    page_area = image.width * image.height
    return [b for b in eng.image_blocks() if (b[2] - b[0]) * (b[3] - b[1]) >= PICTURE_MIN_SHARE * page_area]


def merged_row_words(
    words: tuple[Word, ...], scale_x: float, scale_y: float, size: tuple[int, int]
) -> list[tuple[tuple[int, int, int, int], tuple[Word, ...]]]:
    """Words that may be two text rows read as one: pixel regions (a line height of margin
    around them) and the words in each.

    A page read as one column (``--psm 4``) joins a line on the left to the box of an
    address window on the right, whose rows sit half a row lower: the window's two rows
    then come out as one row of garbage words twice as tall as any other ("6a Se raiibes"
    for "Jean Ries" over "Born 28/11/1983", confidence 0-27)."""
    if len(words) < 5:
        return []
    typical = median(w.bbox.height for w in words)
    tall = [w for w in words if w.bbox.height >= MERGED_ROWS_HEIGHT * typical and w.confidence < MERGED_ROWS_CONFIDENCE]
    boxes = [([w.bbox.x0 - typical, w.bbox.top - 0.3 * typical, w.bbox.x1 + typical, w.bbox.bottom + 0.3 * typical], w) for w in tall]
    return _grouped_regions(boxes, scale_x, scale_y, size)


def _garbled(word: Word, words: Sequence[Word], typical: float) -> bool:
    """Letters read with almost no confidence, at a word's height, not where a unit is
    printed (after a number: units have their own repairs)."""
    text = word.text.rstrip(":")
    letters = _letters(text)
    if word.confidence >= GARBLED_CONFIDENCE or word.bbox.height < typical or letters < 3 or letters < 0.75 * len(text):
        return False
    before = [o for o in words if o.bbox.x1 <= word.bbox.x0 and _same_line(o, word)]
    return not before or parse_number(max(before, key=lambda o: o.bbox.x1).text) is None


def garbled_row_words(
    words: tuple[Word, ...], scale_x: float, scale_y: float, size: tuple[int, int]
) -> list[tuple[tuple[int, int, int, int], tuple[Word, ...]]]:
    """Like :func:`merged_row_words`, for rows merged less than half a row apart: the
    garbage is then no taller than a word but read with almost no confidence ("REITEN" for
    "Geschlecht: W", "PRE" for "Sexe : Féminin", confidence 0-0.33, ``GARBLED_CONFIDENCE``),
    and often only the start of the text has a box: the region reaches right to the next
    word of the row (at most ``GARBLED_REACH`` line heights). The re-read replaces the
    garbage only when it reads the garbage's own place surely (:func:`reads_the_garbage`)."""
    if len(words) < 5:
        return []
    typical = median(w.bbox.height for w in words)
    boxes = []
    for w in words:
        if _garbled(w, words, typical):
            after = [o.bbox.x0 for o in words if o.bbox.x0 >= w.bbox.x1 and _same_line(o, w)]
            right = max(min(after + [w.bbox.x1 + GARBLED_REACH * typical]), w.bbox.x1 + typical)
            boxes.append(([w.bbox.x0 - typical, w.bbox.top - 0.3 * typical, right, w.bbox.bottom + 0.3 * typical], w))
    return _grouped_regions(boxes, scale_x, scale_y, size)


def reads_the_garbage(new: Sequence[Word], garbage: Sequence[Word]) -> bool:
    """New words in the garbage's place, read surely (mean confidence 0.8 or more) and
    with no fewer letters than the garbage had."""
    over = [n for n in new if any(_same_line(n, g) and n.bbox.x0 < g.bbox.x1 and g.bbox.x0 < n.bbox.x1 for g in garbage)]
    if not over:
        return False
    return fmean(n.confidence for n in over) >= 0.8 and sum(_letters(n.text) for n in new) >= sum(_letters(g.text) for g in garbage)


def _grouped_regions(
    boxes: Sequence[tuple[list[float], Word]], scale_x: float, scale_y: float, size: tuple[int, int]
) -> list[tuple[tuple[int, int, int, int], tuple[Word, ...]]]:
    """Overlapping point boxes joined: pixel regions with the words in each."""
    groups: list[tuple[list[float], list[Word]]] = []
    for box, w in sorted(boxes, key=lambda bw: (bw[1].bbox.top, bw[1].bbox.x0)):
        for b, members in groups:
            if box[0] <= b[2] and b[0] <= box[2] and box[1] <= b[3] and b[1] <= box[3]:
                b[:] = [min(b[0], box[0]), min(b[1], box[1]), max(b[2], box[2]), max(b[3], box[3])]
                members.append(w)
                break
        else:
            groups.append((list(box), [w]))
    return [
        ((max(0, int(x0 * scale_x)), max(0, int(y0 * scale_y)), min(size[0], int(x1 * scale_x)), min(size[1], int(y1 * scale_y))), tuple(members))
        for (x0, y0, x1, y1), members in groups
    ]


def text_in_regions(
    eng: Engine,
    image: Image.Image,
    words: tuple[Word, ...],
    regions: Sequence[tuple[int, int, int, int]],
    page_number: int,
    scale_x: float,
    scale_y: float,
) -> tuple[Word, ...]:
    """New words from reading pixel ``regions`` ``(left, top, right, bottom)`` again, each
    as one block of text: its grain taken out (3-px median, then its own Otsu threshold:
    tesseract's threshold on grainy paper turns the grain into ink) and the ``words``
    already read painted out; words that overlap none of them are kept, unsure ones
    (``REGION_WORD_CONFIDENCE``: grain, a logo) dropped.

    Used where the page pass left text unread: regions its layout analysis took for
    pictures (:func:`picture_regions`; on a photographed page the paper's grain made one
    of the upper half, and a column of nine results went with it) and rows it merged
    (:func:`merged_row_words`)."""
    gray = to_array(image)
    found: list[Word] = []
    for left, top, right, bottom in regions:
        if right - left < 2 or bottom - top < 2:
            continue
        _, crop = cv2.threshold(cv2.medianBlur(gray[top:bottom, left:right], 3), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
        for w in words:  # paint out what was read (with a 2-px margin)
            x0, x1 = int(w.bbox.x0 * scale_x) - left - 2, int(w.bbox.x1 * scale_x) - left + 2
            y0, y1 = int(w.bbox.top * scale_y) - top - 2, int(w.bbox.bottom * scale_y) - top + 2
            if x1 > 0 and y1 > 0 and x0 < crop.shape[1] and y0 < crop.shape[0]:
                crop[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)] = 255
        for w in _block_words(eng, Image.fromarray(crop), left, top, page_number, scale_x, scale_y):
            if any(_overlaps(w, old) for old in (*words, *found)):
                continue
            found.append(w)
    return tuple(found)


def _block_words(
    eng: Engine, crop: Image.Image, left: int, top: int, page_number: int, scale_x: float, scale_y: float
) -> list[Word]:
    """Words of a pixel crop whose corner is at ``(left, top)`` of the page, read as one
    block of text (``--psm 6``), in page points; unsure ones (``REGION_WORD_CONFIDENCE``:
    grain, a logo) and those without a letter or digit dropped."""
    data = eng.read_page(crop, 6, dpi=72.0 * (scale_x + scale_y) / 2)
    data["left"] = [int(v) + left for v in data["left"]]
    data["top"] = [int(v) + top for v in data["top"]]
    return [
        w
        for w in words_from_tesseract(data, page_number, scale_x, scale_y)
        if w.confidence >= REGION_WORD_CONFIDENCE and any(ch.isalnum() for ch in w.text)
    ]


def _overlaps(a: Word, b: Word) -> bool:
    return a.bbox.overlap_share(b.bbox) > 0.3


def ocr_page(
    image: Image.Image,
    page_number: int,
    page_width_pt: float,
    page_height_pt: float,
    lang: str = DEFAULT_LANG,
    *,
    psm: int = DEFAULT_PSM,
    rotation: int = 0,
    route_reason: str = "ocr",
    erase_rules: bool = True,
) -> Page:
    """OCR an (already upright) page image whose extent is ``page_width_pt`` x ``page_height_pt``.

    Table rules are found (-> ``Page.rulings_y``) and erased before tesseract runs.
    ``rotation`` is only recorded on the Page (the clockwise angle the caller applied).
    """
    scale_x = image.width / page_width_pt
    scale_y = image.height / page_height_pt
    scale = (scale_x + scale_y) / 2
    with stage("rules"):
        gray = to_array(image)
        rulings = find_rulings(gray, scale)
        clean_gray = erase_rulings(gray, rulings) if erase_rules else gray
        clean = Image.fromarray(clean_gray) if erase_rules else image
    eng = engine(lang)
    with stage("page pass"):
        data = eng.read_page(clean, psm, dpi=72.0 * scale)
        words = words_from_tesseract(data, page_number, scale_x, scale_y)
    with stage("region re-reads"):
        words = _read_unread_regions(eng, clean, words, page_number, scale_x, scale_y)
    if REREAD_DOUBTFUL:
        with stage("cell re-reads"):
            words = reread_doubtful_words(eng, clean, words, scale_x, scale_y)
    if SPLIT_MARKS:
        words = split_marked_numbers(clean_gray, words, scale_x, scale_y)
    if REREAD_PATIENT_BLOCK:
        with stage("patient block"):
            words = reread_patient_block(eng, clean, words, page_number, scale_x, scale_y)
    quality = round(fmean(w.confidence for w in words), 3) if words else 0.0
    return Page(
        number=page_number,
        width=round(page_width_pt, 3),
        height=round(page_height_pt, 3),
        words=words,
        source=WordSource.OCR,
        route_reason=route_reason,
        quality=quality,
        rotation=rotation % 360,
        rulings_y=rulings.horizontal_y,
    )


def _read_unread_regions(
    eng: Engine, clean: Image.Image, words: tuple[Word, ...], page_number: int, scale_x: float, scale_y: float
) -> tuple[Word, ...]:
    """The page pass's words with what its picture regions and merged rows hold, read apart."""
    if READ_UNREAD_REGIONS:
        pictures = picture_regions(eng, clean)
        if pictures:
            words = words + text_in_regions(eng, clean, words, pictures, page_number, scale_x, scale_y)
        # rows merged into garbage, read apart: the tall kind is replaced by whatever the region
        # reads (fax noise reads as nothing: kept as it was), the garbled kind only by a sure
        # reading of its own place
        finders = ((merged_row_words, lambda new, garbage: bool(new)), (garbled_row_words, reads_the_garbage))
        for find, accept in finders:
            for region, garbage in find(words, scale_x, scale_y, clean.size):
                rest = tuple(w for w in words if all(w is not g for g in garbage))
                new = text_in_regions(eng, clean, rest, [region], page_number, scale_x, scale_y)
                if accept(new, garbage):
                    words = rest + new
    return words


REREAD_PATIENT_BLOCK = True
PATIENT_BLOCK_ABOVE = 6.0  # anchor heights above the first the block's re-read reaches (the name heads the block)
PATIENT_BLOCK_BELOW = 2.5  # ...and below the last: a row more, whose key may not have read
PATIENT_BLOCK_GAP = 4.0  # anchors farther apart than this many heights are in different blocks


def patient_block_region(read: PatientRead, width_pt: float) -> tuple[float, float, float, float] | None:
    """The patient block in points ``(x0, top, x1, bottom)``: from the left edge of its
    anchors (less a third of their height) to the page's right edge, from
    ``PATIENT_BLOCK_ABOVE`` anchor heights above the first (the name, printed without a
    key, heads the block) to ``PATIENT_BLOCK_BELOW`` below the last (a row whose key did
    not read). Anchors more than ``PATIENT_BLOCK_GAP`` heights apart belong to different
    blocks (an identifier repeated in the footer): the block with the most anchors is
    taken."""
    if not read.anchors:
        return None
    size = median(a.height for a in read.anchors)
    blocks: list[list[BBox]] = []
    for a in sorted(read.anchors, key=lambda a: a.top):
        if blocks and a.top - max(b.bottom for b in blocks[-1]) <= PATIENT_BLOCK_GAP * size:
            blocks[-1].append(a)
        else:
            blocks.append([a])
    block = max(blocks, key=len)
    x0 = max(0.0, min(a.x0 for a in block) - 0.3 * size)
    top = max(0.0, min(a.top for a in block) - PATIENT_BLOCK_ABOVE * size)
    bottom = max(a.bottom for a in block) + PATIENT_BLOCK_BELOW * size
    return x0, top, width_pt, bottom


def _boxed_over_two_rows(old: Word, new: Word) -> bool:
    """A word outside the block whose box the page pass stretched down over the block's
    first row ("Kollegen" boxed 22 pt tall over "Luca Rossi" beside it): ``new``, read
    in the block, sits in its lower part. It gives that part up."""
    return old.bbox.height >= 1.5 * new.bbox.height and new.bbox.top >= old.bbox.top + 0.5 * new.bbox.height


def _reads_better(new: PatientRead, old: PatientRead) -> bool:
    """More patient fields and none lost, or the same fields with the name no longer
    read twice over, or no longer read unsurely; the report's other fields read before
    (dates, report number, often printed beside the block) read the same."""
    if not old.fields <= new.fields or new.crowded and not old.crowded or new.doubtful and not old.doubtful:
        return False
    if any(before is not None and before != after for before, after in zip(old.others, new.others)):
        return False
    return len(new.fields) > len(old.fields) or (old.crowded and not new.crowded) or (old.doubtful and not new.doubtful)


def reread_patient_block(
    eng: Engine, image: Image.Image, words: tuple[Word, ...], page_number: int, scale_x: float, scale_y: float
) -> tuple[Word, ...]:
    """The page's words with its patient block read again as one block of text, when its
    keys are there but patient fields did not read (or one was read unsurely, or the name
    twice over).

    On photographed and faxed pages the page pass joins the patient block to the
    laboratory's letterhead beside it: "a Rossi Koss" for "Luca Rossi" under "Kollegen",
    "IIRINEGARE" for "Geschlecht m"; read alone (``--psm 6``) the block reads clean. The
    new words replace the old ones inside the block only when the patient fields read
    better (:func:`_reads_better`); a word of the block that none of them reads over
    stays."""
    old = patient_read(group_lines(words))
    if old.complete:
        return words
    region = patient_block_region(old, image.width / scale_x)
    if region is None:
        return words
    x0, top, x1, bottom = region
    left, upper = int(x0 * scale_x), int(top * scale_y)
    right, lower = min(image.width, int(x1 * scale_x)), min(image.height, int(bottom * scale_y))
    if right - left < 2 or lower - upper < 2:
        return words

    def inside(w: Word) -> bool:
        return x0 <= w.bbox.xmid <= x1 and top <= w.bbox.ymid <= bottom

    kept = [w for w in words if not inside(w)]
    within = [w for w in words if inside(w)]
    cut = [w for w in kept if w.bbox.x0 < x0 < w.bbox.x1]  # words the block's left edge cuts through
    new: list[Word] = []
    for w in _block_words(eng, image.crop((left, upper, right, lower)), left, upper, page_number, scale_x, scale_y):
        if w.text[:1].islower() and w.bbox.x0 - x0 < w.bbox.height and any(_same_line(w, c) for c in cut):
            continue  # the tail of a word the edge cut ("en" of "Kollegen"): read already
        for i, k in enumerate(kept):
            if _overlaps(w, k) and _boxed_over_two_rows(k, w):
                kept[i] = k.model_copy(update={"bbox": k.bbox.model_copy(update={"bottom": w.bbox.top - 0.5})})
        if not any(_overlaps(w, k) for k in kept):
            new.append(w)
    # a word of the block that no new word reads over stays: the block's re-read dropped it as unsure
    kept += [w for w in within if not any(_overlaps(w, n) for n in new)]
    candidate = (*kept, *new)
    return candidate if _reads_better(patient_read(group_lines(candidate)), old) else words


# --- language ------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def language_cues() -> dict[str, frozenset[str]]:
    raw = json.loads(_CUES_PATH.read_text(encoding="utf-8"))
    return {k: frozenset(v) for k, v in raw.items() if not k.startswith("_")}


def _fold(token: str) -> str:
    decomposed = unicodedata.normalize("NFKD", token.lower())
    return "".join(ch for ch in decomposed if ch.isalpha() and not unicodedata.combining(ch))


def language_scores(tokens: Sequence[str]) -> dict[str, int]:
    """How many tokens are cue words of each language."""
    cues = language_cues()
    folded = [_fold(t) for t in tokens]
    return {lang: sum(t in words for t in folded) for lang, words in cues.items()}


def choose_language(scores: Mapping[str, int], default: str = DEFAULT_LANG, min_hits: int = 3, mix_ratio: float = 0.5) -> str:
    """Best-scoring language; ``fra+deu`` when French and German are both strong."""
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    if not ranked or ranked[0][1] < min_hits:
        return default
    best, best_n = ranked[0]
    fr, de = scores.get("fra", 0), scores.get("deu", 0)
    if best in ("fra", "deu") and min(fr, de) >= min_hits and min(fr, de) >= mix_ratio * max(fr, de):
        return "fra+deu"
    return best


def language_from_words(words: Sequence[Word], default: str = DEFAULT_LANG) -> str:
    """Language of already-OCR'd words (any model reads the cue words well enough)."""
    return choose_language(language_scores([w.text for w in words]), default=default)


# where each band of the look may end (share of the height). A narrower first band: on the
# first pages of 315 scans (seven development sets) the look took 0.080 s instead of 0.093
# with the former bands (0.17-0.23, 0.27-0.33, 0.37-0.43), and chose the same model for 314
# (the other, a German fax, it now reads as German, the former bands as French)
LOOK_BANDS = ((0.11, 0.15), (0.20, 0.26), (0.30, 0.36), (0.40, 0.46))
# the look reads no further when its words so far are this unsure: upside-down and sideways
# pages of the benchmark set looked 0.24-0.38; upright first pages of seven development
# sets 0.54-0.95
GARBAGE_LOOK = 0.4


def language_decided(scores: Mapping[str, int], min_hits: int = 3) -> bool:
    """Do the cue words counted so far settle the language? The leader has ``min_hits``
    and three times the runner-up's count (OCR noise gives stray hits of one or two), or
    French and German are both strong (a bilingual report)."""
    ranked = sorted(scores.values(), reverse=True) + [0, 0]
    return ranked[0] >= min_hits and ("+" in choose_language(scores, min_hits=min_hits) or ranked[0] >= 3 * ranked[1])


def _emptiest_row(gray: np.ndarray, lo: float, hi: float) -> int:
    """The row with the least ink between ``lo`` and ``hi`` of the height: a cut there
    goes between text lines, not through one."""
    a, b = int(gray.shape[0] * lo), max(int(gray.shape[0] * lo) + 1, int(gray.shape[0] * hi))
    ink = (255 - gray[a:b, ::4].astype(np.int32)).sum(axis=1)
    return a + int(np.argmin(ink))


def detect_ocr_language_detailed(image: Image.Image, default: str = DEFAULT_LANG, dpi: float = DEFAULT_DPI) -> tuple[str, float]:
    """(language, mean word confidence) from a quick look at the top of the page.

    The ``eng`` model reads a 150-dpi copy of the page from the top, a band at a time
    (:data:`LOOK_BANDS`, each cut between text lines), until the cue words decide
    (:func:`language_decided`); then the language is chosen on all words read. The
    confidence tells an upside-down page (garbage, ~0.3) before any full OCR pass.
    On the first pages of 231 upright scans of seven development sets: the right model
    for 230, in 0.098 s a page. The single look at the top 30% it replaced: 226, in
    0.157 s (a landscape page's header held too few cue words). Tesseract's time grows
    with the text read, hardly with the resolution: a 110-dpi look saved a fifth.
    """
    pairs: list[tuple[str, float]] = []
    with stage("language look"):
        gray = to_array(image)
        top = 0
        for lo, hi in LOOK_BANDS:
            bottom = max(top + 1, _emptiest_row(gray, lo, hi))  # never an empty band (a page a few pixels tall)
            if bottom > gray.shape[0]:
                break
            crop, crop_dpi = at_most_dpi(Image.fromarray(gray[top:bottom]), dpi, 150.0)
            data = run_tesseract(crop, "eng", psm=6, dpi=crop_dpi)
            pairs += [(str(t), float(c)) for t, c in zip(data["text"], data["conf"]) if str(t).strip() and float(c) >= 0]
            if language_decided(language_scores([t for t, _ in pairs])):
                break
            if pairs and fmean(c for _, c in pairs) < 100 * GARBAGE_LOOK:
                break  # a turned page reads as garbage: no band will decide, the caller turns it
            top = bottom
    conf = fmean(c for _, c in pairs) / 100.0 if pairs else 0.0
    return choose_language(language_scores([t for t, _ in pairs]), default=default), conf


def detect_ocr_language(image: Image.Image, default: str = DEFAULT_LANG, dpi: float = DEFAULT_DPI) -> str:
    """One of ``fra``/``deu``/``eng`` (or ``fra+deu``) for a page image, before OCR."""
    return detect_ocr_language_detailed(image, default, dpi)[0]


# --- whole page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OcrResult:
    page: Page
    lang: str = DEFAULT_LANG
    skew_deg: float = 0.0


def retry_turns(osd: Orientation | None, lines_vertical: bool) -> tuple[int, ...]:
    """Extra clockwise turns to try on a page whose OCR confidence came out low.

    Trust OSD when it names a turn. When it cannot answer (few characters) or says the
    page is upright although it read badly (OSD called upside-down scans upright with
    confidence 3 to 5), try the plausible turns: a cheap look decides before a full pass.
    When OSD has no answer at all and the word blobs do not stand tall, a sideways page is
    still possible (a landscape table turned onto a portrait page: blobs 87 tall against
    125 wide, read at 0.36 upright and 0.92 in the look at 90°): all three turns are
    looked at, 180° first.
    """
    if osd is not None and osd.rotate:
        return (osd.rotate,)
    if lines_vertical:
        return (90, 270)
    return (180,) if osd is not None else (180, 90, 270)


LOOK_MARGIN = 0.1  # a turned page must read this much surer in the quick look to earn a full pass
SPARSE_WORDS = 15  # a page pass with fewer words than this...
SPARSE_INK_BLOBS = 100  # ...on a page with at least this many word-sized ink blobs read nothing: re-checked


def _upright_size(width_pt: float, height_pt: float, rotation: int) -> tuple[float, float]:
    return (height_pt, width_pt) if rotation % 180 == 90 else (width_pt, height_pt)


def ocr_pdf_page_detailed(
    pdf_path: Path,
    page_index: int,
    lang: str | None = None,
    *,
    dpi: float = DEFAULT_DPI,
    psm: int = DEFAULT_PSM,
    route_reason: str = "ocr",
    rotation_hint: int = 0,
) -> OcrResult:
    """Render + preprocess + (language) + OCR one page; the time of each step goes to
    :mod:`extractors.timing`.

    ``rotation_hint``: the turn an earlier page of the document needed; tried first, and
    re-checked like any other guess when the page reads badly."""
    with stage("OCR, other"):  # what the stages inside leave: choices, caches, quality
        return _ocr_pdf_page_detailed(pdf_path, page_index, lang, dpi, psm, route_reason, rotation_hint)


def _ocr_pdf_page_detailed(
    pdf_path: Path, page_index: int, lang: str | None, dpi: float, psm: int, route_reason: str, rotation_hint: int
) -> OcrResult:
    with stage("render"):
        rendered = render_page(pdf_path, page_index, dpi)
    with stage("clean-up"):
        pre = preprocess(rendered.image, dpi=rendered.dpi, rotation=rotation_hint or None, one_bit=rendered.one_bit)
    image, rotation = pre.image, pre.rotation

    asked: dict[int, Orientation | None] = {}
    turns: dict[tuple[int, int], Image.Image] = {}
    looks: dict[tuple[int, int], tuple[str, float]] = {}

    def osd(img: Image.Image) -> Orientation | None:  # asked at most once per image
        if id(img) not in asked:
            asked[id(img)] = detect_orientation(img, rendered.dpi)
        return asked[id(img)]

    def turned(img: Image.Image, turn: int) -> Image.Image:  # each turn of an image made once
        if turn % 360 == 0:
            return img
        if (id(img), turn) not in turns:
            with stage("turn checks"):
                turns[(id(img), turn)] = Image.fromarray(rotate_right_angle(to_array(img), turn))
        return turns[(id(img), turn)]

    def look(img: Image.Image, turn: int = 0) -> tuple[str, float]:  # (language, confidence), each look once
        if (id(img), turn) not in looks:
            looks[(id(img), turn)] = detect_ocr_language_detailed(turned(img, turn), dpi=rendered.dpi)
        return looks[(id(img), turn)]

    counted: dict[int, tuple[int, int]] = {}
    if pre.blob_shapes is not None:  # the clean-up counted them on this very image
        counted[id(image)] = pre.blob_shapes

    def blob_counts(img: Image.Image) -> tuple[int, int]:  # word_blob_shapes, once per image
        if id(img) not in counted:
            with stage("turn checks"):
                counted[id(img)] = word_blob_shapes(to_array(img))
        return counted[id(img)]

    def reads_better_turned(img: Image.Image, turn: int) -> bool:  # the quick looks decide before a full pass
        return look(img, turn)[1] > look(img)[1] + LOOK_MARGIN

    def run(img: Image.Image, rot: int, use_lang: str) -> Page:
        w, h = _upright_size(rendered.width_pt, rendered.height_pt, rot)
        return ocr_page(img, page_index + 1, w, h, use_lang, psm=psm, rotation=rot, route_reason=route_reason)

    use_lang = lang or DEFAULT_LANG
    if lang is None and PREDETECT_LANGUAGE:  # a quick low-resolution look at the header picks the model
        use_lang, seen = look(image)
        if seen < LOW_CONFIDENCE and rotation == 0:  # garbage: probably upside down; ask OSD now, not after a full pass
            found = osd(image)
            if found is not None and found.rotate:
                rotation = found.rotate
                use_lang = look(image, rotation)[0]
                image = turned(image, rotation)
            elif not blobs_stand_tall(blob_counts(image)) and reads_better_turned(image, 180):
                # OSD unsure or says upright: the page turned over reads clearly better
                rotation, use_lang, image = 180, look(image, 180)[0], turned(image, 180)

    page = run(image, rotation, use_lang)
    upright = image

    # a page whose word blobs still stand tall was read sideways, however sure tesseract was
    # (OSD on the cleaned page could not tell; sideways text read at mean confidence 0.53-0.57)
    shapes = blob_counts(image)
    sideways = blobs_stand_tall(shapes)
    # a page read as a handful of words though it is full of ink was read in the wrong turn,
    # however sure tesseract was of those few (a sideways page set in a monospaced font: its
    # letters stand apart, so the blob test cannot tell; OSD had no answer)
    sparse = len(page.words) < SPARSE_WORDS and sum(shapes) >= SPARSE_INK_BLOBS
    if page.quality < LOW_CONFIDENCE or sideways or sparse:  # upside-down or sideways page that slipped through
        found = osd(image)
        trusted = found is not None and found.rotate != 0
        for turn in retry_turns(found, sideways):
            # untrusted: a cheap look first, most low pages (faxes, photos) are upright and stay so
            if not trusted and not reads_better_turned(image, turn):
                continue
            with again():
                retry = run(turned(image, turn), (rotation + turn) % 360, use_lang)
            if retry.quality > page.quality:
                page, upright = retry, turned(image, turn)

    if lang is None:  # check the default model was the right one (on the upright page); redo once if not
        detected = language_from_words(page.words)
        if detected != use_lang:
            use_lang = detected
            with again():
                page = run(upright, page.rotation, use_lang)
    return OcrResult(page=page, lang=use_lang, skew_deg=pre.skew_deg)


def ocr_pdf_page(
    pdf_path: Path,
    page_index: int,
    lang: str | None = None,
    *,
    dpi: float = DEFAULT_DPI,
    route_reason: str = "ocr",
    rotation_hint: int = 0,
) -> Page:
    """Render page ``page_index`` (0-based) of ``pdf_path``, clean it up and OCR it.

    ``lang`` = tesseract language(s), e.g. ``"fra"``, ``"deu"``, ``"fra+deu"``; ``None``
    OCRs with :data:`DEFAULT_LANG`, reads the language from the words and re-OCRs with
    the detected model when it differs (detect once per document and pass it on).
    """
    return ocr_pdf_page_detailed(pdf_path, page_index, lang, dpi=dpi, route_reason=route_reason, rotation_hint=rotation_hint).page

