"""Repairs that only OCR'd fields get: each reads a row's printed fields (and what the
mapper already knows: the analyte, its unit, the parsed range), returns the repaired
reading and a note, and never runs on a text layer (a digital page prints what it means).

Every repair is reported; the caller lowers the field's confidence so that a repaired
result goes to review. What each step reads and writes:

=====================  =====================================  ============================
step                   reads                                  writes
=====================  =====================================  ============================
``unit_in_flag``       flag (OCR), value, range, analyte      unit text ("unit-from-flag")
``repair_range``       range text (OCR)                       range ("range-repaired")
``repair_value``       value (OCR), range, analyte + unit     value, decimals, maybe range
``infer_unit``         value, range, analyte's units + spans  UCUM code ("unit-inferred")
``label_by_evidence``  label (OCR, unmatched), unit, value,   test ("label-by-evidence")
                       range, analytes' units + spans
=====================  =====================================  ============================
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from extractors.values import Range, off_range, parse_number, parse_range
from models import RawResult

_DATA = Path(__file__).with_name("data")


def _intervals(name: str, low: str, high: str) -> dict[tuple[str, str], tuple[float, float]]:
    """(component, unit) -> (low, high) from a data table's two columns."""
    with (_DATA / name).open(encoding="utf-8") as fh:
        return {(r["component_key"], r["ucum"]): (float(r[low]), float(r[high])) for r in csv.DictReader(fh)}


@cache
def _spans() -> dict[tuple[str, str], tuple[float, float]]:
    return _intervals("plausible_spans.csv", "min", "max")


INFERRED_UNIT_SCORE = 0.5  # a unit no glyph of which was read: always for review


@cache
def _typical() -> dict[tuple[str, str], tuple[float, float]]:
    return _intervals("typical_intervals.csv", "low", "high")


TYPICAL_NEAR = 0.3  # decades: the printed numbers lie within a factor 2 of the typical interval...
TYPICAL_MARGIN = 0.5  # ...and the next unit's interval is this many decades farther (a factor 3)


def _decades_off(points: list[float], interval: tuple[float, float]) -> float:
    """How far, in decades, the points lie outside an interval (their mean :func:`off_range`)."""
    rng = Range(interval[0], interval[1], "")
    return sum(off_range(p, rng) for p in points) / len(points)


def typical_choice(component_key: str, fits: list[str], value: float, rng: Range | None) -> str | None:
    """The one unit of ``fits`` whose typical adult reference interval the row's printed
    range (or, without one, its value) lies near, when the units measure different things:
    a differential count printed both as a fraction and as a count, side by side
    ("Lymphocytes 1,93 [1,00-4,00]" is the count, not 1.93 %). No laboratory convention
    decides between those. None without a clear winner."""
    points = [p for p in (range_bounds(rng) or [value]) if p > 0]
    if not points:  # a value of 0 and no range: nothing to place
        return None
    scored = sorted(
        (_decades_off(points, interval), u) for u in fits if (interval := _typical().get((component_key, u))) is not None
    )
    if len(scored) < 2 or scored[0][0] > TYPICAL_NEAR or scored[1][0] < scored[0][0] + TYPICAL_MARGIN:
        return None
    return scored[0][1]


