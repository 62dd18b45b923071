"""Printed numbers, ranges, flags and unit-looking tokens: pure string functions.

Number formats: ``4,52`` ``4.52`` ``1 250`` ``1'250`` ``250.000`` (German thousands) ``<0,5``
``>90`` ``≤ 3``. Range forms: ``3,5 - 5,1`` ``3.5–5.1`` ``3,5 à 5,1`` ``3,5 bis 5,1`` ``< 5``
``> 60`` ``[12,0-16,0]`` ``(13.0-17.0)`` and sex-specific ``H: 13-17 / F: 12-16``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

Comparator = Literal["<", "<=", ">", ">="]

_COMP_MAP: dict[str, Comparator] = {
    "<": "<", "<=": "<=", "≤": "<=", "=<": "<=", "⩽": "<=",
    ">": ">", ">=": ">=", "≥": ">=", "=>": ">=", "⩾": ">=",
    "inf.": "<", "inf": "<", "inférieur": "<", "inf. à": "<", "<à": "<",
    "sup.": ">", "sup": ">", "supérieur": ">", "sup. à": ">",
    "kleiner": "<", "größer": ">", "grosser": ">", "unter": "<", "über": ">", "bis": "<=",
    "below": "<", "above": ">", "up to": "<=", "less than": "<", "greater than": ">",
}

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2212\u2015"
_SPACES = "\u00a0\u2009\u202f\u2007"

_NUM_CORE = r"(?:\d{1,3}(?:[ '’.]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?|[.,]\d+)"
_NUM_RE = re.compile(rf"^(?P<sign>[-+]?)(?P<num>{_NUM_CORE})$")
_VALUE_RE = re.compile(
    rf"^(?P<comp><=|>=|=<|=>|<|>|≤|≥|⩽|⩾)?\s*(?P<sign>[-+]?)(?P<num>{_NUM_CORE})$"
)


@dataclass(frozen=True, slots=True)
class Number:
    value: float
    decimals: int  # digits after the decimal separator as printed
    comparator: Comparator | None = None


def normalise_text(s: str) -> str:
    for ch in _SPACES:
        s = s.replace(ch, " ")
    for ch in _DASHES:
        s = s.replace(ch, "-")
    return s.strip()


def parse_number(text: str, decimal_comma: bool | None = None) -> Number | None:
    """Parse a printed number, optionally with a comparator.

    ``decimal_comma``: True for fr/de documents, False for en, None when unknown. It only
    matters for ambiguous forms like ``1.250`` (German thousands) or ``1,250`` (English
    thousands); unambiguous forms parse the same either way.
    """
    s = normalise_text(text)
    m = _VALUE_RE.match(s)
    if not m:
        return None
    comp = _COMP_MAP[m.group("comp")] if m.group("comp") else None
    raw = m.group("num")
    sign = -1.0 if m.group("sign") == "-" else 1.0
    has_comma, has_dot = "," in raw, "." in raw
    raw = raw.replace("'", "").replace("’", "").replace(" ", "")
    if has_comma and has_dot:
        dec = "," if raw.rfind(",") > raw.rfind(".") else "."
        raw = raw.replace("." if dec == "," else ",", "")
        intpart, frac = raw.split(dec)
    elif has_comma or has_dot:
        sep = "," if has_comma else "."
        parts = raw.split(sep)
        thousands_like = len(parts) > 2 or (len(parts) == 2 and len(parts[1]) == 3 and parts[0] not in ("0", ""))
        if len(parts) > 2:
            intpart, frac = "".join(parts), ""
        elif thousands_like and (
            (sep == "." and decimal_comma is True) or (sep == "," and decimal_comma is False)
        ):
            intpart, frac = "".join(parts), ""
        else:
            intpart, frac = parts[0], parts[1]
    else:
        intpart, frac = raw, ""
    try:
        value = float(f"{intpart or '0'}.{frac}" if frac else intpart)
    except ValueError:
        return None
    return Number(value=sign * value, decimals=len(frac), comparator=comp)


@dataclass(frozen=True, slots=True)
class Range:
    low: float | None
    high: float | None
    text: str
    low_inclusive: bool = True
    high_inclusive: bool = True


def off_range(value: float, rng: Range) -> float:
    """How far ``value`` lies beyond ``rng``, in decades (0 inside; 1.0 = ten times off)."""
    if rng.high is not None and rng.high > 0 and value > rng.high:
        return math.log10(value / rng.high)
    if rng.low is not None and rng.low > 0 and value < rng.low:
        return math.log10(rng.low / value) if value > 0 else math.inf
    return 0.0


_RANGE_NUM = r"[-+]?\s*(?:\d[\d .,'’]*\d|\d)"
_RANGE_BETWEEN = re.compile(
    rf"^(?P<lo>{_RANGE_NUM})\s*(?:-|–|à|a|bis|to|\.\.\.?|/)\s*(?P<hi>{_RANGE_NUM})$", re.IGNORECASE
)
_RANGE_OPEN = re.compile(
    rf"^(?P<comp><=|>=|=<|=>|<|>|≤|≥|inf\.?\s*à|sup\.?\s*à|inf\.?|sup\.?|bis|unter|über|kleiner\s+als|größer\s+als|up\s+to|below|above|less\s+than|greater\s+than)\s*(?P<num>{_RANGE_NUM})$",
    re.IGNORECASE,
)
_SEX_SPLIT = re.compile(
    r"(?P<sex>hommes?|femmes?|männer|frauen|men|women|male|female|masc\.?|fém\.?|fem\.?|[HFMWmwhf])\s*[:=]?\s*",
    re.IGNORECASE,
)
_MALE = {"h", "homme", "hommes", "m", "männer", "men", "male", "masc", "masc."}
_FEMALE = {"f", "femme", "femmes", "w", "frauen", "women", "female", "fem", "fém", "fem.", "fém."}


def _num(s: str, decimal_comma: bool | None) -> float | None:
    n = parse_number(s.strip(), decimal_comma)
    return None if n is None or n.comparator else n.value


def parse_range(text: str, decimal_comma: bool | None = None, sex: str | None = None) -> Range | None:
    """Parse a printed reference range. Sex-specific ranges pick the patient's ``sex``
    (``male``/``female``); without it, they return the text with no bounds."""
    s = normalise_text(text)
    if not s:
        return None
    inner = s
    # strip enclosing brackets and a trailing unit-ish tail that some labs glue on
    m = re.fullmatch(r"[\[(]\s*(.*?)\s*[\])]", inner)
    if m:
        inner = m.group(1)
    # sex-specific: "H: 13-17 / F: 12-16", "m 13,5-17,5 w 12-16"
    parts = [p for p in _SEX_SPLIT.split(inner) if p is not None]
    if len(parts) >= 4 and _SEX_SPLIT.match(inner.strip()):
        by_sex: dict[str, str] = {}
        it = iter(parts[1:])
        for label, body in zip(it, it):
            key = label.lower().rstrip(":. ")
            body = body.strip().strip("/;,|").strip()
            if key in _MALE:
                by_sex["male"] = body
            elif key in _FEMALE:
                by_sex["female"] = body
        if len(by_sex) == 2:
            if sex in by_sex:
                sub = parse_range(by_sex[sex], decimal_comma)
                if sub is not None:
                    return Range(sub.low, sub.high, s, sub.low_inclusive, sub.high_inclusive)
            return Range(None, None, s)
    m = _RANGE_BETWEEN.match(inner)
    if m:
        lo, hi = _num(m.group("lo"), decimal_comma), _num(m.group("hi"), decimal_comma)
        if lo is not None and hi is not None and lo <= hi:
            return Range(lo, hi, s)
    m = _RANGE_OPEN.match(inner)
    if m:
        v = _num(m.group("num"), decimal_comma)
        if v is None:
            return None
        comp = m.group("comp").lower().replace(" ", "")
        if comp.startswith(("<", "≤", "=<", "inf", "bis", "unter", "kleiner", "upto", "below", "less")):
            return Range(None, v, s, high_inclusive=comp not in ("<",))
        return Range(v, None, s, low_inclusive=comp not in (">",))
    return None


# Flags: printed abnormality markers. Direction None means "abnormal, direction from range".
_FLAG_TABLE: dict[str, str | None] = {
    "h": "H", "l": "L", "hh": "HH", "ll": "LL", "(h)": "H", "(l)": "L",
    "+": "H", "-": "L", "++": "H", "--": "L", "+++": "H", "---": "L", "↑": "H", "↓": "L", "↑↑": "H", "↓↓": "L",
    "*": None, "**": None, "!": None, "!!": None, "a": "A", "n": "N",
    "élevé": "H", "eleve": "H", "bas": "L", "hoch": "H", "niedrig": "L", "high": "H", "low": "L",
    "erhöht": "H", "erniedrigt": "L", "haut": "H", "b": "L", "(b)": "L",
    "h*": "H", "l*": "L", "*h": "H", "*l": "L", "+h": "H", "-l": "L",
}


def parse_flag(text: str) -> tuple[bool, str | None] | None:
    """Return (is_abnormal, direction) for a printed flag, or None when it is not a flag."""
    s = normalise_text(text).lower().replace(" ", "")
    if s in _FLAG_TABLE:
        d = _FLAG_TABLE[s]
        return (d != "N", d)
    return None


def is_flag(text: str) -> bool:
    return parse_flag(text) is not None


_UNIT_CHARS = re.compile(r"^[A-Za-zµμ%°/*^.,\d²³\[\]{}'’\-]+$")
_UNIT_HINT = re.compile(
    r"(/|%|^(?:g|mg|µg|ug|ng|pg|mmol|µmol|umol|nmol|pmol|mol|u|ui|iu|mu|mui|kU|fl|fL|pg|s|sec|sek|min|mm|cm|ratio|index|mosm|meq|mval|g/l|t/l|tpt|gpt|giga|tera)\b)",
    re.IGNORECASE,
)


def looks_like_unit(text: str) -> bool:
    """Cheap shape test for a printed unit (the mapper decides the UCUM code)."""
    s = normalise_text(text).replace(" ", "")
    if not s or len(s) > 22 or not _UNIT_CHARS.match(s):
        return False
    if parse_number(s) is not None:
        return False
    return bool(_UNIT_HINT.search(s)) or s.lower() in {"fl", "pg", "s", "sec", "%", "ratio", "inr", "index", "sek"}


def infer_decimal_comma(tokens: list[str]) -> bool | None:
    """Vote over a document's numeric tokens: ``12,3`` votes comma, ``12.3`` votes point."""
    comma = point = 0
    for t in tokens:
        if re.fullmatch(r"[<>]?\d+,\d{1,2}|[<>]?\d+,\d{4,}", t):
            comma += 1
        elif re.fullmatch(r"[<>]?\d+\.\d{1,2}|[<>]?\d+\.\d{4,}", t):
            point += 1
    if comma == point:
        return None
    return comma > point
