"""What a report says: patient, chosen tests, generated values and their printed forms.

Everything here is independent of where things are drawn; `_layout` places it on pages.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from seeds._catalog import UnitRow, load_catalog, load_labels, load_lexicon, section_order
from seeds._render import FontFamily, encodable

CANONICAL_QUAL = ("negative", "positive", "trace", "1+", "2+", "3+", "normal")
_STEPS = {"u_ph": 0.5, "u_sg": 0.005}  # dipstick readings come in fixed steps
_COUNT_STEPS = {"plt": 1000, "wbc": 100}  # counts per microlitre are printed rounded
_EXCLUSIVE = (("urea", "bun"),)  # a lab prints one of these, not both


@dataclass(frozen=True)
class NumberFormat:
    decimal: str = ","
    thousands: str = ""  # "", " ", "\u202f", ".", ",", "'"

    def fmt(self, v: float, dec: int) -> str:
        s = f"{abs(v):,.{dec}f}"
        s = s.replace(",", "\x00").replace(".", self.decimal).replace("\x00", self.thousands)
        return ("-" if v < 0 else "") + s


@dataclass
class Result:
    """One observation of the current report, with its printed strings."""

    row: UnitRow
    label: str
    unit_printed: str | None
    value: float | None
    comparator: str | None
    value_text: str | None
    interpretation: str | None
    ref_low: float | None
    ref_high: float | None
    value_str: str  # printed value without flag
    flag_str: str  # printed flag ("" when none)
    bold: bool
    range_str: str
    previous: list[str] = field(default_factory=list)
    page: int = 0


def interpretation(value: float, low: float | None, high: float | None, row: UnitRow, critical_flags: bool) -> str | None:
    if low is None and high is None:
        return None
    if high is not None and value > high:
        if critical_flags and row.crit_high is not None and value >= row.crit_high:
            return "HH"
        return "H"
    if low is not None and value < low:
        if critical_flags and row.crit_low is not None and value <= row.crit_low:
            return "LL"
        return "L"
    return "N"


def _quantize(row: UnitRow, v: float) -> float:
    step = _STEPS.get(row.test) or (_COUNT_STEPS.get(row.test, 10) if row.ucum == "/uL" else None)
    if step:
        v = round(v / step) * step
    return round(v, row.dec)


def generate_numeric(row: UnitRow, sex: str, rng: random.Random, abnormal_rate: float, lod_bias: float) -> tuple[float, str | None]:
    """A realistic value (mostly inside the range) and its comparator."""
    low, high = row.range_for(sex)
    if row.lod is not None and rng.random() < lod_bias:
        return row.lod, "<"
    abnormal = rng.random() < abnormal_rate
    if low is not None and high is not None:
        span = high - low
        if not abnormal:
            v = rng.triangular(low + 0.03 * span, high - 0.03 * span)
        elif low <= 0 or rng.random() < 0.55:
            v = high + span * rng.uniform(0.05, 0.9)
            if row.crit_high is not None and rng.random() < 0.2:
                v = row.crit_high * rng.uniform(1.0, 1.3)
        else:
            v = max(low - span * rng.uniform(0.05, 0.5), low * 0.3)
            if row.crit_low is not None and rng.random() < 0.2:
                v = row.crit_low * rng.uniform(0.6, 1.0)
    elif high is not None:
        v = high * (rng.uniform(1.1, 4.0) if abnormal else rng.uniform(0.1, 0.95))
    elif low is not None:
        v = low * (rng.uniform(0.35, 0.95) if abnormal else rng.uniform(1.02, 1.6))
    else:
        v = rng.uniform(1.0, 10.0)
    v = _quantize(row, v)
    if row.lod is not None and v < row.lod:
        return row.lod, "<"
    if row.cap_high is not None and v > row.cap_high and rng.random() < 0.7:
        return row.cap_high, ">"
    if v <= 0:
        v = _quantize(row, 10 ** -row.dec if row.dec else 1.0)
    return v, None


def generate_qualitative(row: UnitRow, rng: random.Random, abnormal_rate: float) -> str:
    r = rng.random()
    if row.kind == "qual_strip":
        return rng.choice(("trace", "1+", "2+", "3+")) if r < abnormal_rate else "negative"
    if row.kind == "qual_posneg":
        return "positive" if r < abnormal_rate / 2 else "negative"
    return rng.choice(("1+", "2+")) if r < abnormal_rate / 2 else "normal"


@dataclass(frozen=True)
class ContentStyle:
    """The content-level choices of a layout (how things are worded and formatted)."""

    lang: str  # fr | de | en: language of labels, headers and words
    second_lang: str | None  # bilingual labels "fr / de"
    numbers: NumberFormat
    flag_symbols: dict[str, str]  # H L HH LL A -> printed
    critical_flags: bool  # the lab prints HH/LL
    flag_mode: str  # col | suffix | prefix
    bold_abnormal: bool
    bold_only_prob: float  # abnormal rows flagged only by bold
    range_fmt: str  # dash | dash_sp | brackets | parens | words
    open_fmt: str  # lt_sp | lt | zero | le
    sex_ranges: bool
    unit_in_range: bool
    comparator_space: bool
    n_previous: int
    abnormal_rate: float
    lod_bias: float


def _pick_label(test: str, style: ContentStyle, family: FontFamily, rng: random.Random) -> str:
    labels = load_labels()[test]

    def pick(lang: str) -> str:
        options = [lab for lab in labels[lang] if encodable(lab, family)] or [
            lab for lab in labels["en"] if encodable(lab, family)
        ]
        return rng.choice(options)

    first = pick(style.lang)
    if style.second_lang is None:
        return first
    second = pick(style.second_lang)
    return first if second.casefold() == first.casefold() else f"{first} / {second}"


def _range_text(lo: float | None, hi: float | None, row: UnitRow, style: ContentStyle, family: FontFamily) -> str:
    f = style.numbers.fmt
    sp = " " if style.open_fmt != "lt" else ""
    if lo is not None and hi is not None:
        a, b = f(lo, row.dec), f(hi, row.dec)
        if style.range_fmt == "dash":
            return f"{a}-{b}"
        if style.range_fmt == "dash_sp":
            return f"{a} - {b}"
        if style.range_fmt == "brackets":
            return f"[{a}-{b}]"
        if style.range_fmt == "parens":
            return f"({a}-{b})"
        word = {"fr": "à", "de": "bis", "en": "to"}[style.lang]
        return f"{a} {word} {b}"
    le = style.open_fmt == "le" and not family.standard
    if hi is not None:
        return f"{'≤' if le else '<'}{sp}{f(hi, row.dec)}"
    if lo is not None:
        return f"{'≥' if le else '>'}{sp}{f(lo, row.dec)}"
    return ""


def _qual_word(canonical: str, style: ContentStyle, rng: random.Random, serology: bool) -> str:
    words = load_lexicon()["qualitative"][style.lang]
    if serology and canonical in ("negative", "positive") and rng.random() < 0.35:
        return rng.choice(words["nonreactive" if canonical == "negative" else "reactive"])
    return str(rng.choice(words[canonical]))


def choose_rows(lang: str, sections: list[str], sex: str, rng: random.Random, keep: float) -> list[UnitRow]:
    """One unit row per test for the chosen sections, with consistent unit habits per document."""
    catalog = load_catalog()
    ucums = sorted({r.ucum or "" for r in catalog})
    rng.shuffle(ucums)
    rank = {u: i for i, u in enumerate(ucums)}
    chosen: list[UnitRow] = []
    seen: set[str] = set()
    by_test: dict[str, list[UnitRow]] = {}
    for row in catalog:
        if lang in row.langs and row.section in sections and (row.sex_only is None or row.sex_only == sex):
            by_test.setdefault(row.test, []).append(row)
    order = {s: i for i, s in enumerate(section_order())}
    for test, rows in by_test.items():
        if test in seen or (rng.random() > keep and rows[0].section not in ("urine",)):
            continue
        seen.add(test)
        chosen.append(min(rows, key=lambda r: rank[r.ucum or ""]))
    for keep_test, drop_test in _EXCLUSIVE:
        if any(r.test == keep_test for r in chosen):
            chosen = [r for r in chosen if r.test != drop_test]
    chosen.sort(key=lambda r: order[r.section])
    return chosen


def make_results(
    rows: list[UnitRow], sex: str, style: ContentStyle, family: FontFamily, rng: random.Random
) -> list[Result]:
    unit_choice: dict[str, str] = {}
    neg_words = load_lexicon()["qualitative"][style.lang]["negative"]
    neg_ref = rng.choice(neg_words)
    out: list[Result] = []
    for row in rows:
        label = _pick_label(row.test, style, family, rng)
        unit_printed: str | None = None
        if row.ucum is not None and row.units:
            options = [u for u in row.units if encodable(u, family)] or list(row.units)
            prev = unit_choice.get(row.ucum)
            unit_printed = prev if prev in options else rng.choice(options)
            unit_choice[row.ucum] = unit_printed
        out.append(_result(row, label, unit_printed, sex, style, family, rng, neg_ref))
    return out


def _flag_text(interp: str | None, style: ContentStyle) -> str:
    if interp is None or interp == "N":
        return ""
    if not style.critical_flags:
        interp = {"HH": "H", "LL": "L"}.get(interp, interp)
    return style.flag_symbols.get(interp, "")


def _result(
    row: UnitRow,
    label: str,
    unit_printed: str | None,
    sex: str,
    style: ContentStyle,
    family: FontFamily,
    rng: random.Random,
    neg_ref: str,
) -> Result:
    fmt = style.numbers.fmt
    if row.numeric:
        value, comp = generate_numeric(row, sex, rng, style.abnormal_rate, style.lod_bias)
        lo, hi = row.range_for(sex)
        zero = style.open_fmt == "zero" and lo is None and hi is not None and not (style.sex_ranges and row.sex_specific)
        if zero:
            lo = 0.0
        interp = interpretation(value, lo, hi, row, style.critical_flags)
        sp = " " if style.comparator_space else ""
        value_str = f"{comp}{sp}{fmt(value, row.dec)}" if comp else fmt(value, row.dec)
        if style.sex_ranges and row.sex_specific:
            m_lo, m_hi = row.range_for("male")
            f_lo, f_hi = row.range_for("female")
            pm, pf = load_lexicon()["sex_range_prefix"][style.lang]
            range_str = (
                f"{pm}: {_range_text(m_lo, m_hi, row, style, family)} / {pf}: {_range_text(f_lo, f_hi, row, style, family)}"
            )
        elif zero and hi is not None:
            range_str = f"{fmt(0.0, row.dec)} - {fmt(hi, row.dec)}"
        else:
            range_str = _range_text(lo, hi, row, style, family)
        previous = [
            "" if rng.random() < 0.15 else fmt(_quantize(row, value * rng.uniform(0.75, 1.25)), row.dec)
            for _ in range(style.n_previous)
        ]
        value_text = None
    else:
        value_text = generate_qualitative(row, rng, style.abnormal_rate)
        value, comp, lo, hi = None, None, None, None
        interp = "N" if value_text in ("negative", "normal") else "A"
        value_str = _qual_word(value_text, style, rng, row.section == "sero")
        normal = "normal" if row.kind == "qual_normal" else "negative"
        range_str = neg_ref if normal == "negative" else _qual_word("normal", style, rng, False)
        previous = ["" if rng.random() < 0.2 else _qual_word(normal, style, rng, False) for _ in range(style.n_previous)]
    flag = _flag_text(interp, style)
    bold = False
    if interp not in (None, "N"):
        if style.bold_only_prob and rng.random() < style.bold_only_prob:
            flag, bold = "", True
        elif style.bold_abnormal:
            bold = True
    if style.unit_in_range and unit_printed and range_str:
        range_str = f"{range_str} {unit_printed}"
    return Result(
        row=row,
        label=label,
        unit_printed=unit_printed,
        value=value,
        comparator=comp,
        value_text=value_text,
        interpretation=interp,
        ref_low=lo,
        ref_high=hi,
        value_str=value_str,
        flag_str=flag,
        bold=bold,
        range_str=range_str,
        previous=previous,
    )