def infer_unit(
    component_key: str,
    accepted: frozenset[str],
    value: float,
    rng: Range | None,
    *,
    unspanned: bool = False,
    printed: Sequence[tuple[str, frozenset[str]]] = (),
) -> str | None:
    """The unit of an OCR row whose unit glyphs were all lost ("Hématocrite 46,6 [40,0-52,0]",
    the "%" dropped) or read as nothing a unit can be: among the analyte's units that have a
    physiological span, the only one whose span holds the value and the range. Units that
    are the same unit (10¹²/l, 10⁶/µl, /pl) count as one; the analyte's usual spelling of
    it is written. When the printed range fits no unit at all (a misread bound: "320-460"
    for "320-360"), the value alone decides.
    When several different units fit (an ALT of 23 may be U/l or UI/l), the report's own
    convention decides: ``printed`` holds the units this report printed (and OCR read) on
    its other rows, each with the units that row's test could have had. Only rows that
    had the same choice count (an AST printed in U/l tells an ALT's unit; a sodium printed
    in mmol/l does not tell a haemoglobin's), and the one fitting unit they printed is
    taken (a laboratory prints one unit for all its enzymes). None when none fits, or
    several do and those rows printed none or several of them, or the analyte has no spans.
    ``unspanned``: a unit without a span counts as holding anything (used when the test's
    code already allows one unit only: "Lymphocytes" without "abs." is the % test)."""
    bounds = range_bounds(rng)
    fits = _fitting_units(component_key, accepted, [value, *bounds], unspanned)
    if not fits and bounds:
        fits = _fitting_units(component_key, accepted, [value], unspanned)
    from mappers.units import property_of

    one = _one_unit(component_key, fits)
    if one is None and len({property_of(u) for u in fits}) > 1:
        # a fraction or a count: laboratories print both side by side, so the typical
        # interval speaks first, the report's convention after it
        one = typical_choice(component_key, fits, value, rng)
    return one or _one_unit(component_key, _printed_like(fits, printed)) or None


def range_bounds(rng: Range | None) -> list[float]:
    """A range's positive bounds: what an analyte's span must hold besides the value (a
    lower bound of 0 holds in any unit)."""
    return [b for b in (rng.low, rng.high) if b is not None and b > 0] if rng is not None else []


def _fitting_units(component_key: str, accepted: frozenset[str], points: list[float], unspanned: bool) -> list[str]:
    """The units whose span holds every point."""
    fits = []
    for ucum in sorted(accepted):
        span = plausible_span(component_key, ucum)
        if (span is None and unspanned) or (span is not None and all(span[0] <= p <= span[1] for p in points)):
            fits.append(ucum)
    return fits


def _printed_like(fits: list[str], printed: Sequence[tuple[str, frozenset[str]]]) -> list[str]:
    """The fitting units that rows with the same choice (their tests take every fitting
    unit) printed."""
    from mappers.units import units_equal

    if len(fits) < 2:
        return []
    chosen = [u for u, choice in printed if all(any(units_equal(f, c) for c in choice) for f in fits)]
    return [u for u in fits if any(units_equal(u, p) for p in chosen)]


def _one_unit(component_key: str, fits: list[str]) -> str | None:
    """The one unit of ``fits`` up to equal units (the analyte's usual spelling first); None
    when there is none or several different ones."""
    from mappers.repair import preferred_units
    from mappers.units import units_equal

    if not fits or not all(units_equal(fits[0], u) for u in fits[1:]):
        return None
    order = preferred_units(component_key)
    return min(fits, key=lambda u: (order.index(u) if u in order else len(order), u))


EVIDENCE_WEIGHT = 0.6  # a label named by its row's evidence: always for review
EVIDENCE_MARGIN = 0.05  # the runner-up consistent test must score this much lower


def label_by_evidence(
    variants: list[str], unit_ucum: str | None, value: float, rng: Range | None
) -> tuple[str, float] | None:
    """(synonym, score) for an OCR'd label no match accepted ("Kreythrozylen",
    "Harnstoft", "Thromboryies"), named by what the rest of its row says: among the tests
    the label resembles (fuzzy score from 0.70, :func:`mappers.terminology.weak_candidates`),
    the one whose units take the printed unit and whose physiological span (in that unit)
    holds the value and the range. Without a unit the spans alone must hold them. None
    when no test fits, or a second test fits about as well (a glucose and a
    glucose-urine row cannot be told by their numbers)."""
    from mappers.repair import component_units
    from mappers.terminology import weak_candidates
    from mappers.units import units_equal

    cands: dict[str, tuple[str, float]] = {}
    for v in variants:
        for synonym, comp, score in weak_candidates(v):
            if comp not in cands or score > cands[comp][1]:
                cands[comp] = (synonym, score)
    points = [value, *range_bounds(rng)]
    fits: list[tuple[float, str, str]] = []
    for comp, (synonym, score) in cands.items():
        units = sorted(component_units(comp))
        if unit_ucum is not None:
            units = [u for u in units if units_equal(u, unit_ucum)]
            if not units:
                continue  # the printed unit is not one this test is reported in
        spans = [sp for u in units if (sp := plausible_span(comp, u)) is not None]
        if spans and not any(all(lo <= p <= hi for p in points) for lo, hi in spans):
            continue
        if not spans and unit_ucum is None:
            continue  # no unit and nothing to check the numbers against: no evidence
        fits.append((score, synonym, comp))
    if not fits:
        return None
    fits.sort(key=lambda f: (-f[0], f[2]))
    if len(fits) > 1 and fits[1][0] > fits[0][0] - EVIDENCE_MARGIN:
        return None
    return fits[0][1], fits[0][0]


