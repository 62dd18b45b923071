"""Text-layer extraction with pdfplumber: characters -> words with boxes.

Why not ``page.extract_words()``: report-engine exports often place every glyph as its
own text object with uneven advances and no space characters, so a fixed ``x_tolerance``
either glues words together or splits them. Words are built here from characters with a
gap threshold relative to each glyph's font size, which works for both. Overprinted
characters (a cheap way engines fake bold) are de-duplicated and mark the word bold.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from statistics import median
from typing import Any

from models import BBox, Word, WordSource

# A gap wider than this fraction of the font size between two glyphs ends a word.
# A space is ~0.25-0.28 em in proportional fonts, 0.6 em in Courier; per-glyph jitter in
# report exports stays well under 0.1 em.
WORD_GAP_EM = 0.17

_BOLD_MARKERS = ("bold", "black", "heavy", "semibold", "demi", ",b", "-b")


def _is_bold(fontname: str) -> bool:
    name = fontname.lower().split("+", 1)[-1]
    return any(m in name for m in _BOLD_MARKERS) and "oblique" not in name.replace("boldoblique", "bold")


def _same_line(c: dict[str, Any], top: float, bottom: float) -> bool:
    overlap = min(bottom, c["bottom"]) - max(top, c["top"])
    return overlap > 0.5 * min(bottom - top, c["bottom"] - c["top"])


def group_chars_into_lines(chars: Iterable[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Cluster glyphs whose vertical extents overlap by more than half into lines."""
    rows: list[tuple[float, float, list[dict[str, Any]]]] = []
    for c in sorted(chars, key=lambda c: (c["top"] + c["bottom"]) / 2):
        if rows and _same_line(c, rows[-1][0], rows[-1][1]):
            top, bottom, members = rows[-1]
            members.append(c)
            if len(members) < 3:  # settle the line's extent on its first glyphs, then hold it
                rows[-1] = (min(top, c["top"]), max(bottom, c["bottom"]), members)
        else:
            rows.append((c["top"], c["bottom"], [c]))
    return [sorted(m, key=lambda c: c["x0"]) for _, _, m in rows]


_SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def _mark_superscripts(line: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Exponents typeset as small raised digits ("x10⁹/L" drawn as "x10" + a small "9")
    become "^9", so units read as "x10^9/L" rather than "x109/L"."""
    if len(line) < 3:
        return list(line)
    sizes = sorted(c["size"] for c in line)
    body = sizes[len(sizes) // 2]
    bottoms = sorted(c["bottom"] for c in line if c["size"] >= 0.9 * body)
    base = bottoms[len(bottoms) // 2] if bottoms else max(c["bottom"] for c in line)
    out: list[dict[str, Any]] = []
    prev_sup = False
    for c in line:
        sup = c["size"] < 0.92 * body and c["bottom"] < base - 0.25 * body and c["text"].translate(_SUPERSCRIPT_DIGITS).isdigit()
        if sup and not prev_sup and out and out[-1]["text"].isdigit():
            out.append({**c, "text": "^", "x1": c["x0"]})
        out.append(c)
        prev_sup = sup
    return out


def words_from_line_chars(line: Sequence[dict[str, Any]], page_number: int) -> list[Word]:
    """Split one line of glyphs (sorted by x) into words."""
    line = _mark_superscripts(line)
    words: list[Word] = []
    current: list[dict[str, Any]] = []
    bold_hits = 0

    def flush() -> None:
        nonlocal current, bold_hits
        if current:
            text = unicodedata.normalize("NFC", "".join(c["text"] for c in current))
            sizes = [c["size"] for c in current]
            bold_votes = sum(_is_bold(c.get("fontname", "")) for c in current) + bold_hits
            words.append(
                Word(
                    text=text,
                    bbox=BBox(
                        x0=min(c["x0"] for c in current),
                        top=min(c["top"] for c in current),
                        x1=max(c["x1"] for c in current),
                        bottom=max(c["bottom"] for c in current),
                    ),
                    page=page_number,
                    font_size=round(median(sizes), 2),
                    bold=bold_votes * 2 > len(current),
                    confidence=1.0,
                    source=WordSource.TEXT,
                )
            )
        current = []
        bold_hits = 0

    prev: dict[str, Any] | None = None
    for c in line:
        text = c["text"]
        if not text or text.isspace():
            flush()
            prev = None
            continue
        if prev is not None:
            # overprinted duplicate glyph (fake bold)
            if text == prev["text"] and abs(c["x0"] - prev["x0"]) < 0.1 * c["size"]:
                bold_hits += 1
                continue
            gap = c["x0"] - prev["x1"]
            if gap > WORD_GAP_EM * max(c["size"], prev["size"]):
                flush()
        current.append(c)
        prev = c
    flush()
    return words


def _horizontal(c: dict[str, Any]) -> bool:
    """pdfminer calls any glyph with b*c <= 0 'upright', diagonal watermarks included;
    body text has no shear or rotation in its matrix."""
    m = c.get("matrix")
    if not m:
        return True
    a, b, cc, d = m[0], m[1], m[2], m[3]
    scale = max(abs(a), abs(d), 1e-9)
    return abs(b) / scale < 0.05 and abs(cc) / scale < 0.05


_LEADER_RUN = re.compile(r"[.·…_]{3,}")


def _split_leaders(words: list[Word]) -> list[Word]:
    """Split dotted leaders glued to a label ("Leucocytes........") into their own word."""
    out: list[Word] = []
    for w in words:
        m = _LEADER_RUN.search(w.text)
        if not m or m.group(0) == w.text:
            out.append(w)
            continue
        n = len(w.text)
        per = w.bbox.width / max(1, n)
        pieces = [(0, m.start()), (m.start(), m.end()), (m.end(), n)]
        for a, b in pieces:
            if b > a:
                out.append(w.model_copy(update={"text": w.text[a:b], "bbox": BBox(x0=w.bbox.x0 + a * per, top=w.bbox.top, x1=w.bbox.x0 + b * per, bottom=w.bbox.bottom)}))
    return out


def page_words(chars: Iterable[dict[str, Any]], page_number: int) -> tuple[Word, ...]:
    """All words of a page from pdfplumber ``page.chars`` (upright glyphs only)."""
    upright = [c for c in chars if c.get("upright", True) and _horizontal(c)]
    out: list[Word] = []
    for line in group_chars_into_lines(upright):
        out.extend(_split_leaders(words_from_line_chars(line, page_number)))
    return tuple(out)


def horizontal_rulings(page: Any) -> tuple[float, ...]:
    """y positions of horizontal rules (lines and thin rectangles) on a pdfplumber page."""
    ys: list[float] = []
    for ln in page.lines:
        if abs(ln["top"] - ln["bottom"]) < 1.5 and abs(ln["x1"] - ln["x0"]) > 30:
            ys.append(round(ln["top"], 1))
    for r in page.rects:
        w, h = r["x1"] - r["x0"], r["bottom"] - r["top"]
        if w > 30 and h < 1.5:
            ys.append(round(r["top"], 1))
        elif w > 30 and h >= 1.5:  # a table cell or box: both edges are rulings
            ys.extend((round(r["top"], 1), round(r["bottom"], 1)))
    return tuple(sorted(set(ys)))
