"""Page layout from words (text layer or OCR alike): lines, cells, repeated headers/footers.

One code path for both sources: everything here takes ``models.Word`` and nothing else.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from statistics import median

from models import BBox, Line, Page, Word


def group_lines(words: Sequence[Word]) -> list[Line]:
    """Cluster words into visual lines (vertical overlap > 50 % of the smaller height)."""
    rows: list[tuple[float, float, list[Word]]] = []
    for w in sorted(words, key=lambda w: (w.page, w.bbox.ymid)):
        if rows:
            top, bottom, members = rows[-1]
            overlap = min(bottom, w.bbox.bottom) - max(top, w.bbox.top)
            if members[0].page == w.page and overlap > 0.5 * min(bottom - top, w.bbox.height):
                members.append(w)
                if len(members) < 3:
                    rows[-1] = (min(top, w.bbox.top), max(bottom, w.bbox.bottom), members)
                continue
        rows.append((w.bbox.top, w.bbox.bottom, [w]))
    lines = []
    for _, _, members in rows:
        ordered = tuple(sorted(members, key=lambda w: w.bbox.x0))
        lines.append(Line(page=ordered[0].page, words=ordered, bbox=BBox.enclosing([w.bbox for w in ordered])))
    return lines


def line_font_size(line: Line) -> float:
    sizes = [w.font_size or w.bbox.height for w in line.words]
    return float(median(sizes)) if sizes else 10.0


def split_cells(line: Line, gap_em: float = 0.9) -> list[tuple[Word, ...]]:
    """Split a line into cells where the horizontal gap exceeds ``gap_em`` font sizes.

    Columns of a result table are separated by wide gutters, words inside a cell by one
    space (~0.25-0.6 em). A value printed with its unit after one space stays one cell;
    the row parser handles that.
    """
    size = line_font_size(line)
    cells: list[list[Word]] = []
    cut = False
    for w in line.words:
        if LEADER.match(w.text):
            cut = True  # dotted leaders ("Hémoglobine ........ 13,2") separate cells
            continue
        if cells and not cut and w.bbox.x0 - cells[-1][-1].bbox.x1 <= gap_em * size:
            cells[-1].append(w)
        else:
            cells.append([w])
        cut = False
    return [tuple(c) for c in cells]


LEADER = re.compile(r"^[.·…_\-]{3,}$|^(?:\.\s?){3,}$")


_DIGITS = re.compile(r"\d")
_DECIMAL = re.compile(r"^[<>]?\d+[.,]\d{1,3}$")


def _furniture_key(line: Line) -> str:
    """Line text with digits wildcarded (page numbers, dates, print times change)."""
    return _DIGITS.sub("#", line.text.strip().lower())


def _looks_like_result(line: Line) -> bool:
    """A decimal number, or a number next to a unit, is a result row: page headers carry
    dates, page numbers and identifiers, not measurements."""
    from extractors.values import looks_like_unit

    texts = [w.text for w in line.words]
    if any(_DECIMAL.match(t) for t in texts):
        return True
    return any(t.isdigit() for t in texts) and any(
        looks_like_unit(t) and (any(c.isalpha() for c in t) or "%" in t) for t in texts
    )


def furniture_lines(pages: Sequence[Sequence[Line]], page_heights: Sequence[float]) -> set[tuple[int, int]]:
    """Repeated page headers and footers: lines in the top or bottom band of the page whose
    digit-wildcarded text recurs on most pages at about the same height.

    Returns the (page index, line index) pairs to treat as furniture. A one-page document has
    none (nothing repeats) — its header is simply part of the page.
    """
    n = len(pages)
    if n < 2:
        return set()
    seen: Counter[tuple[str, int]] = Counter()
    keyed: list[list[tuple[str, int] | None]] = []
    for lines, height in zip(pages, page_heights):
        row: list[tuple[str, int] | None] = []
        page_keys = set()
        for ln in lines:
            band = ln.bbox.top < 0.25 * height or ln.bbox.bottom > 0.88 * height
            if not band or _looks_like_result(ln):
                # a decimal number as its own word is a result value, not page furniture
                # (page headers carry dates, page numbers and identifiers)
                row.append(None)
                continue
            key = (_furniture_key(ln), round(ln.bbox.top / 6))
            row.append(key)
            page_keys.add(key)
        seen.update(page_keys)
        keyed.append(row)
    need = max(2, int(0.6 * n + 0.5))
    out: set[tuple[int, int]] = set()
    for pi, row in enumerate(keyed):
        for li, key in enumerate(row):
            if key is not None and seen[key] >= need:
                out.add((pi, li))
    return out


def page_lines(page: Page) -> list[Line]:
    return group_lines(page.words)