def validate_spans(components: set[str]) -> list[str]:
    """Problems in ``plausible_spans.csv`` (unknown component, invalid UCUM, min not below
    max) and ``typical_intervals.csv`` (a unit without a span, an interval outside it)."""
    from mappers.units import is_valid_ucum

    problems: list[str] = []
    for (comp, ucum), (lo, hi) in _spans().items():
        if comp not in components:
            problems.append(f"plausible_spans.csv: unknown component {comp!r}")
        if not is_valid_ucum(ucum):
            problems.append(f"plausible_spans.csv: {comp}: invalid UCUM {ucum!r}")
        if not 0 <= lo < hi:
            problems.append(f"plausible_spans.csv: {comp} {ucum}: min {lo} not below max {hi}")
    for (comp, ucum), (lo, hi) in _typical().items():
        if (comp, ucum) not in _spans():
            problems.append(f"typical_intervals.csv: {comp} {ucum}: no plausible span (the interval would never be used)")
        elif not _spans()[(comp, ucum)][0] <= lo < hi <= _spans()[(comp, ucum)][1]:
            problems.append(f"typical_intervals.csv: {comp} {ucum}: {lo}-{hi} not inside the plausible span")
        if lo <= 0:
            problems.append(f"typical_intervals.csv: {comp} {ucum}: low bound {lo} must be above 0 (decades)")
    return problems


def plausible_span(component_key: str, ucum: str) -> tuple[float, float] | None:
    """Physiologically possible values of an analyte in a unit (data table), or None."""
    return _spans().get((component_key, ucum))


def within(value: float, rng: Range, factor: float) -> bool:
    """Is ``value`` no more than ``factor`` times beyond the range's bounds?"""
    if rng.high is not None and rng.high > 0 and value > rng.high * factor:
        return False
    if rng.low is not None and rng.low > 0 and value < rng.low / factor:
        return False
    return True


# ---------------------------------------------------------------------------- range


def repair_range(range_text: str, decimal_comma: bool | None, sex: str | None) -> Range | None:
    """The first repaired reading of an OCR'd range that failed to parse (misread
    brackets, a table rule read against it) that parses as a proper range."""
    from mappers.repair import repair_range_texts

    for candidate in repair_range_texts(range_text):
        rng = parse_range(candidate, decimal_comma, sex)
        if rng is not None and (rng.low is None or rng.high is None or rng.low < rng.high):
            return rng
    return None


_MISREAD_BOUND = re.compile(r"^[=_]\s*(?P<n>\d[\d.,]*)$")


def misread_bound(range_text: str, value: float | None, flags: tuple[bool, str | None] | None, decimal_comma: bool | None) -> Range | None:
    """A one-sided range whose "≤" or "≥" OCR read as "=" ("= 200", "=1,70"), on the side
    the row's flag agrees with: a value flagged high exceeds an upper limit, one flagged
    low falls short of a lower limit, an unflagged value lies within its limit.
    ``flags``: (abnormal, direction) of the printed flag or bold value, None when unmarked.
    None when no side, or both, agree (an abnormal mark with no direction on a value
    equal to the bound)."""
    m = _MISREAD_BOUND.match(range_text.strip())
    bound = parse_number(m["n"], decimal_comma) if m else None
    if bound is None or value is None:
        return None
    abnormal, direction = flags if flags is not None else (False, None)
    sides = []
    for rng in (Range(None, bound.value, range_text), Range(bound.value, None, range_text)):
        outside = "H" if rng.high is not None and value > rng.high else "L" if rng.low is not None and value < rng.low else None
        if (outside is not None) == abnormal and (direction not in ("H", "L") or outside == direction):
            sides.append(rng)
    return sides[0] if len(sides) == 1 else None


