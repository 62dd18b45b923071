"""RawResult -> MappedResult: LOINC code, UCUM unit, numbers, range, interpretation and
per-field confidence composed from the evidence.

Confidence model (each factor in [0, 1]; see ``docs`` in README "Confidence"):

- reading: the printed field's reading confidence (OCR word confidence, or text-layer
  quality for digital pages; 1.0 for a clean text layer),
- code: the terminology match score, times how well the printed unit's property fits the
  chosen LOINC code,
- value: reading x parse certainty x plausibility against the reference range,
- unit: reading x unit-alias score (a missing unit where the code needs one is weak),
- range, flag: reading x parse, and flag/range/value consistency.

The observation's overall confidence is the product of code, value and unit (what strict
correctness needs) and the square roots of range and flag (weaker evidence).
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from models import MappedResult, Printed, RawResult, ReportMeta
from extractors.values import Range, parse_flag, parse_number, parse_range
from mappers.ocr_repair import within

AUTO_ACCEPT = 0.90

_SPECIMEN = {"Bld": "blood", "Ser/Plas": "serum", "Ser": "serum", "Plas": "plasma", "Urine": "urine", "BldV": "blood", "BldA": "blood", "PPP": "plasma"}
_DIMENSIONLESS = {"1", "{ratio}", "[pH]", "{INR}", "{SG}", ""}
_KIND_BY_PROPERTY = {"CCnc": "enzyme", "CAct": "enzyme", "ACnc": "hormone"}
_LABEL_UNIT = re.compile(r"^(?P<label>.*?)\s*[\[(](?P<unit>[^\])]{1,14})[\])]\s*$")


@dataclass(frozen=True)
class MappingContext:
    decimal_comma: bool | None
    sex: str | None
    language: str | None
    # units the report printed on its rows, each with the units that row's test takes (its convention)
    printed_units: tuple[tuple[str, frozenset[str]], ...] = ()


def _qualitative(text: str) -> tuple[str, str | None] | None:
    from mappers.terminology import normalise_qualitative

    return normalise_qualitative(text)


def map_result(raw: RawResult, ctx: MappingContext) -> MappedResult:
    from mappers.ocr_repair import (
        EVIDENCE_WEIGHT, INFERRED_UNIT_SCORE, infer_unit, label_by_evidence, misread_bound, plausible_span, repair_range, repair_value, unit_in_flag,
    )
    from mappers.repair import component_units, unit_readings
    from mappers.terminology import component_kind, match_label, names_absolute_count
    from mappers.units import UnitMatch, property_of, to_ucum, units_equal

    notes: list[str] = []
    label = raw.label.text
    unit_text = raw.unit.text if raw.unit else None
    if unit_text is None:
        m = _LABEL_UNIT.match(label)
        if m and to_ucum(m.group("unit")) is not None:
            label, unit_text = m.group("label"), m.group("unit")
            notes.append("unit-from-label")

    range_text = raw.range.text if raw.range else None
    unit_cell = raw.unit
    if unit_text is None and range_text is not None:
        split = split_range_unit(range_text, ctx.decimal_comma, ctx.sex)
        if split is not None:  # "40,0 - 75,0 %" in the range column, the unit column empty
            range_text, unit_text = split
            unit_cell = raw.range
            notes.append("unit-from-range")
    elif range_text is not None and parse_range(range_text, ctx.decimal_comma, ctx.sex) is None:
        # the unit read in its column and again glued to the bracket closing the range
        # ("(2.0-10.0)%"). Only after a bracket: "<2l" is 21 misread, not 2 litres
        split = split_range_unit(range_text, ctx.decimal_comma, ctx.sex)
        if split is not None and split[0].endswith((")", "]")):
            range_text = split[0]

    specimen_hint = "urine" if raw.section and re.search(r"urin|harn|bandelette|dipstick", raw.section, re.I) else None

    read = parse_number(raw.value.text, ctx.decimal_comma)  # parsed once: the label, unit and value steps use them
    rng_read = parse_range(range_text, ctx.decimal_comma, ctx.sex) if range_text is not None else None

    # 1. label first (gives the analyte kind), then the unit with that kind, then the code
    label_key, first = _best_label(label, ctx.language, specimen_hint)
    by_evidence = None
    if first is None and raw.label.source == "ocr":  # a misread label: the rest of the row may name the test
        printed_unit = to_ucum(unit_text) if unit_text else None
        if read is not None:
            by_evidence = label_by_evidence(
                label_variants(label, ctx.language), printed_unit.ucum if printed_unit else None, read.value, rng_read
            )
        if by_evidence is not None:
            label_key, first = _best_label(by_evidence[0], ctx.language, specimen_hint)
            notes.append("label-by-evidence")
    kind = (component_kind(first.component_key) or _KIND_BY_PROPERTY.get(first.property)) if first else None
    if unit_text is None and first is not None:
        in_flag = unit_in_flag(raw, range_text, component_units(first.component_key), ctx.decimal_comma, ctx.sex)
        if in_flag is not None:  # OCR: "42,7  +" for "42,7 %"
            unit_text, unit_cell = in_flag.text, raw.flag
            raw = raw.model_copy(update={"flag": None})
            notes.append("unit-from-flag")
    unit = to_ucum(unit_text, kind) if unit_text else None
    if unit_text and first is not None:
        accepted = component_units(first.component_key)
        from_ocr = unit_cell is not None and unit_cell.source == "ocr"
        if from_ocr and (unit is None or unit.score < 1.0):  # unknown, or valid only by UCUM grammar ("yg/l")
            from mappers.terminology import label_components

            # the unit may decide between the tests a label can name
            accepted = accepted | frozenset(u for c in label_components(label_key) for u in component_units(c))
        if accepted and (unit is None or (from_ocr and (unit.ucum not in accepted or unit.score < 1.0))):
            box_chars = None
            if raw.unit is not None and raw.unit.source == "ocr" and raw.unit.bbox.height > 0:
                # average glyph width is about 0.45 of an OCR line box's height
                box_chars = raw.unit.bbox.width / (0.45 * raw.unit.bbox.height)
            fixed = _likeliest_unit(
                unit_readings(unit_text, accepted, box_chars), first.component_key, read.value if read else None, rng_read
            )
            if fixed is not None and fixed.ucum is not None:
                unit = UnitMatch(ucum=fixed.ucum, score=0.85 * fixed.similarity, property=property_of(fixed.ucum) or "", kind=kind)
                notes.append("unit-repaired")
            elif from_ocr and unit is not None and unit.score < 1.0 and unit.ucum not in accepted:
                unit = None  # valid only by UCUM grammar and no unit of the test ("ps", picoseconds, for "pg"): garbage
    lost = unit_text is None or (unit is None and unit_cell is not None and unit_cell.source == "ocr")  # none read, or garbage
    infer = lost and first is not None and raw.value.source == "ocr" and read is not None and read.comparator is None

    def inferred(ucum: str | None) -> UnitMatch | None:
        if ucum is None:
            return None
        notes.append("unit-inferred")
        return UnitMatch(ucum=ucum, score=INFERRED_UNIT_SCORE, property=property_of(ucum) or "", kind=kind)

    if infer:  # the unit lost (or read as nothing a unit can be): the analyte's spans may leave one unit
        candidates = component_units(first.component_key)  # type: ignore[union-attr]
        if names_absolute_count(label) or names_absolute_count(label_key):  # "Eosinophile abs.": a count's units only, never its %
            candidates = frozenset(u for u in candidates if property_of(u) == "NCnc") or candidates
        unit = inferred(  # type: ignore[union-attr]
            infer_unit(first.component_key, candidates, read.value, rng_read, printed=ctx.printed_units)  # type: ignore[union-attr]
        ) or unit
    qualitative_value = read is None and _qualitative(raw.value.text) is not None
    scale_hint = "Ord" if qualitative_value else ("Qn" if unit is not None else None)
    match = match_label(label_key, unit.ucum if unit else None, ctx.language, specimen_hint, scale_hint) if first else None
    if match is not None and by_evidence is not None:  # named by its row, not read: the code goes to review
        match = replace(match, score=round(by_evidence[1] * EVIDENCE_WEIGHT, 4), method="evidence")
    if infer and unit is None and match is not None and match.scale == "Qn":  # or the code chosen has one unit only
        units = frozenset(match.accepted_units)
        # (or equal ones: 10⁹/l, /nl); a test that may be unitless (density: 1 or g/ml) is not guessed
        if units and not units & _DIMENSIONLESS and all(units_equal(u, next(iter(units))) for u in units):
            unit = inferred(infer_unit(match.component_key, units, read.value, rng_read, unspanned=True))  # type: ignore[union-attr]
    if match is not None and qualitative_value and match.scale != "Ord":
        # a qualitative result of a blood analyte name is, in practice, a urine strip field
        strip = match_label(label_key, None, ctx.language, "urine", "Ord")
        if strip is not None and strip.scale == "Ord":
            match = strip
        else:
            match = _strip_field(match) or match

    # 2. value: number (with comparator) or qualitative
    value = comparator = value_text = value_code = None
    decimals = None
    value_parse = 1.0
    num = read
    if num is not None:
        value, decimals, comparator = num.value, num.decimals, num.comparator
    else:
        q = _qualitative(raw.value.text)
        if q is not None:
            value_text, value_code = q
        else:
            value_text = raw.value.text
            value_parse = 0.4
            notes.append("value-unparsed")

    # 3. range
    rng: Range | None = rng_read
    if raw.range and range_text is not None and rng is None and raw.range.source == "ocr":
        rng = repair_range(range_text, ctx.decimal_comma, ctx.sex)
        if rng is None:
            printed_flag = parse_flag(raw.flag.text) if raw.flag else None
            rng = misread_bound(range_text, value, printed_flag or ((True, None) if raw.value.bold else None), ctx.decimal_comma)
        if rng is not None:
            notes.append("range-repaired")
    ref_text = range_text
    if range_text is not None and rng is None:
        qr = _qualitative(range_text)
        if qr is None:
            notes.append("range-unparsed")

    # 3a. OCR repairs of the value (mappers.ocr_repair): a glued low flag, lost decimal
    # separators judged by the analyte's span or the printed range, letter/digit confusions
    if raw.value.source == "ocr":
        analyte_unit = (match.component_key, unit.ucum) if match is not None and unit is not None else None
        if analyte_unit is None and match is not None and match.scale == "Qn" and set(match.accepted_units) <= _DIMENSIONLESS:
            # a unitless test (INR, pH, specific gravity) prints no unit: its span still judges the value
            analyte_unit = next(((match.component_key, u) for u in match.accepted_units if plausible_span(match.component_key, u)), None)
        fix = repair_value(raw, value, decimals, comparator, rng, range_text, analyte_unit, value_parse, ctx.decimal_comma)
        value, decimals, rng, value_parse = fix.value, fix.decimals, fix.rng, fix.value_parse
        notes.extend(fix.notes)
        if "value-repaired" in fix.notes and value_text is not None and value is not None:
            value_text = None  # "4,O1" read as text is the number 4.01

    # 4. interpretation
    if "flag-was-digit" in notes:  # the glued "l" was the value's last digit, not a low flag
        raw = raw.model_copy(update={"flag": None})
    interp, flag_conf = _interpretation(raw, value, rng, value_text, ctx, comparator)

    # ---- confidences
    code_conf = 0.15
    if match is not None:
        code_conf = match.score
        unitless_code = not match.accepted_units or bool(set(match.accepted_units) & _DIMENSIONLESS)
        if unit is None and unitless_code and getattr(match, "method", "") == "exact":
            # an exact label of a unitless test (pH, INR, density, strip fields) printed
            # without a unit is exactly what is expected: no "missing unit" doubt
            code_conf = max(code_conf, 0.98)
        if unit is not None and match.accepted_units and unit.ucum not in match.accepted_units:
            code_conf *= 0.6
            notes.append("unit-does-not-fit-code")
        elif unit is None and not unitless_code:
            if value is not None:
                code_conf *= 0.85
    else:
        notes.append("unmapped-label")

    if raw.label.source == "ocr":
        code_conf *= _reading(raw.label)  # a misread label ("ca" for "Cl") maps to the wrong test
    value_conf = _reading(raw.value) * value_parse * _plausibility(value, rng, _reading(raw.value), raw.value.source == "ocr")
    if unit_text is None:
        unitless_ok = match is not None and (not match.accepted_units or bool(set(match.accepted_units) & _DIMENSIONLESS))
        unit_conf = 1.0 if (unitless_ok or value is None) else 0.55
    elif unit is None:
        unit_conf = 0.3
        notes.append("unit-unknown")
    else:
        unit_conf = (_reading(unit_cell) if unit_cell else 0.9) * unit.score
        if "unit-from-range" in notes:
            unit_conf *= 0.9  # read out of another column: plausible, not certain
        if "unit-from-flag" in notes:
            unit_conf *= 0.8
    range_conf = (_reading(raw.range) * (1.0 if (rng is not None or value_text is not None) else 0.6)) if raw.range else 0.95
    if "range-repaired" in notes:
        range_conf = min(range_conf, 0.7)  # a guessed bracket or digit: the range is checked by a person
    if raw.value.source == "ocr":
        if rng is None and value is not None:
            range_conf = min(range_conf, 0.8)  # nothing to check an OCR'd number against
        if unit_text is None and match is not None and set(match.accepted_units) - _DIMENSIONLESS:
            unit_conf = min(unit_conf, 0.8)  # the unit may have been lost by OCR
        if "unit-inferred" in notes:
            unit_conf = min(unit_conf, INFERRED_UNIT_SCORE)  # no glyph of it was read
    fields = {
        "code": round(code_conf, 4),
        "value": round(value_conf, 4),
        "unit": round(unit_conf, 4),
        "range": round(range_conf, 4),
        "flag": round(flag_conf, 4),
        "label": round(raw.label.confidence, 4),
    }
    overall = code_conf * value_conf * unit_conf * math.sqrt(range_conf) * math.sqrt(flag_conf)
    overall = max(0.0, min(1.0, overall))
    status = "auto-accepted" if overall >= AUTO_ACCEPT else "needs-review"

    specimen = None
    if match is not None and match.system:
        specimen = _SPECIMEN.get(match.system)
    return MappedResult(
        raw=raw,
        loinc=match.loinc if match else None,
        display=match.display if match else None,
        value=value,
        value_decimals=decimals,
        comparator=comparator,
        value_text=value_text,
        value_code=value_code,
        unit_ucum=unit.ucum if unit else None,
        ref_low=rng.low if rng else None,
        ref_high=rng.high if rng else None,
        ref_text=ref_text,
        interpretation=interp,
        specimen=specimen,
        confidence_fields=fields,
        confidence=round(overall, 4),
        review_status=status,  # type: ignore[arg-type]
        notes=tuple(notes),
    )


_DOTTED = re.compile(r"\b((?:[A-Za-zÀ-ÿ]\.){2,}[A-Za-zÀ-ÿ]?\.?)")
_PAREN = re.compile(r"\(([^()]{2,40})\)")


def _likeliest_unit(readings, component_key: str, value: float | None, rng: Range | None):  # type: ignore[no-untyped-def]
    """Of the units an OCR'd unit may be, best first, the first whose physiological span
    holds the value or the printed range ("ga" beside an MCHC of 31,3 is g/dl, not g/l;
    "mg/di" beside a calcium read as 95 for 9,5 with a range of 8,6-10,2 is mg/dl); else
    the best. A unit without a span in the table is not ruled out by it ("mg/di" beside a
    CRP of 0,03 is mg/dl: only mg/l has a span, and it holds 0,03 too)."""
    from mappers.ocr_repair import plausible_span, range_bounds

    if len(readings) < 2:
        return readings[0] if readings else None
    bounds = range_bounds(rng)
    if value is not None or bounds:
        for r in readings:
            span = plausible_span(component_key, r.ucum)
            if (
                span is None
                or (value is not None and span[0] <= value <= span[1])
                or (bounds and all(span[0] <= b <= span[1] for b in bounds))
            ):
                return r
    return readings[0]


# after the range's last digit or its closing bracket ("(2.0-10.0)%", "[4,5-5,9] g/l"), before a unit
_RANGE_UNIT_GAP = re.compile(r"(?<=[\d\])])\s*(?=[^\d\s.,\-–—/\])])")


def split_range_unit(text: str, decimal_comma: bool | None, sex: str | None = None) -> tuple[str, str] | None:
    """``("40,0 - 75,0", "%")`` from a range cell that also carries the unit, when the
    part before is a range and the part after is a known unit (or nothing splits)."""
    from mappers.units import to_ucum

    for gap in _RANGE_UNIT_GAP.finditer(text):
        head, tail = text[: gap.start()].strip(), text[gap.end() :].strip()
        if not tail or parse_range(head, decimal_comma, sex) is None:
            continue
        if to_ucum(tail) is not None or re.fullmatch(r"[A-Za-zµμ%‰][^\s/]*/\S{1,16}", tail):
            return head, tail
    return None


# one stray glyph, or a short lowercase fragment before a capitalised word ("de Ritis" keeps "de")
_STRAY_PREFIX = re.compile(r"^(?:\S|[a-z]{1,2}[:.,;']?(?=\s+[A-ZÀ-Ý]))\s+(?=\S{2,})")


def label_variants(label: str, language: str | None = None) -> list[str]:
    """Ways a printed label may name its test: as printed; abbreviations without dots
    ("V.G.M." -> "VGM"); each side of a bilingual "Hémoglobine / Hämoglobin"; the
    bracketed alternative ("Ery-Verteilungsbreite (RDW)") and the label without it."""
    out = [label]
    undotted = _DOTTED.sub(lambda m: m.group(1).replace(".", ""), label)
    out.append(undotted)
    for base in (label, undotted):
        for part in re.split(r"\s+/\s*|\s*/\s+|\s*\|\s*", base):  # OCR may lose one of the spaces
            out.append(part)
            out.extend(m.group(1) for m in _PAREN.finditer(part))
            out.append(_PAREN.sub(" ", part))
    expanded = _expand_abbreviations(_DOTTED.sub(lambda m: m.group(1) if m.group(1).count(".") < 2 else m.group(1).replace(".", ""), label), language)
    if expanded != label:
        out.append(expanded)
    lone = _STRAY_PREFIX.match(label)
    if lone:  # a speck or a stray digit read before the label ("1 RDW", "j Lymphozyten", "ta MCHC", "e: Basophile")
        out.append(label[lone.end():])
    squeezed = re.sub(r"[.\-\s]", "", label)
    if squeezed != label and 2 <= len(squeezed) <= 8 and squeezed.isupper():
        out.append(squeezed)  # an abbreviation whose dots OCR misplaced: "C.CMH.", "C.C-MH." -> "CCMH"
    if "-" in label:  # "HDL-Chol." -> "HDL cholestérol"
        dehyphen = _expand_abbreviations(label.replace("-", " "), language)
        if dehyphen not in out:
            out.append(dehyphen)
    seen: list[str] = []
    for v in out:
        v = re.sub(r"\s+", " ", v).strip(" -:")
        if len(v) >= 1 and v not in seen:
            seen.append(v)
    return seen


@cache
def _abbreviations() -> dict[tuple[str, str], str]:
    """(abbreviation without trailing dot, language) -> expansion ('' drops the word)."""
    path = Path(__file__).with_name("data") / "abbreviations.csv"
    with path.open(encoding="utf-8") as fh:
        return {(row["abbreviation"].lower().rstrip("."), row["language"]): row["expansion"] for row in csv.DictReader(fh)}


def _expand_abbreviations(label: str, language: str | None = None) -> str:
    table = _abbreviations()
    langs = [language] if language in ("fr", "de", "en") else ["fr", "de", "en"]
    if language == "mixed":
        langs = ["fr", "de"]
    out: list[str] = []
    for tok in label.split():
        key = tok.lower().rstrip(".")
        exp = next((table[(key, lg)] for lg in langs if (key, lg) in table), None)
        if exp is None:
            exp = next((v for (k, _), v in table.items() if k == key), tok)
        if exp:
            out.append(exp)
    return " ".join(out)


@cache
def _strip_codes() -> dict[str, tuple[str, str]]:
    """component -> (LOINC, display) of its urine test-strip presence code."""
    from mappers.terminology import load_terminology

    codes = load_terminology().codes
    ord_urine = {
        key: (row.loinc, row.display)
        for key, rows in codes.items()
        for row in rows
        if row.system == "Urine" and row.scale == "Ord"
    }
    with (Path(__file__).with_name("data") / "urine_strip.csv").open(encoding="utf-8") as fh:
        return {r["component_key"]: ord_urine[r["strip_component_key"]] for r in csv.DictReader(fh)
                if r["strip_component_key"] in ord_urine}


def _strip_field(match):  # type: ignore[no-untyped-def]
    code = _strip_codes().get(match.component_key)
    if code is None:
        return None
    return replace(match, loinc=code[0], display=code[1], scale="Ord", system="Urine", property="PrThr", accepted_units=())


def _best_label(label: str, language: str | None, specimen_hint: str | None):  # type: ignore[no-untyped-def]
    from mappers.terminology import match_label

    best_key, best = label, None
    for i, v in enumerate(label_variants(label, language)):
        m = match_label(v, None, language, specimen_hint)
        if m is None:
            continue
        score = m.score * (1.0 if i == 0 else 0.98)  # the label as printed wins ties
        if best is None or score > best.score:
            best_key, best = v, replace(m, score=score)
        if best.score >= 0.999:
            break
    if best is None and label.count("/") == 1:
        # a bilingual label whose slash lost both spaces ("CPK/CK", "Cl-/Cl"): both halves
        # must name the same test ("Albumine/Globulines" is a ratio, not albumin)
        halves = [h.strip(" -") for h in label.split("/")]
        found = [(h, m) for h in halves if h and (m := match_label(h, None, language, specimen_hint)) is not None]
        if len(found) == 2 and found[0][1].component_key == found[1][1].component_key:
            best_key, best = max(found, key=lambda hm: hm[1].score)
    return best_key, best


def _reading(p: Printed) -> float:
    """Reading confidence of a printed field. Tesseract's word confidences run low for
    words it reads right (measured: scanned results at 0.7-0.9 overall were 99-100 %
    right), so OCR confidence c is mapped to 1 - (1 - c)^2; text-layer quality is used
    as is."""
    c = p.confidence
    return 1.0 - (1.0 - c) ** 2 if p.source == "ocr" else c


def _plausibility(value: float | None, rng: Range | None, reading: float, ocr: bool = False) -> float:
    """A value far outside its reference range is often a misread decimal separator."""
    if value is None or rng is None:
        return 1.0
    if ocr and not within(value, rng, 5.0):
        return 0.5  # OCR: a tenfold miss is far more often a lost comma than a real result
    hi = rng.high if rng.high is not None else None
    lo = rng.low if rng.low is not None else None
    if hi is not None and hi > 0 and value > 50 * hi:
        return 0.6 if reading < 1.0 else 0.85
    if lo is not None and lo > 0 and 0 < value < lo / 50:
        return 0.6 if reading < 1.0 else 0.85
    return 1.0


_SAME = {"non-reactive": "negative", "not detected": "negative", "reactive": "positive", "detected": "positive"}


def _same_meaning(canonical: str) -> str:
    return _SAME.get(canonical, canonical)


def compare_to_range(value: float, comparator: str | None, rng: Range) -> str:
    """H / L / N of a value (possibly censored: "<0,5", ">90") against a reference range.
    A censored value is only outside when every value it stands for is outside."""
    lo_v, hi_v = value, value  # the interval of true values the printed result allows
    if comparator in ("<", "<="):
        lo_v = float("-inf")
    elif comparator in (">", ">="):
        hi_v = float("inf")
    if rng.high is not None and (lo_v > rng.high or (lo_v == rng.high and not rng.high_inclusive and comparator is None)):
        return "H"
    if rng.low is not None and (hi_v < rng.low or (hi_v == rng.low and not rng.low_inclusive and comparator is None)):
        return "L"
    return "N"


def _interpretation(
    raw: RawResult, value: float | None, rng: Range | None, value_text: str | None, ctx: MappingContext,
    comparator: str | None = None,
) -> tuple[str | None, float]:
    """(v3-ObservationInterpretation code, confidence of the flag field)."""
    printed = parse_flag(raw.flag.text) if raw.flag else None
    direction = None
    abnormal_mark = raw.value.bold or (printed is not None and printed[0])
    if printed is not None:
        direction = printed[1]
    computed = None
    if value is not None and rng is not None:
        computed = compare_to_range(value, comparator, rng)
    if value is None and value_text is not None and raw.range is not None:
        ref = _qualitative(raw.range.text)
        mine = _qualitative(value_text)
        if ref and mine:
            computed = "N" if _same_meaning(ref[0]) == _same_meaning(mine[0]) else "A"
    reading = _reading(raw.flag) if raw.flag else 1.0
    if direction in ("H", "L", "HH", "LL"):
        agree = computed is None or computed == direction[0] or computed == "A"
        return direction, reading * (1.0 if agree else 0.6)
    if abnormal_mark:
        if computed in ("H", "L", "A"):
            return computed, reading
        return "A", reading * 0.7
    if computed is None:
        return None, 1.0
    # no printed flag: the computed interpretation; a value outside the range with no flag
    # may mean a flag was missed
    return computed, 1.0 if computed == "N" or raw.flag is None and raw.value.source == "text" else 0.8


def map_results(rows: Sequence[RawResult], meta: ReportMeta, decimal_comma: bool | None) -> list[MappedResult]:
    """Map every row. OCR rows left without a unit are mapped once more knowing the units
    the report printed on its other rows, read or repaired but not inferred
    (:func:`mappers.ocr_repair.infer_unit`: a laboratory's convention decides between units
    that both fit)."""
    from mappers.repair import component_units
    from mappers.terminology import loinc_info

    ctx = MappingContext(decimal_comma=decimal_comma, sex=meta.patient.sex, language=meta.language)
    mapped = [map_result(r, ctx) for r in rows]
    printed = tuple(sorted({
        (m.unit_ucum, component_units(info.component_key))
        for m in mapped
        if m.unit_ucum and m.loinc and "unit-inferred" not in m.notes and (info := loinc_info(m.loinc))
    }, key=lambda p: (p[0], sorted(p[1]))))
    if not printed:
        return mapped
    again = replace(ctx, printed_units=printed)
    # from the rows as read: a mapped result's row may already be changed (a glued "l" taken back as a digit drops the flag)
    return [map_result(r, again) if m.unit_ucum is None and r.value.source == "ocr" else m for r, m in zip(rows, mapped)]
