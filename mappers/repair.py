"""OCR repair of printed values and units — only where the context makes it safe, and
never silently: every repair is reported so the caller lowers the field's confidence.

Units: an OCR'd unit that is not a known spelling ("10"9/L", "mmol/1", "mg/di", "1079/L")
is compared with the printed spellings of the units the *analyte* accepts (from the LOINC
table), after undoing the classic confusions; the closest one above a similarity
threshold wins. A unit that reads as a valid but implausible unit for the analyte (OCR's
"pmol/l" for creatinine's "µmol/l") is repaired the same way.

Values: letters inside numbers (O→0, l/I/|→1, S→5, B→8), doubled or stray separators
("4,,2", "46,.") — accepted only when the repaired number is plausible for the reference
range printed on the same row.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rapidfuzz import fuzz

_DATA = Path(__file__).with_name("data")


@dataclass(frozen=True)
class Repaired:
    text: str  # the repaired printed string
    ucum: str | None = None
    similarity: float = 1.0  # in [0, 1]


def component_units(component_key: str) -> frozenset[str]:
    """Every UCUM unit any LOINC code of this component accepts (from the loaded terminology)."""
    return frozenset(preferred_units(component_key))


@cache
def preferred_units(component_key: str) -> tuple[str, ...]:
    """The component's units in the terminology's order (codes by rank, each code's units
    as listed, the first the usual one): which of several equal units to write."""
    from mappers.terminology import load_terminology

    return tuple(dict.fromkeys(u for row in load_terminology().codes.get(component_key, ()) for u in row.ucum_units if u))


@cache
def _aliases() -> dict[str, tuple[tuple[str, str, str], ...]]:
    """UCUM code -> (printed spelling, OCR-normalised spelling, plain lower-case spelling)."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    with (_DATA / "units.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            out.setdefault(r["ucum"], []).append((r["printed"], _ocr_fold(r["printed"]), _plain(r["printed"])))
    return {k: tuple(v) for k, v in out.items()}


def _plain(text: str) -> str:
    """Lower case, no spaces, micro sign as 'u': how a unit is compared before any fold."""
    return text.strip().lower().replace(" ", "").replace("µ", "u").replace("μ", "u")


_EXPONENT = re.compile(r"10\s?(?:[\"'°*^xX%7\-]|\s)\s?([0-9]{1,2})")


def _ocr_fold(text: str) -> str:
    """Collapse the characters OCR confuses in units to one canonical form."""
    t = _plain(text)
    t = _EXPONENT.sub(lambda m: "10^" + m.group(1), t)
    t = re.sub(r"^(3|6|9|12)(?=/)", r"10^\1", t)  # "10" read apart from its exponent and lost: "3/ul" for 10³/µl
    t = re.sub(r"^[py](?=mol|g/|mol/)", "u", t)  # µ read as p or y ("pmol/l", "yumol/l")
    t = t.replace("yu", "u").replace("£", "f").replace("]", "l").replace("[", "l")
    t = re.sub(r"^[w4v](?=/)", "u", t)  # "U/l" read as "W/1", "4/1", "V/l"
    t = re.sub(r"^i(?=/)", "l", t)  # "l/l" read as "I/l"
    t = re.sub(r"(?<=^f)[1i]$", "l", t)  # "fl" read as "f1", "£1"
    t = re.sub(r"(?<=/)[1i|!](?=$|/|t$)", "l", t)  # "mmol/1", "mg/di", "ug/1t" -> "/l"
    t = re.sub(r"(?<=/d)[1i|!]", "l", t)  # "g/d1" -> "g/dl"
    t = re.sub(r"(?<=/l)t$", "", t)
    if "/" not in t:
        t = re.sub(r"(?<=[a-z])a$", "/l", t)  # "/l" read as one "A": "mmolA", "IUA", "TA"
        t = re.sub(r"(?<=mol)[i1l]$", "/l", t)  # "/l" read as one "i": "pmoli"
        t = re.sub(r"^([a-z])n$", r"\1/l", t)  # "/l" read as one "n": "U/L" as "un", "g/l" as "on"
    t = re.sub(r"^[^%]?%[^%]?$", "%", t)  # a speck or rule end beside a percent sign ("&%", "|%", "3%")
    t = t.replace("|", "l").replace("dil", "dl").replace("di", "dl")
    t = re.sub(r"(?<=/)t$", "l", t)
    return t