# ---------------------------------------------------------------------------- unit


def unit_in_flag(raw: RawResult, range_text: str | None, accepted: frozenset[str], decimal_comma: bool | None, sex: str | None):  # type: ignore[no-untyped-def]
    """The unit an OCR'd one- or two-character "flag" really is ("42,7  +" for
    "42,7 %"), when the row has no unit, the value lies inside its printed range (no flag
    would be printed there) and the reading repairs to a unit the analyte accepts."""
    from mappers.repair import repair_unit

    flag = raw.flag
    if flag is None or flag.source != "ocr" or len(flag.text.strip()) > 2 or range_text is None:
        return None
    num = parse_number(raw.value.text, decimal_comma)
    rng = parse_range(range_text, decimal_comma, sex) or repair_range(range_text, decimal_comma, sex)
    if num is None or rng is None or rng.low is None or rng.high is None or not rng.low <= num.value <= rng.high:
        return None
    fixed = repair_unit(flag.text, accepted)
    return fixed if fixed is not None and fixed.ucum is not None else None


# ---------------------------------------------------------------------------- value


@dataclass(frozen=True)
class ValueFix:
    value: float | None
    decimals: int | None
    rng: Range | None
    value_parse: float  # parse certainty after the repair (a repaired value goes to review)
    notes: tuple[str, ...] = field(default_factory=tuple)


_LEADING_ZERO = re.compile(r"^(0\d+)$")
_DECIMALS = re.compile(r"\d+(?:[.,](\d+))?")
DOUBTFUL_VALUE = 0.9  # word confidence below which a value's last digit may be a glued flag mark


def printed_decimals(text: str) -> set[int]:
    """How many decimals each number in ``text`` is printed with ("11,5 - 14,5" -> {1})."""
    return {len(m.group(1)) if m.group(1) else 0 for m in _DECIMALS.finditer(text)}


