"""Result rows: lines of words -> ``RawResult`` (label, value, unit, range, flag as printed).

Two ways to read a row, tried in this order:

1. **Column mode.** A header line (``Analyse | Résultat | Unité | Valeurs de référence``,
   ``Untersuchung Ergebnis Einheit Referenzbereich``, dates of a cumulative report...) gives
   column roles and x extents. Every later line's words fall into the column zone under which
   they stand, so ruled and whitespace-aligned tables read alike, and earlier-result columns
   (antériorités, Vorwerte, dates other than this report's collection date) are skipped.
   The columns persist across pages (tables that continue without repeating their header).
2. **Token mode.** With no header, a line splits into cells at wide gaps; the first cell is
   the label, then the value is the first number or qualitative word, and unit, range and
   flag are recognised by shape. A row must then show a unit or a range, so free text with
   a number in it is not taken for a result.

Both modes work on ``models.Word`` so text-layer and OCR pages share them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from models import BBox, Line, Printed, RawResult, Word, WordSource
from extractors.layout import line_font_size, split_cells
from extractors.meta import find_date
from extractors.rules import HEADER_ROLES, lexicon
from extractors.values import is_flag, looks_like_unit, off_range, parse_flag, parse_number, parse_range

_QUAL_FALLBACK = re.compile(
    r"^(n[ée]gati(f|ve?)|neg\.?|positi(f|ve?)|pos\.?|traces?|spuren|absen(t|te|ce)|pr[ée]sen(t|te|ce)|"
    r"nachweisbar|nicht nachweisbar|non d[ée]tect[ée]e?|not detected|detected|d[ée]tect[ée]e?|normal(e)?|"
    r"\+{1,4}|[1-4]\+|limpide|clair|trouble|jaune|gelb|klar|yellow|clear)$",
    re.IGNORECASE,
)


_QUAL_DIGITS = re.compile(r"^\(?[1-4]\s?\+\)?$|^\+{1,4}$")


def is_qualitative(text: str) -> bool:
    if any(ch.isdigit() for ch in text) and not _QUAL_DIGITS.match(text.strip()):
        return False
    try:
        from mappers.terminology import normalise_qualitative
    except ImportError:  # pragma: no cover - during bootstrap
        normalise_qualitative = None  # type: ignore[assignment]
    t = text.strip().strip(".")
    if normalise_qualitative is not None:
        try:
            if normalise_qualitative(t) is not None:
                return True
        except Exception:  # noqa: BLE001 - a bad table must not kill parsing
            pass
    return bool(_QUAL_FALLBACK.match(t))


# ------------------------------------------------------------------ header / columns


@dataclass(frozen=True)
class Column:
    role: str  # label value unit range flag prior
    x0: float
    x1: float


@dataclass
class Columns:
    cols: list[Column]
    page: int
    bounds: list[float] = field(default_factory=list)  # zone boundaries between columns

    def __post_init__(self) -> None:
        self.cols.sort(key=lambda c: c.x0)
        self.bounds = []
        for a, b in zip(self.cols, self.cols[1:]):
            gap = max(0.0, b.x0 - a.x1)
            # a label column is left-aligned text: give it room up to just before the next column
            bias = 0.85 if a.role == "label" else 0.5
            self.bounds.append(a.x1 + bias * gap)

    def zone(self, x: float) -> Column:
        for col, b in zip(self.cols, self.bounds):
            if x < b:
                return col
        return self.cols[-1]

    def label_end(self) -> float:
        for col, b in zip(self.cols, self.bounds):
            if col.role == "label":
                return b
        return self.cols[0].x0


_HEADER_JUNK = " []|()!¦:'’‘\"“”„`"


def _header_role(text: str) -> str | None:
    lex = lexicon().header
    text = text.strip(_HEADER_JUNK)  # table rules OCR'd as brackets or bars; specks as quote marks ("Value’")
    parts = [q for p in re.split(r"\s*/\s*|\s*\|\s*", text) if (q := p.strip(_HEADER_JUNK))] or [text]
    for role in HEADER_ROLES:
        if any(lex[role].match(p) for p in parts):
            return role
    words = lexicon().header_words
    for p in parts:  # OCR misread one letter of a long header word ("Normberelch", "Einhelt")
        key = p.lower()
        if len(key) >= 7:  # shorter, one letter changed falls below the score
            found = process.extractOne(key, words.keys(), scorer=fuzz.ratio, score_cutoff=85)
            if found is not None:
                return words[found[0]]
    return None


def _phrase_role(text: str) -> str | None:
    """The column a whole header text names as one phrase (no splitting at slashes)."""
    lex = lexicon().header
    text = text.strip(_HEADER_JUNK)
    return next((role for role in HEADER_ROLES if lex[role].match(text)), None)


def _merge_header_phrases(cells: list[tuple[Word, ...]], size: float) -> list[tuple[Word, ...]]:
    """Join neighbouring cells that together name one column ("Valeurs" "de" "référence"
    when OCR spaces the words of a header wider than the text layer does)."""
    out: list[tuple[Word, ...]] = []
    i = 0
    while i < len(cells):
        for k in (4, 3, 2):
            group = cells[i : i + k]
            if len(group) < k:
                continue
            close = all(b[0].bbox.x0 - a[-1].bbox.x1 < 2.2 * size for a, b in zip(group, group[1:]))
            joined = tuple(w for c in group for w in c)
            roles = [_header_role(_text(c)) for c in group]
            role = _header_role(_text(joined))
            if (
                close and None in roles  # cells that each name a column stay apart
                and role is not None and roles[0] != role
                # two named cells join only into one title ("Valeurs" "de" "référence"), not
                # because one of them is a title ("Résultat /Ergebnis" | "Alerte/Kennz." |
                # "Valeurs usuelles / Normbereich" is three columns)
                and (sum(r is not None for r in roles) <= 1 or _phrase_role(_text(joined)) == role)
            ):
                out.append(joined)
                i += k
                break
        else:
            out.append(cells[i])
            i += 1
    return out


def _split_mixed_header(cell: tuple[Word, ...]) -> list[tuple[Word, ...]]:
    """A header cell that names two columns ("Unités / Einheit  Valeurs usuelles /
    Referenzwerte" when OCR boxes make the gap between them look small): split at the
    widest gap when it clearly stands out (twice the next) and its two sides name
    different columns."""
    if len(cell) < 2:
        return [cell]
    gaps = sorted(((cell[j].bbox.x0 - cell[j - 1].bbox.x1, j) for j in range(1, len(cell))), reverse=True)
    if len(gaps) > 1 and gaps[0][0] < 2 * max(gaps[1][0], 0.5):
        return [cell]
    i = gaps[0][1]
    left, right = cell[:i], cell[i:]
    a, b = _header_role(_text(left)), _header_role(_text(right))
    if a is not None and b is not None and a != b:
        return _split_mixed_header(left) + _split_mixed_header(right)
    return [cell]


def _is_date_word(text: str) -> bool:
    d = find_date(text)
    return d is not None and d.start == 0 and d.end >= len(text.rstrip("*"))


def detect_header(line: Line, collection_date: str | None) -> Columns | None:
    """Columns from a header line, or None when the line is not a table header."""
    cells = _merge_header_phrases(split_cells(line, gap_em=0.8), line_font_size(line))
    cells = [part for cell in cells for part in _split_mixed_header(cell)]
    cols: list[Column] = []
    dates: list[tuple[Column, str]] = []
    for cell in cells:
        text = " ".join(w.text for w in cell)
        x0, x1 = cell[0].bbox.x0, cell[-1].bbox.x1
        role = _header_role(text)
        if role is None and len(cell) > 1 and all(_is_date_word(w.text) for w in cell):
            for w in cell:  # "21/12/23 10/11/24 30/03/25": dates printed close together
                d = find_date(w.text)
                col = Column("prior", w.bbox.x0, w.bbox.x1)
                dates.append((col, d.iso[:10]))  # type: ignore[union-attr]
                cols.append(col)
            continue
        if role is None:
            d = find_date(text)
            if d and len(text) - (d.end - d.start) < 12:
                col = Column("prior", x0, x1)
                dates.append((col, d.iso[:10]))
                cols.append(col)
                continue
            # a cell made of several header words separated by single spaces
            sub = [_header_role(w.text) for w in cell]
            if len(cell) > 1 and all(sub):
                for w, r in zip(cell, sub):
                    cols.append(Column(r or "label", w.bbox.x0, w.bbox.x1))
                continue
            cols.append(Column("unknown", x0, x1))
            continue
        cols.append(Column(role, x0, x1))
    roles = {c.role for c in cols}
    known = roles - {"unknown"}
    if len(known) < 2 and not (dates and "label" in roles):
        return None
    if not ({"value", "prior"} & roles) and not ({"label", "unit", "range"} <= roles):
        return None
    if sum(c.role == "unknown" for c in cols) > len(known):
        return None  # a sentence that happens to contain two header words
    labels = [c.x0 for c in cols if c.role == "label"]
    if labels and any(c.role not in ("unknown", "label", "section") and c.x0 < min(labels) for c in cols):
        return None  # a test table names its tests first: "Result confirmed on repeat analysis" is a sentence
    # cumulative: the date column equal to this report's collection date is the result
    if dates and "value" not in roles:
        current = None
        if collection_date:
            current = next((c for c, d in dates if d == collection_date[:10]), None)
        if current is None:
            current = dates[0][0]
        cols = [Column("value", c.x0, c.x1) if c is current else c for c in cols]
    if "label" not in {c.role for c in cols} and cols and min(cols, key=lambda c: c.x0).role == "unknown":
        lead = min(cols, key=lambda c: c.x0)
        cols = [Column("label", c.x0, c.x1) if c is lead else c for c in cols]
    if "label" not in {c.role for c in cols}:
        first = min(c.x0 for c in cols)
        cols.append(Column("label", min(first - 1.0, line.bbox.x0), min(first - 0.5, line.bbox.x0 + 1)))
    cols = _join_split_range_title(_join_bilingual_titles(cols, line))
    # unknown header cells (often a blank-titled flag column) keep their zone but no role
    return Columns([c for c in cols], page=line.page)


def _join_bilingual_titles(cols: list[Column], line: Line) -> list[Column]:
    """"Résultat / Resultat", "Unités / Einheit": a title whose second half starts with a
    slash names the same column as the half before it. Kept apart, a bilingual result
    title made two result columns, and the second one was then taken for the start of the
    range's title (below), which swallowed the values printed under it."""
    slash_x = [w.bbox.x0 for w in line.words if w.text.startswith("/")]
    out: list[Column] = []
    for c in sorted(cols, key=lambda c: c.x0):
        if out and out[-1].role == c.role and c.role != "unknown" and any(abs(x - c.x0) < 0.5 for x in slash_x):
            out[-1] = Column(c.role, out[-1].x0, max(out[-1].x1, c.x1))
        else:
            out.append(c)
    return out


def _join_split_range_title(cols: list[Column]) -> list[Column]:
    """A second result column right before the range column is the start of the range's
    own title: "Valeurs de référence / Referenzbereich" OCR'd as "Valeurs ‘elle: /
    Referenzbereich" names a value column ("Valeurs") and then the range. Joined, the
    range numbers no longer fall into a result column."""
    ordered = sorted(cols, key=lambda c: c.x0)
    first_value = next((i for i, c in enumerate(ordered) if c.role == "value"), None)
    if first_value is None:
        return cols
    for i in range(first_value + 1, len(ordered) - 1):
        here, nxt = ordered[i], ordered[i + 1]
        if here.role == "value" and nxt.role == "range":
            joined = Column("range", here.x0, max(here.x1, nxt.x1))
            return [*ordered[:i], joined, *ordered[i + 2 :]]
    return cols


_DATE_SHAPED = re.compile(r"^\d{1,2}[./-]\d{1,2}[./-](?:\d{2}|\d{4})$")


def _extend_with_dates(cols: Columns, line: Line, collection_date: str | None) -> bool:
    """A line of only dates right under a header names the result columns of a cumulative
    report: the date equal to the collection date is this report's result, the others are
    earlier results. When none is (OCR misread it: "68/63/2026" for 08/03/2026), the date
    under the header's own result title is ("Antériorités ... Résultats"), else the first.
    Returns True when the line was such a row."""
    cells = split_cells(line, gap_em=0.8)
    dates: list[tuple[float, float, str | None]] = []
    for cell in cells:
        text = _text(cell)
        d = find_date(text)
        if d is not None and len(text) - (d.end - d.start) <= 6:
            dates.append((cell[0].bbox.x0, cell[-1].bbox.x1, d.iso[:10]))
        elif _DATE_SHAPED.match(text):  # a date OCR misread into no date at all
            dates.append((cell[0].bbox.x0, cell[-1].bbox.x1, None))
        else:
            return False
    if len(dates) < 2 or all(d is None for _, _, d in dates):
        return False
    titled = [c for c in cols.cols if c.role == "value"]
    current = next((i for i, (_, _, d) in enumerate(dates) if collection_date and d == collection_date[:10]), None)
    if current is None:
        current = next((i for i, (x0, x1, _) in enumerate(dates) if any(x0 < c.x1 and c.x0 < x1 for c in titled)), 0)
    keep = [c for c in cols.cols if c.role not in ("value", "prior")]
    for i, (x0, x1, _) in enumerate(dates):
        keep.append(Column("value" if i == current else "prior", x0, x1))
    cols.cols = keep
    cols.__post_init__()
    return True


# ------------------------------------------------------------------ field parsing

_TRAILING_FLAG = re.compile(r"^(?P<v>.*?\d)\s*(?P<f>\*{1,2}|!{1,2}|\(?[HLhl]{1,2}\)?|[+\-]{1,2}|[↑↓]{1,2})$")
_LEADING_FLAG = re.compile(r"^(?P<f>\*{1,2}|[↑↓]{1,2}|[HL]{1,2})\s*(?P<v>[<>≤≥]?\s*\d.*)$")
_LEADER = re.compile(r"[.·_]{3,}")
_FOOTNOTE = re.compile(r"(\s*[¹²³⁴⁵⁶⁷⁸⁹*†#]+|\s*\(\d\))$")


@dataclass
class Fields:
    label: list[Word] = field(default_factory=list)
    value: list[Word] = field(default_factory=list)
    unit: list[Word] = field(default_factory=list)
    range: list[Word] = field(default_factory=list)
    flag: list[Word] = field(default_factory=list)
    other: list[Word] = field(default_factory=list)
    section: list[Word] = field(default_factory=list)


def _text(ws: Sequence[Word]) -> str:
    return " ".join(w.text for w in ws).strip()


def _printed(ws: Sequence[Word], text: str | None = None) -> Printed:
    return Printed(
        text=text if text is not None else _text(ws),
        page=ws[0].page,
        bbox=BBox.enclosing([w.bbox for w in ws]),
        source=ws[0].source,
        confidence=min(w.confidence for w in ws),
        bold=all(w.bold for w in ws),
    )


def _is_value_text(t: str, decimal_comma: bool | None) -> bool:
    return parse_number(t, decimal_comma) is not None or is_qualitative(t)


_DASHES = frozenset({"-", "–", "—"})
_EXPONENT_BASE = re.compile(r"10\s?[\^*°'\"”’x]?")


def _without_rule_marks(text: str) -> str:
    """'[6,4', '|120', '6,4]' -> '6,4', '120': an unbalanced bracket or bar against a
    number is a table rule OCR read as a glyph ('[4,0-10,0]' keeps its brackets)."""
    if text[:1] in "[|" and "]" not in text:
        text = text[1:]
    if text[-1:] in "]|" and "[" not in text:
        text = text[:-1]
    return text


def _word_part(w: Word, m: re.Match[str], group: str, text: str | None = None) -> Word:
    """The part of ``w`` that regex group ``group`` matched, its box cut in proportion to
    the characters (a glued "5,9H" or "<0,50.ng/ml" split into two words)."""
    per = w.bbox.width / max(1, len(w.text))
    a, b = m.span(group)
    box = w.bbox.model_copy(update={"x0": w.bbox.x0 + a * per, "x1": w.bbox.x0 + b * per})
    return w.model_copy(update={"text": m.group(group) if text is None else text, "bbox": box})


_GLUED_PERCENT = re.compile(r"^(?P<v>[<>≤≥]?\d[\d.,]*)(?P<u>%)$")


def _unglue(ws: list[Word], decimal_comma: bool | None) -> list[Word]:
    """Split a flag glued to a number ("5,9*", "5,9H", "(H)5,9", "*5,9") into two words,
    and a percent sign glued to it ("37,5%") into the number and its unit."""
    out: list[Word] = []
    for w in ws:
        m = _GLUED_PERCENT.match(w.text)
        if m and parse_number(m.group("v"), decimal_comma) is not None:
            out += [_word_part(w, m, "v"), _word_part(w, m, "u")]
            continue
        if w.source is WordSource.OCR and parse_number(w.text, decimal_comma) is None:
            bare = _without_rule_marks(w.text)
            if bare != w.text and parse_number(bare, decimal_comma) is not None:
                w = w.model_copy(update={"text": bare})
        if parse_number(w.text, decimal_comma) is None and not is_qualitative(w.text):
            for rx in (_TRAILING_FLAG, _LEADING_FLAG):
                m = rx.match(w.text)
                if m and parse_number(m.group("v"), decimal_comma) is not None:
                    vs, fs = m.start("v"), m.start("f")
                    out.append(_word_part(w, m, "v", m.group("v").strip()))
                    flag = _word_part(w, m, "f")
                    if fs < vs:
                        out.insert(len(out) - 1, flag)
                    else:
                        out.append(flag)
                    break
            else:
                out.append(w)
        else:
            out.append(w)
    return out


def _tight(ws: Sequence[Word], n: int) -> bool:
    """Are the first ``n`` words set as one printed token (thousands groups, "< 0,5")?"""
    for a, b in zip(ws[: n - 1], ws[1:n]):
        size = a.font_size or a.bbox.height
        if b.bbox.x0 - a.bbox.x1 > 0.7 * size:
            return False
    return True


_COMPARATOR_GLYPHS = frozenset({"<", ">", "≤", "≥", "<=", ">="})


def _split_value_zone(ws: list[Word], decimal_comma: bool | None) -> tuple[list[Word], list[Word], list[Word]]:
    """Value zone words -> (value words, flag words, unit words)."""
    if not ws:
        return [], [], []
    ws = _unglue(list(ws), decimal_comma)
    # a comparator boxed apart from its number ("<  150": OCR boxes the short glyph alone, and
    # measured by its own low box the gap looks wide) belongs to the number, never a stray mark
    if len(ws) > 1 and ws[0].text in _COMPARATOR_GLYPHS and (n := parse_number(ws[1].text, decimal_comma)) is not None and n.comparator is None:
        v, f, u = _split_value_zone(ws[1:], decimal_comma)
        if v and v[0] is ws[1]:
            return [ws[0], *v], f, u
    # OCR read an arrow flag before the number as one stray glyph ("↑ 36,7" as "1 36,7" or
    # "t 36,7"): set apart from the number, it is dropped (the range gives the direction)
    if (
        len(ws) > 1 and ws[0].source is WordSource.OCR and len(ws[0].text) == 1
        and (not ws[0].text.isdigit() or ws[0].text == "1") and not is_flag(ws[0].text)
        and parse_number(ws[1].text, decimal_comma) is not None
        and not (_tight(ws, 2) and _is_value_text(_text(ws[:2]), decimal_comma))  # "1 250" is 1250
    ):
        v, f, u = _split_value_zone(ws[1:], decimal_comma)
        if v:
            return v, f, u
    # a flag printed before the number ("- 39,3", "+ 103,0", "H 13,2"): the number wins
    # over reading the flag itself as a qualitative result
    if len(ws) > 1 and is_flag(ws[0].text):
        v, f, u = _split_value_zone(ws[1:], decimal_comma)
        if v and parse_number(_text(v), decimal_comma) is not None:
            return v, [ws[0], *f], u
    whole = _text(ws)
    if _tight(ws, len(ws)) and _is_value_text(whole, decimal_comma):
        return ws, [], []
    # longest tight prefix that parses as a value ("1 250", "< 0,5"), rest flags/units
    for n in range(len(ws), 0, -1):
        head = _text(ws[:n])
        if _tight(ws, n) and _is_value_text(head, decimal_comma):
            rest = ws[n:]
            flags = [w for w in rest if is_flag(w.text)]
            units = [w for w in rest if w not in flags]
            return ws[:n], flags, units
    # flag first ("H 13,2", "* 13,2")
    if len(ws) > 1 and is_flag(ws[0].text):
        v, f, u = _split_value_zone(ws[1:], decimal_comma)
        if v:
            return v, [ws[0], *f], u
    return [], [], []


def _glued_flag(value: Printed, decimal_comma: bool | None) -> tuple[Printed, Printed | None]:
    """'13,2*' / '13.2H' / '(H)13,2' -> value and flag with the same box."""
    t = value.text
    if parse_number(t, decimal_comma) is not None or is_qualitative(t):
        return value, None
    for rx in (_TRAILING_FLAG, _LEADING_FLAG):
        m = rx.match(t)
        if m and parse_number(m.group("v"), decimal_comma) is not None:
            return value.model_copy(update={"text": m.group("v").strip()}), value.model_copy(update={"text": m.group("f")})
    return value, None


_GLUED_LETTER = re.compile(r"^(?P<v>[<>≤≥]?\s*\d[\d.,]*)(?P<f>[^\W\d_])$")


def _split_letter_flag(w: Word, range_text: str, decimal_comma: bool | None) -> list[Word]:
    """'23B' against [35-105]: a one-letter flag of another language ("B", bas) glued to
    the value becomes its own word, only when the range agrees with its direction (23 is
    below 35). Otherwise the letter may be a misread digit ("B" for 8): the word stays."""
    m = _GLUED_LETTER.match(w.text.strip())
    if not m:
        return [w]
    flag, number, rng = parse_flag(m.group("f")), parse_number(m.group("v"), decimal_comma), parse_range(range_text, decimal_comma)
    if flag is None or number is None or rng is None:
        return [w]
    direction = flag[1]
    if not ((direction == "L" and rng.low is not None and number.value < rng.low)
            or (direction == "H" and rng.high is not None and number.value > rng.high)):
        return [w]
    return [_word_part(w, m, "v", m.group("v").strip()), _word_part(w, m, "f")]


MARK_DOUBT = 0.6  # a value read after a glyph that may be a mark or its first digit group


def _mark_before_number(ws: list[Word], range_text: str, decimal_comma: bool | None) -> list[Word]:
    """A value printed after a mark OCR read as a digit set apart ("↑ 162" as "1 162",
    "↓ 48000" as "3 48000") loses the digit, when the range says a mark belongs there:
    the number alone is outside the range, and nearer to it than the digit and the number
    read together as one number with a thousands space ("1 162" against 70-120: 162 is
    nearer than 1162; "1 500" against 4 000-10 000 stays 1500). When both readings are
    numbers the choice is doubtful and the value goes to review (``MARK_DOUBT``)."""
    if len(ws) != 2:
        return ws
    mark, num = ws
    if mark.source is not WordSource.OCR or len(mark.text) != 1 or not mark.text.isdigit():
        return ws
    number, rng = parse_number(num.text, decimal_comma), parse_range(range_text, decimal_comma)
    if number is None or rng is None or number.comparator is not None:
        return ws
    away = off_range(number.value, rng)
    if away == 0:
        return ws
    grouped = parse_number(f"{mark.text} {num.text}", decimal_comma) if _tight(ws, 2) else None
    if grouped is not None:
        if off_range(grouped.value, rng) <= away:
            return ws
        num = num.model_copy(update={"confidence": min(num.confidence, MARK_DOUBT)})
    return [num]


def _range_length(ws: Sequence[Word], decimal_comma: bool | None) -> int:
    """How many of the first words (at most 6, the longest run) form a reference range; 0
    when they do not. A lone number is no range unless it carries a dash or comparator."""
    for n in range(min(len(ws), 6), 0, -1):
        t = _text(ws[:n])
        if any(ch.isdigit() for ch in t) and parse_range(t, decimal_comma) is not None and (n > 1 or re.search(r"[-–<>≤≥]", t)):
            return n
    return 0


def _first_range_text(ws: Sequence[Word], decimal_comma: bool | None) -> str:
    for j in range(len(ws)):
        n = _range_length(ws[j:], decimal_comma)
        if n:
            return _text(ws[j : j + n])
    return ""


# Second words of units printed with a space. Case-sensitive on purpose: "h" (hour) ends
# "mm/1re h", while "H" is a high flag.
_UNIT_TAIL = re.compile(r"^(?:m²|m2|m\^2|m[?\"'°]|h|Std\.?|std\.?|Stunde|heure|hr|1h|FEU|DDU|SC)$")  # "m?": OCR's m²


def _unit_tail(text: str) -> bool:
    return bool(_UNIT_TAIL.match(text.strip()))


def clean_label(text: str) -> str:
    t = _LEADER.sub(" ", text).lstrip("-–—•·*|[!:;.,'\"‘’ ")  # OCR specks and bullets before a label
    t = _FOOTNOTE.sub("", t.strip())
    return re.sub(r"\s+", " ", t).strip(" :")


def _spill(cell: Sequence[Word], label_end: float) -> list[Word]:
    """Words at the end of a label cell that stand in the value zone and read as a value
    (with unit or flag). A sentence running across the columns ("contrôle dans 3 semaines")
    does not spill: what follows its number is not a unit."""
    for i, w in enumerate(cell):
        if w.bbox.x0 >= label_end and re.search(r"\d", w.text):
            tail = list(cell[i:])
            v, fl, un = _split_value_zone(tail, None)
            if v and all(looks_like_unit(u.text) for u in un):
                return tail
            return []
    return []


def _fields_by_columns(line: Line, cols: Columns) -> Fields:
    f = Fields()
    label_end = cols.label_end()
    has_unit = any(c.role == "unit" for c in cols.cols)
    cells = split_cells(line)
    label_seen = False
    for ci, cell in enumerate(cells):
        zone = cols.zone(cell[0].bbox.xmid).role
        if not label_seen and zone == "section":
            f.other.extend(cell)
            f.section.extend(cell)
            continue
        # the first cell starting in the label zone is the label, even if it spills over
        if not label_seen and zone == "label" and cell[0].bbox.x0 < label_end:
            label_seen = True
            spill = _spill(cell, label_end)
            f.label.extend(cell[: len(cell) - len(spill)])
            rest: Sequence[Word] = spill
        else:
            rest = cell
            if zone == "range" and len(cell) > 1:
                f.range.extend(cell)  # a range is one cell, however far it runs to the right
                continue
        for w in rest:
            col = cols.zone(w.bbox.xmid)
            role = col.role
            if role == "unknown" and not has_unit and not f.unit and looks_like_unit(w.text):
                role = "unit"  # a column whose title was not read, holding units, in a table with no unit title
            getattr(f, role if role in ("label", "value", "unit", "range", "flag") else "other").append(w)
    return f


def _fields_by_tokens(line: Line, decimal_comma: bool | None) -> Fields:
    f = Fields()
    cells = split_cells(line)
    if len(cells) < 2:
        # "Label 13,2 g/l 12-16" printed with single spaces: split at the first number
        # that is followed only by unit/range/flag-looking tokens
        ws = list(line.words)
        for i in range(1, len(ws)):
            if parse_number(ws[i].text, decimal_comma) is not None and any(c.isalpha() for c in _text(ws[:i])):
                cells = [tuple(ws[:i]), *[(w,) for w in ws[i:]]]
                break
        else:
            return f
    f.label = list(cells[0])
    rest = [w for c in cells[1:] for w in c]
    # value: first cell (or word run) that parses as a value
    i = 0
    rest = _unglue(rest, decimal_comma)
    for k, w in enumerate(rest):  # "Lipase 4B U/L [13-60]": a glued "bas" flag the range agrees with
        if _GLUED_LETTER.match(w.text.strip()):
            rest = [*rest[:k], *_split_letter_flag(w, _first_range_text(rest[k + 1 :], decimal_comma), decimal_comma), *rest[k + 1 :]]
            break
    while i < len(rest):
        v, fl, un = _split_value_zone(rest[i:], decimal_comma)
        if v:
            f.flag.extend(w for w in fl if rest.index(w) < rest.index(v[0]))
            f.value = list(v)
            i = rest.index(v[-1]) + 1
            break
        if is_flag(rest[i].text):
            f.flag.append(rest[i])
        else:
            return Fields()  # something unparseable between label and value: not a row
        i += 1
    if not f.value:
        return Fields()
    tail = rest[i:]
    # the rest: range (longest parseable run), unit, flag; later numbers are prior results
    j = 0
    while j < len(tail):
        w = tail[j]
        done = False
        if not f.range:
            n = _range_length(tail[j:], decimal_comma)
            if n:
                f.range = list(tail[j : j + n])
                j += n
                done = True
        if done:
            continue
        if f.unit and f.unit[-1] is tail[j - 1] and 0 <= w.bbox.x0 - f.unit[-1].bbox.x1 <= 0.7 * (w.font_size or w.bbox.height) and _unit_tail(w.text):
            f.unit.append(w)
        elif not f.range and is_qualitative(w.text) and not is_flag(w.text) and is_qualitative(_text(f.value)):
            f.range.append(w)  # qualitative reference after a qualitative result
        elif not f.flag and is_flag(w.text) and not f.range:
            f.flag.append(w)
        elif not f.unit and not f.range and (parts := _split_glued_unit(w, "", decimal_comma)) is not None:
            f.range.append(parts[0])  # "<0,50.ng/ml": a range with its unit glued on
            f.unit.append(parts[1])
        elif not f.unit and looks_like_unit(w.text):
            f.unit.append(w)
        elif not f.unit and not f.range and _in_unit_slot(tail, j, decimal_comma):
            f.unit.append(w)  # OCR garbled the unit's shape ("UA" for U/l): its place says unit, the mapper repairs or drops it
        else:
            f.other.append(w)
        j += 1
    return f


_GLUED_UNIT = re.compile(r"^(?P<r>.*\d)\.?(?P<u>[^\W\d_]\S*)$")  # a letter starts the unit ("75,0%" stays a range)


def _split_glued_unit(w: Word, head: str, decimal_comma: bool | None) -> tuple[Word, Word] | None:
    """'<0,50.ng/ml' -> '<0,50' + 'ng/ml' when the front completes a range (``head`` is
    the range text before the word) and the back is a unit; a full stop in between is a
    speck or the printer's."""
    m = _GLUED_UNIT.match(w.text)
    if m is None or not looks_like_unit(m.group("u")):
        return None
    if parse_range(f"{head} {m.group('r')}".strip(), decimal_comma) is None:
        return None
    return _word_part(w, m, "r"), _word_part(w, m, "u")


def _in_unit_slot(tail: Sequence[Word], j: int, decimal_comma: bool | None) -> bool:
    """An OCR word standing alone between the value (and flag) and a range, with no unit
    after the range: where a unit is printed. Short, with a letter or ``%``, not a number."""
    w = tail[j]
    if w.source is not WordSource.OCR or len(w.text) > 6 or not re.search(r"[^\W\d_]|%", w.text):
        return False
    if parse_number(w.text, decimal_comma) is not None or any(looks_like_unit(x.text) for x in tail[j + 1 :]):
        return False  # a unit printed after the range is the unit ("0.08 [L 0.27 - 4.20 mlU/L")
    return _range_length(tail[j + 1 :], decimal_comma) > 0


def _to_raw(f: Fields, index: int, section: str | None, language: str, decimal_comma: bool | None) -> RawResult | None:
    label_text = clean_label(_text(f.label))
    if sum(c.isalpha() for c in label_text) < 1 or not f.value:
        return None
    # a two-word qualitative result whose first word fell into the label ("Non reactive")
    last = f.label[-1].text if len(f.label) > 1 else ""
    if sum(c.isalpha() for c in last) >= 2 and not is_flag(last) and is_qualitative(last + " " + _text(f.value)):
        f.value = [f.label[-1], *f.value]
        f.label = f.label[:-1]
        label_text = clean_label(_text(f.label))
    f.unit = [w for w in f.unit if parse_number(w.text, decimal_comma) is None]
    f.value = [part for w in f.value for part in _split_letter_flag(w, _text(f.range), decimal_comma)]
    f.value = _mark_before_number(f.value, _text(f.range), decimal_comma)
    vz, fz, uz = _split_value_zone(f.value, decimal_comma)
    if not vz:
        return None
    value = _printed(vz)
    value, glued = _glued_flag(value, decimal_comma)
    flag_words = list(f.flag) + fz
    unit_words = list(f.unit) + uz
    range_words = list(f.range)
    # a flag in its own column at the far right of the range zone
    while len(range_words) > 1 and is_flag(range_words[-1].text):
        size = range_words[-1].font_size or range_words[-1].bbox.height
        if range_words[-1].bbox.x0 - range_words[-2].bbox.x1 > 1.5 * size:
            flag_words.append(range_words.pop())
        else:
            break
    # a unit glued to the range's last number ("<0,50.ng/ml", "3,5-5,1mmol/l")
    if range_words and not unit_words:
        parts = _split_glued_unit(range_words[-1], _text(range_words[:-1]), decimal_comma)
        if parts is not None:
            range_words, unit_words = [*range_words[:-1], parts[0]], [parts[1]]
    # a range column that carries the unit after the numbers: "12,0 - 16,0 g/dl",
    # "< 500 ng/ml FEU", "M: <15 / W: <20 mm/1re h"
    # (a leftover after the value that is no unit, "26.6 ı", is a misread flag: the unit
    # after the range wins)
    if range_words and not any(looks_like_unit(w.text) for w in unit_words):
        for k in (1, 2, 3):
            if len(range_words) <= k:
                break
            tail = range_words[-k:]
            head = _text(range_words[:-k])
            # a misread range ("(209.0-45.0)") still ends before a unit that cannot be part of it
            if looks_like_unit(tail[0].text) and all(_unit_tail(w.text) for w in tail[1:]) and (
                parse_range(head, decimal_comma)
                or (
                    re.search(r"\d", head) and re.search(r"[/%]", tail[0].text)
                    and (not tail[0].text[:1].isdigit() or _EXPONENT_BASE.fullmatch(range_words[-k - 1].text))
                )
            ):
                flag_words.extend(w for w in unit_words if is_flag(w.text))
                unit_words, range_words = list(tail), range_words[:-k]
                break
    # flag words may be mixed into the range/unit zones when the flag column has no header
    for w in list(unit_words):
        prev = unit_words[unit_words.index(w) - 1] if unit_words.index(w) > 0 else None
        unit_tail = prev is not None and 0 <= w.bbox.x0 - prev.bbox.x1 <= 0.7 * (w.font_size or w.bbox.height) and _unit_tail(w.text)
        if is_flag(w.text) and not unit_tail:
            unit_words.remove(w)
            flag_words.append(w)
    while range_words and is_flag(range_words[-1].text) and parse_range(_text(range_words[:-1]), decimal_comma):
        flag_words.append(range_words.pop())
    while range_words and is_flag(range_words[0].text) and parse_range(_text(range_words[1:]), decimal_comma):
        flag_words.append(range_words.pop(0))
    if len(range_words) == 1 and is_flag(range_words[0].text) and parse_range(range_words[0].text, decimal_comma) is None:
        flag_words.append(range_words.pop())
    # units printed with a space ("mL/min/1,73 m²", "mm/1re h") spill into the next zone
    if unit_words:
        size = unit_words[-1].font_size or unit_words[-1].bbox.height
        for zone in (range_words, flag_words):
            while zone:
                nxt = min(zone, key=lambda w: w.bbox.x0)
                gap = nxt.bbox.x0 - unit_words[-1].bbox.x1
                if 0 <= gap <= 0.7 * size and abs(nxt.bbox.ymid - unit_words[-1].bbox.ymid) < 0.5 * size and _unit_tail(nxt.text):
                    zone.remove(nxt)
                    unit_words.append(nxt)
                else:
                    break
    # the head of a unit that OCR split at its exponent ("10°" | "3/µl") lands in the zone before it
    if unit_words and range_words and _EXPONENT_BASE.fullmatch(range_words[-1].text) and unit_words[0].text[:1].isdigit():
        head = range_words[-1]
        size = head.font_size or head.bbox.height
        if 0 <= unit_words[0].bbox.x0 - head.bbox.x1 <= 0.7 * size and parse_range(_text(range_words[:-1]), decimal_comma):
            unit_words.insert(0, range_words.pop())
    flag = _printed(flag_words) if flag_words else glued
    return RawResult(
        index=index,
        section=section,
        label=_printed(f.label, label_text),
        value=value,
        unit=_printed(unit_words) if unit_words else None,
        range=_printed(range_words) if range_words else None,
        flag=flag,
        language=language,
    )


# ------------------------------------------------------------------ sections and noise


def section_of(line: Line, language: str) -> str | None:
    text = line.text.strip()
    if not text or len(text) > 60 or re.search(r"\d{2}", text):
        return None
    lex = lexicon()
    for pat in lex.sections.values():
        parts = [p.strip() for p in re.split(r"\s*/\s*|\s+-\s+", text) if p.strip()]
        if pat.match(text) or any(pat.match(p) for p in parts):
            return text
    words = text.split()
    letters = [c for c in text if c.isalpha()]
    if 1 <= len(words) <= 4 and letters and all(c.isupper() for c in letters) and len(letters) >= 4:
        return text
    return None


def _is_noise(line: Line) -> bool:
    return bool(lexicon().noise.search(line.text))


def _looks_like_meta(label: str) -> bool:
    lex = lexicon()
    return any(p.match(label) for p in lex.meta.values()) or label.rstrip().endswith(":")


# ------------------------------------------------------------------ main entry


_RANGE_KEY = re.compile(
    r"^\s*(?:r[ée]f(?:[ée]rence)?s?\.?|v\.?\s?r\.?|valeurs? (?:de r[ée]f[ée]rence|normales|usuelles)|norm(?:e|al)?(?:bereich|werte?)?|"
    r"ref(?:erence)?\.?(?:\s?range|\s?interval)?|referenz(?:bereich|wert)?e?|range|bereich)\s*[:.]?\s*",
    re.IGNORECASE,
)


def _range_only(line: Line, decimal_comma: bool | None) -> tuple[list[Word], list[Word]] | None:
    """A line that holds only a reference range (and maybe a unit), as printed under its
    result by some labs ("Ref.: 4,0 – 10,0"). Returns (range words, unit words)."""
    words = list(line.words)
    text = _text(words)
    m = _RANGE_KEY.match(text)
    if m and m.end() > 0:
        consumed = 0
        while words and consumed < m.end():
            consumed += len(words[0].text) + 1
            words.pop(0)
    if not words:
        return None
    unit: list[Word] = []
    if len(words) > 1 and looks_like_unit(words[-1].text) and parse_range(_text(words[:-1]), decimal_comma):
        unit, words = [words[-1]], words[:-1]
    rng = parse_range(_text(words), decimal_comma)
    if rng is None or (rng.low is None and rng.high is None):
        return None
    return words, unit


def _segments(line: Line, decimal_comma: bool | None) -> list[Line]:
    """Split a line holding several result tables side by side (two-column reports) into
    one segment per table: a new segment starts at a label-like cell once the current
    segment already has a value."""
    cells = split_cells(line)
    segs: list[list[Word]] = []
    has_value = False
    for cell in cells:
        text = _text(cell)
        label_like = (
            sum(c.isalpha() for c in text) >= 3
            and not looks_like_unit(cell[0].text)
            and not is_qualitative(text)
            and not is_flag(cell[0].text)
            and parse_range(text, decimal_comma) is None
            and parse_number(cell[0].text, decimal_comma) is None
            and _split_glued_unit(cell[0], "", decimal_comma) is None  # "<0,50.ng/ml"
        )
        if segs and has_value and label_like:
            segs.append(list(cell))
            has_value = False
            continue
        if not segs:
            segs.append([])
        segs[-1].extend(cell)
        if any(parse_number(w.text, decimal_comma) is not None for w in cell) or is_qualitative(text):
            has_value = True
    return [Line(page=line.page, words=tuple(ws), bbox=BBox.enclosing([w.bbox for w in ws])) for ws in segs if ws]


def parse_rows(
    lines: Sequence[Line],
    skip: set[int],
    language: str,
    decimal_comma: bool | None,
    collection_date: str | None,
    accept_label=None,  # callable(label) -> bool: does terminology know this label?
) -> list[RawResult]:
    """Result rows of a document. ``skip`` holds indices of furniture lines."""
    rows: list[RawResult] = []
    cols: Columns | None = None
    sections: dict[int, str | None] = {}
    band_starts: list[float] = []  # x where the second (third...) table of a line starts
    last_row_line = -10

    def known(label: str) -> bool:
        return bool(accept_label and accept_label(label))

    def band_of(x: float) -> int:
        return sum(1 for b in band_starts if x >= b - 12)

    for li, line in enumerate(lines):
        if li in skip:
            continue
        header = detect_header(line, collection_date)
        if header is not None:
            cols = header
            continue
        if cols is not None and _extend_with_dates(cols, line, collection_date):
            continue  # the dates row under a cumulative header

        candidates: list[tuple[Fields, str, Line]] = []
        fields = _fields_by_columns(line, cols) if cols is not None else Fields()
        if fields.value:
            candidates.append((fields, "columns", line))
        else:
            segs = _segments(line, decimal_comma)
            for k, seg in enumerate(segs):
                if k > 0 and not any(abs(seg.bbox.x0 - b) < 12 for b in band_starts):
                    band_starts.append(seg.bbox.x0)
                    band_starts.sort()
                candidates.append((_fields_by_tokens(seg, decimal_comma), "tokens", seg))

        added = False
        for fields, mode, seg in candidates:
            band = band_of(seg.bbox.x0)
            if fields.section:
                sections[band] = _text(fields.section)
            raw = _to_raw(fields, len(rows), sections.get(band), language, decimal_comma) if fields.value else None
            if raw is None:
                sec = section_of(seg, language)
                if sec is not None:
                    sections[band] = sec
                continue
            label = raw.label.text
            if sum(c.isalpha() for c in label) < 2 and not known(label):
                continue  # a one-letter label must be a known test ("K", "P")
            if _looks_like_meta(label) and not known(label):
                continue
            if mode == "tokens" and any(sum(c.isalpha() for c in w.text) >= 3 for w in fields.other):
                continue  # prose after the number: a comment, not a result
            if mode == "tokens" and raw.value.text.strip() in _DASHES and any(
                w.bbox.x0 > raw.value.bbox.x1 and sum(c.isalpha() for c in w.text) >= 3 for w in line.words
            ):
                continue  # "PROTÉINES - INFLAMMATION": a dash between words is a title, not a negative result
            if _is_noise(seg) and not known(label):
                continue  # address, phone, page-number lines
            if mode == "tokens" and raw.unit is None and raw.range is None and not known(label):
                continue
            if mode == "tokens" and raw.unit is None and raw.range is not None and not known(label):
                # "Glycosurie  négatif  négatif": a qualitative result with a qualitative
                # reference is a row; a number with a bare word after it is not
                if not (is_qualitative(raw.value.text) and is_qualitative(raw.range.text)) and parse_range(raw.range.text, decimal_comma) is None:
                    continue
            rows.append(raw)
            added = True
        if added:
            last_row_line = li
            continue
        # a reference range printed on the line under its result
        if rows and li - last_row_line <= 2 and rows[-1].range is None and line.page == rows[-1].label.page:
            found = _range_only(line, decimal_comma)
            if found is not None:
                rwords, uwords = found
                update: dict[str, object] = {"range": _printed(rwords)}
                if uwords and rows[-1].unit is None:
                    update["unit"] = _printed(uwords)
                rows[-1] = rows[-1].model_copy(update=update)
                last_row_line = -10
    return rows


def doc_font_size(lines: Sequence[Line]) -> float:
    sizes = sorted(line_font_size(ln) for ln in lines)
    return sizes[len(sizes) // 2] if sizes else 10.0