@cache
def _confusions() -> dict[tuple[str, str], float]:
    """(read, printed) -> edit cost below 1 for characters OCR confuses in units
    (``data/ocr_confusions.csv``; an empty ``read`` is a lost character, an empty
    ``printed`` a spurious one). Lower case: units are compared case-folded."""
    out: dict[tuple[str, str], float] = {}
    with (_DATA / "ocr_confusions.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            cost = float(r["cost"])
            if not 0.0 < cost < 1.0 or (len(r["read"]) > 1 or len(r["printed"]) > 1):
                raise ValueError(f"ocr_confusions.csv: bad row {r}")
            out[(r["read"], r["printed"])] = cost
    return out


def ocr_distance(read: str, printed: str) -> float:
    """Edit distance from the printed spelling to what OCR read, where the usual OCR
    confusions cost less than 1 (a slash read as 'I' costs 0.2)."""
    conf = _confusions()
    prev = [0.0]
    for ch in printed:
        prev.append(prev[-1] + conf.get(("", ch), 1.0))
    for r in read:
        cur = [prev[0] + conf.get((r, ""), 1.0)]
        for j, ch in enumerate(printed, 1):
            sub = 0.0 if r == ch else conf.get((r, ch), 1.0)
            cur.append(min(prev[j - 1] + sub, prev[j] + conf.get((r, ""), 1.0), cur[j - 1] + conf.get(("", ch), 1.0)))
        prev = cur
    return prev[-1]


def ocr_similarity(read: str, printed: str) -> float:
    """1 - :func:`ocr_distance` / the longer length, in [0, 1]."""
    n = max(len(read), len(printed))
    return 1.0 - min(1.0, ocr_distance(read, printed) / n) if n else 1.0


TRUNCATED_SCORE = 0.8


def repair_unit(printed: str, accepted: frozenset[str], box_chars: float | None = None) -> Repaired | None:
    """The accepted unit the printed (OCR'd) text most likely is, or None.

    ``box_chars``: about how many characters the word's box can hold. OCR sometimes drops
    the end of a unit but keeps the box of the whole word ("U" in the box of "U/l"); a
    spelling that starts with the reading and fits the box then scores ``TRUNCATED_SCORE``.
    """
    found = unit_readings(printed, accepted, box_chars)
    return found[0] if found else None


FIRST_TOKEN_SCORE = 0.9  # a unit spelled exactly, then a few junk glyphs: read as that unit, for review


def unit_readings(printed: str, accepted: frozenset[str], box_chars: float | None = None) -> list[Repaired]:
    """Every accepted unit the OCR'd text may be (similarity at least 0.75), best first;
    one entry per UCUM code. Ties ("ga": "g/l" or "g/dl"?) are for the caller to break."""
    if not printed or not accepted:
        return []
    folded = _ocr_fold(printed)
    plain = _plain(printed)
    best: dict[str, tuple[float, str]] = {}
    for ucum in sorted(accepted):
        for spelling, key, target in _aliases().get(ucum, ()):
            score = max(fuzz.ratio(folded, key) / 100.0, ocr_similarity(folded, key), ocr_similarity(plain, target))
            if (
                box_chars is not None and key.startswith(folded) and len(key) > len(folded)
                and box_chars >= 1.5 * len(folded) and 0.7 * len(key) <= box_chars <= 1.5 * len(key)
            ):
                score = max(score, TRUNCATED_SCORE)
            if ucum not in best or score > best[ucum][0]:
                best[ucum] = (score, spelling)
    head, *rest = printed.split()
    if rest and len(" ".join(rest)) <= 4:  # "% EE]": a unit, then a short run of rule or speck glyphs
        for ucum in sorted(accepted):
            if any(head == spelling for spelling, _, _ in _aliases().get(ucum, ())):
                score = FIRST_TOKEN_SCORE
                if ucum not in best or score > best[ucum][0]:
                    best[ucum] = (score, head)
    ranked = sorted(((sc, sp, u) for u, (sc, sp) in best.items() if sc >= 0.75), key=lambda t: (-t[0], t[2]))
    return [Repaired(text=sp, ucum=u, similarity=sc) for sc, sp, u in ranked]


def repair_range_texts(text: str) -> list[str]:
    """Readings of an OCR'd range that failed to parse, most likely first: an opening
    bracket read as a letter or digit ("f4,00-5,20]", "127,0-33,0]"), an extra digit
    before it ("[111,5-14,5]"), a table rule read as "|" or "[" ("|4,0 à 10,0"), "≤"
    read as "s" ("s 150"), a 1 read as a letter ("<l4"), a garbled unit after the range
    ("0,00-0,50 Inl"), both brackets read as 1 ("12,8-7,21" for [2,8-7,2]), the dash
    between two numbers printed alike lost ("4,00 5,20"). The caller keeps the first that
    parses as a proper range."""
    t = text.strip()
    out: list[str] = []
    if t[:1] == "|" or (t[:1] == "[" and "]" not in t):  # a table rule read against the range
        out.append(t[1:].strip())
    if t.endswith("]") and "[" not in t and len(t) > 3 and t[0] in "fFtlI1|!({":
        out.append("[" + t[1:])
    m = re.match(r"^\[([1lI|])(\d)", t)
    if m and t.endswith("]"):
        out.append("[" + t[2:])
    m = _STRAY_LEAD.match(t)
    if m and m.group(1).rstrip(":.").upper() not in _SEX_KEYS:  # "T 4.0-10.0": a speck or a rule before it
        out.append(t[m.end() :])
    m = _LE_AS_S.match(t)
    if m:  # "≤" read as "s": "s 150", "s14", "s< 35"
        out.append("≤ " + t[m.end() :])
    digits = " ".join(_digit_letters(tok) for tok in t.split())
    if digits != " ".join(t.split()):  # "<l4", "<I4": a 1 read as a letter inside a bound
        out.append(digits)
    tokens = t.split()
    for k in (1, 2):  # the unit after the range, read as garbage: "0,36-0,47 11", "(7.5-11.5) £l", "0-35 UL"
        if len(tokens) > k and all(len(x) <= 4 or not any(c.isdigit() for c in x) for x in tokens[-k:]):
            out.append(" ".join(tokens[:-k]))
    if len(t) > 4 and t[:1] in "1lI|!" and t[-1:] in "1lI|!" and t[1:2].isdigit():  # both brackets read as 1: "12,8-7,21"
        out.append(t[1:-1])
    m = _TWO_NUMBERS.match(t)
    if m and _decimals(m["a"]) == _decimals(m["b"]) and not (_decimals(m["a"]) == 0 and len(m["b"]) == 3):
        out.append(f"{m['a']}-{m['b']}")  # the dash lost ("4,00 5,20"); "1 250" is a number, not a range
    return out


_TWO_NUMBERS = re.compile(r"^[\[(]?(?P<a>\d[\d.,]*\d|\d)\s+(?P<b>\d[\d.,]*\d|\d)[\])]?$")


def _decimals(number: str) -> int:
    _, sep, tail = number.replace(",", ".").rpartition(".")
    return len(tail) if sep else 0


_STRAY_LEAD = re.compile(r"^([^\d\s<>≤≥\[(]{1,2})\s+(?=[\d<>≤≥\[(])")
_LE_AS_S = re.compile(r"^[sS]\s*<?\s*(?=\d)")
_DIGIT_LETTERS = str.maketrans({"l": "1", "I": "1", "|": "1", "O": "0", "o": "0"})
_BOUND_TOKEN = re.compile(r"^[<>≤≥(\[]?[\d.,\-–]+[)\]]?$")


def _digit_letters(token: str) -> str:
    """``token`` with letters read for 1 and 0 made digits, when it holds a digit and is
    then a number or bound; otherwise as it was."""
    if not any(c.isdigit() for c in token):
        return token
    fixed = token.translate(_DIGIT_LETTERS)
    return fixed if _BOUND_TOKEN.match(fixed) else token
_SEX_KEYS = frozenset({"H", "F", "M", "W", "D"})  # "H 4,50-5,90 / F: 4,00-5,20" is a sex-specific range


_VALUE_FIX = str.maketrans({"O": "0", "o": "0", "D": "0", "l": "1", "I": "1", "|": "1", "!": "1", "S": "5", "B": "8", "Z": "2"})


def repair_number_text(text: str) -> str | None:
    """A cleaned-up number string, or None when nothing plausible can be made of it."""
    t = text.strip()
    if not t:
        return None
    core = t.lstrip("<>≤≥ ")
    prefix = t[: len(t) - len(core)]
    if sum(ch.isdigit() for ch in core) < max(1, len(core) // 2):
        return None  # mostly letters: not a misread number
    fixed = core.translate(_VALUE_FIX)
    fixed = re.sub(r"[.,]{2,}", ",", fixed)  # "4,,2" / "46,." -> "4,2" / "46,"
    fixed = fixed.rstrip(".,'’:;")
    fixed = re.sub(r"[^\d.,]", "", fixed)
    if not fixed or fixed == core:
        return None
    return prefix + fixed