def repair_value(
    raw: RawResult,
    value: float | None,
    decimals: int | None,
    comparator: str | None,
    rng: Range | None,
    range_text: str | None,
    analyte_unit: tuple[str, str] | None,  # (component key, UCUM) when both are known
    value_parse: float,
    decimal_comma: bool | None,
) -> ValueFix:
    """OCR repairs of the value, in order: a low flag glued before it; lost decimal
    separators judged by the analyte's physiological span (value and range scaled back
    together); lost separators or letter/digit confusions judged by the printed range."""
    notes: list[str] = []
    # a low flag printed before the value ("- 6,7" read as "-6,7"): a negative reading
    # against a range that cannot go below zero is the flag and the value
    if (
        value is not None and value < 0 and comparator is None
        and rng is not None and rng.low is not None and rng.low >= 0 and raw.value.text.lstrip()[:1] in "-–"
    ):
        value, value_parse = -value, min(value_parse, 0.8)
        notes.append("flag-split-from-value")

    # a 1 read as a lower-case l glued to the end of the number ("8l" for 81, split off as a
    # low flag, its box starting where the number's ends): taken back when the range denies
    # the flag (the number is not below its low end)
    flag = raw.flag
    if (
        flag is not None and flag.text == "l" and flag.source == "ocr" and value is not None and comparator is None
        and abs(flag.bbox.x0 - raw.value.bbox.x1) <= 0.5 and rng is not None and not (rng.low is not None and value < rng.low)
    ):
        joined = parse_number(raw.value.text.strip() + "1", decimal_comma)
        if joined is not None and joined.comparator is None:
            notes.extend(("value-repaired", "flag-was-digit"))
            return ValueFix(joined.value, joined.decimals, rng, min(value_parse, 0.6), tuple(notes))

    # a flag mark printed right after the value read as its last digit ("16,0 +" read "16,01",
    # "3,3 -" read "3,31"): a doubtful reading ending in 1 with one decimal more than its
    # range's bounds, no flag read, and the value without that digit outside the range, so
    # a flag was printed there
    text = raw.value.text.strip()
    if (
        flag is None and value is not None and comparator is None and decimals and rng is not None
        and raw.value.confidence < DOUBTFUL_VALUE and text.endswith("1") and printed_decimals(range_text or "") == {decimals - 1}
    ):
        cut = parse_number(text[:-1], decimal_comma)
        if cut is not None and cut.comparator is None and off_range(cut.value, rng) > 0:
            notes.extend(("value-repaired", "digit-was-flag"))
            return ValueFix(cut.value, cut.decimals, rng, min(value_parse, 0.6), tuple(notes))

    # a number is never printed with a leading zero: "03" is 0,3 whose separator was lost
    m = _LEADING_ZERO.match(text)
    if m and value is not None and comparator is None and not decimals:
        d = len(m.group(1)) - 1
        value, decimals, value_parse = round(value / 10**d, d), d, 0.6
        notes.append("value-repaired")
        return ValueFix(value, decimals, rng, value_parse, tuple(notes))

    # outside the analyte's physiological span: the decimal separator(s) were lost
    if value is not None and analyte_unit is not None and comparator is None and not decimals:
        span = plausible_span(*analyte_unit)
        if span is not None and not span[0] <= value <= span[1]:
            fits = [d for d in (1, 2, 3) if span[0] <= value / 10**d <= span[1]]
            range_read = rng is not None and rng.high is not None and rng.high <= span[1]
            if fits and range_read:  # a range read whole tells how many digits followed the lost separator
                fits.sort(key=lambda d: (off_range(value / 10**d, rng), d))  # type: ignore[arg-type]
            elif fits and rng is not None and rng.high is not None:  # the range lost them too: both scale back into the span
                fits = [d for d in fits if rng.high / 10**d <= span[1]] or fits
            if fits:
                d = fits[0]
                value, decimals, value_parse = round(value / 10**d, d), d, 0.6
                notes.append("value-repaired")
                if rng is not None and rng.high is not None and rng.high > span[1]:
                    rng = Range(None if rng.low is None else rng.low / 10**d, rng.high / 10**d, rng.text)
                return ValueFix(value, decimals, rng, value_parse, tuple(notes))

    # only where the printed range makes it safe
    if rng is not None:
        fixed = _repair_against_range(raw.value.text, value, decimals, comparator, rng, range_text or "", decimal_comma)
        if fixed is not None:
            (value, decimals), value_parse = fixed, 0.6
            notes.append("value-repaired")
    return ValueFix(value, decimals, rng, value_parse, tuple(notes))


def _range_decimals(text: str) -> int:
    decs = [len(m.group(1)) for m in re.finditer(r"\d[.,](\d+)", text)]
    return max(decs) if decs else 0


def _repair_against_range(
    text: str, value: float | None, decimals: int | None, comparator: str | None, rng: Range, range_text: str, decimal_comma: bool | None
) -> tuple[float, int] | None:
    """Lost decimal separators ("433" for "4,33") and letter/digit confusions ("4,O1"),
    accepted only when exactly the repaired reading is plausible for the printed range."""
    from mappers.repair import repair_number_text

    dec = _range_decimals(range_text)
    if value is not None:
        if comparator is not None or decimals or dec == 0 or within(value, rng, 4.0):
            return None
        digits = str(int(value))
        for d in (dec, dec - 1, dec + 1):
            if 0 < d < len(digits):
                cand = float(digits[:-d] + "." + digits[-d:])
                if within(cand, rng, 2.5):
                    return cand, d
        return None
    fixed = repair_number_text(text)
    if fixed is None:
        return None
    n = parse_number(fixed, decimal_comma)
    if n is None or n.comparator is not None or not within(n.value, rng, 2.5):
        return None
    return n.value, n.decimals
