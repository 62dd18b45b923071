"""Printed unit spellings -> UCUM codes, driven by ``mappers/data/units.csv``.

The table maps every printed spelling seen on lab reports to a UCUM code, the LOINC
property class the unit implies (MCnc, SCnc, NCnc, CCnc, ACnc, Fr, EntVol, Time, ...)
and, where the same spelling means different things, the analyte kind it applies to
("UI/L" is ``U/L`` for an enzyme but ``[IU]/L`` for a hormone).

Lookup order (score): exact printed alias (1.0) -> normalised key that keeps case
(0.95: µ/μ/u, spaces, superscripts, decimal comma, 10^9 notations) -> case-folded key
(0.85, only where case folding is unambiguous, e.g. never ``G/L`` vs ``g/L``, and never
across a SI prefix whose case changes its meaning: ``mU`` vs ``MU``) -> the printed
string is itself a valid UCUM code (0.8). An ambiguous spelling without a kind hint
loses 0.1. Every UCUM code in the table is validated with ``ucumvert`` at load time.
"""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
UNITS_CSV = DATA_DIR / "units.csv"

SCORE_EXACT = 1.0
SCORE_NORMALISED = 0.95
SCORE_CASEFOLD = 0.85
SCORE_UCUM_AS_IS = 0.8
AMBIGUITY_PENALTY = 0.1

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_POWER_RE = re.compile(r"(?:x|\*)?10(?:\^|e|\*\*|\*|exp)(\d+)", re.IGNORECASE)
_SUPER_POWER_RE = re.compile(r"10([⁰¹²³⁴⁵⁶⁷⁸⁹]+)")
_WRAP_RE = re.compile(r"^[\(\[]\s*(.*?)\s*[\)\]]$")
# SI prefixes whose case changes the meaning (milli/mega, pico/peta, ...)
_CASE_SENSITIVE_PREFIXES = {("m", "M"), ("p", "P"), ("g", "G"), ("t", "T"), ("n", "N")}


class UnitTableError(ValueError):
    """The unit table holds a row that cannot be used (invalid UCUM, bad columns)."""


@dataclass(frozen=True, slots=True)
class UnitMatch:
    ucum: str
    score: float
    property: str  # LOINC property class implied by the unit ("Fr" = any fraction)
    kind: str | None = None  # analyte kind the row applies to (enzyme, hormone, ...)


@dataclass(frozen=True, slots=True)
class UnitRow:
    printed: str
    ucum: str
    property: str
    kinds: frozenset[str]  # empty = applies to any analyte


@dataclass(frozen=True, slots=True)
class UnitTable:
    rows: tuple[UnitRow, ...]
    exact: dict[str, tuple[UnitRow, ...]]
    normalised: dict[str, tuple[UnitRow, ...]]
    casefolded: dict[str, tuple[UnitRow, ...]]
    property_of_ucum: dict[str, str]


def normalise_unit(text: str) -> str:
    """Case-preserving normal form of a printed unit (see module docstring)."""
    s = text.strip()
    m = _WRAP_RE.match(s)
    if m:
        s = m.group(1)
    s = _SUPER_POWER_RE.sub(lambda mm: "10^" + mm.group(1).translate(_SUPERSCRIPTS), s)
    s = s.translate(_SUPERSCRIPTS)
    s = unicodedata.normalize("NFKC", s)
    s = s.replace("μ", "u").replace("µ", "u").replace("Μ", "u").replace("×", "x")  # Μ: upper-cased µ
    s = re.sub(r"\s+", "", s)
    s = s.replace(",", ".")
    s = _POWER_RE.sub(lambda mm: "10*" + mm.group(1), s)
    return s


def _segment_prefix_conflict(printed: str, alias: str) -> bool:
    """True when a '/'-segment starts with an SI prefix letter of the other case."""
    for a, b in zip(printed.split("/"), alias.split("/"), strict=False):
        if len(a) > 1 and len(b) > 1 and a[0] != b[0] and a[1:].lower() == b[1:].lower():
            pair = (b[0], a[0]) if b[0].islower() else (a[0], b[0])
            if pair in _CASE_SENSITIVE_PREFIXES and a[1].isalpha():
                return True
    return False


@cache
def _ucum_parser():  # type: ignore[no-untyped-def]
    from ucumvert import get_ucum_parser

    return get_ucum_parser()


@cache
def _ucum_registry():  # type: ignore[no-untyped-def]
    from ucumvert import PintUcumRegistry

    return PintUcumRegistry()  # about 1 s to build: made on first use only


@cache
def _ucum_unit(code: str):  # type: ignore[no-untyped-def]
    """The registry's unit for a UCUM code, parsed once per code (parsing is the cost:
    about 2 ms a code, against microseconds for the conversion)."""
    return _ucum_registry().from_ucum(code)


@cache
def units_equal(a: str | None, b: str | None) -> bool:
    """Same UCUM unit: the same code, or codes that denote the same unit (``/nL`` and
    ``10*9/L``, ``ug/L`` and ``ng/mL``): conversion factor exactly 1 under UCUM."""
    if a == b:
        return True
    if a is None or b is None:
        return False
    try:
        factor = (1 * _ucum_unit(a)).to(_ucum_unit(b)).magnitude
    except Exception:  # noqa: BLE001 - not convertible (or not parseable): different units
        return False
    return math.isclose(float(factor), 1.0, rel_tol=1e-9)


@cache
def is_valid_ucum(code: str) -> bool:
    """True when ``code`` parses as a UCUM expression (ucumvert grammar of ucum-essence)."""
    if code == "":
        return False
    try:
        _ucum_parser().parse(code)
    except Exception:  # noqa: BLE001 - any parse failure means invalid
        return False
    return True


def _read_rows(path: Path) -> tuple[UnitRow, ...]:
    rows: list[UnitRow] = []
    with path.open(encoding="utf-8", newline="") as f:
        for i, rec in enumerate(csv.DictReader(f), start=2):
            printed, ucum, prop = rec["printed"], rec["ucum"].strip(), rec["property"].strip()
            if not printed or not ucum or not prop:
                raise UnitTableError(f"{path.name}:{i}: empty printed/ucum/property")
            if not is_valid_ucum(ucum):
                raise UnitTableError(f"{path.name}:{i}: invalid UCUM code {ucum!r}")
            kinds = frozenset(k for k in (rec.get("kind") or "").split("|") if k)
            rows.append(UnitRow(printed, ucum, prop, kinds))
    return tuple(rows)


def _index(rows: tuple[UnitRow, ...], key_fn) -> dict[str, tuple[UnitRow, ...]]:  # type: ignore[no-untyped-def]
    out: dict[str, list[UnitRow]] = {}
    for r in rows:
        bucket = out.setdefault(key_fn(r.printed), [])
        if r not in bucket:
            bucket.append(r)
    return {k: tuple(v) for k, v in out.items()}


def _unambiguous_casefold(rows: tuple[UnitRow, ...]) -> dict[str, tuple[UnitRow, ...]]:
    """Case-folded index, leaving out keys whose case variants mean different units."""
    idx = _index(rows, lambda p: normalise_unit(p).lower())
    keep: dict[str, tuple[UnitRow, ...]] = {}
    for key, bucket in idx.items():
        by_kind: dict[frozenset[str], set[str]] = {}
        for r in bucket:
            by_kind.setdefault(r.kinds, set()).add(r.ucum)
        if all(len(v) == 1 for v in by_kind.values()):
            keep[key] = bucket
    return keep


@cache
def load_units(path: Path = UNITS_CSV) -> UnitTable:
    """Load and validate the unit table once per process."""
    rows = _read_rows(path)
    props: dict[str, str] = {}
    for r in rows:
        props.setdefault(r.ucum, r.property)
    return UnitTable(
        rows=rows,
        exact=_index(rows, lambda p: p.strip()),
        normalised=_index(rows, normalise_unit),
        casefolded=_unambiguous_casefold(rows),
        property_of_ucum=props,
    )


def _pick(bucket: tuple[UnitRow, ...], kind: str | None) -> tuple[UnitRow, bool]:
    """Row for the analyte kind; second value True when the choice was a guess."""
    if kind:
        for r in bucket:
            if kind in r.kinds:
                return r, False
    generic = [r for r in bucket if not r.kinds]
    if generic:
        return generic[0], False
    distinct = {r.ucum for r in bucket}
    return bucket[0], len(distinct) > 1


def _match(bucket: tuple[UnitRow, ...], kind: str | None, score: float) -> UnitMatch:
    row, guessed = _pick(bucket, kind)
    chosen_kind = kind if kind and kind in row.kinds else (next(iter(sorted(row.kinds)), None))
    final = round(score - (AMBIGUITY_PENALTY if guessed else 0.0), 4)
    return UnitMatch(ucum=row.ucum, score=final, property=row.property, kind=chosen_kind)


def to_ucum(printed: str, kind: str | None = None) -> UnitMatch | None:
    """Map a printed unit to UCUM; ``kind`` is an analyte hint (enzyme, hormone, ...)."""
    if not printed or not printed.strip():
        return None
    table = load_units()
    raw = printed.strip()
    if raw in table.exact:
        return _match(table.exact[raw], kind, SCORE_EXACT)
    key = normalise_unit(raw)
    if key in table.normalised:
        return _match(table.normalised[key], kind, SCORE_NORMALISED)
    folded = table.casefolded.get(key.lower())
    if folded:
        # An all-capitals unit ("MG/DL", "MU/L") carries no case information; a mixed-case
        # one whose SI prefix letter differs in case from the alias ("Mg/dl") is refused.
        if raw.upper() == raw or not any(
            _segment_prefix_conflict(key, normalise_unit(r.printed)) for r in folded
        ):
            return _match(folded, kind, SCORE_CASEFOLD)
        return None
    if is_valid_ucum(key):
        return UnitMatch(ucum=key, score=SCORE_UCUM_AS_IS, property=table.property_of_ucum.get(key, ""))
    return None


def is_printed_unit(text: str) -> bool:
    """True when ``text`` is a unit spelling of the table, as printed or in normal form
    (not by case folding or UCUM grammar alone: ``el``, ``UL`` or ``gd`` are not)."""
    raw = text.strip()
    if not raw:
        return False
    table = load_units()
    return raw in table.exact or normalise_unit(raw) in table.normalised


def property_of(ucum: str) -> str | None:
    """LOINC property class of a UCUM code known to the table (None when unknown)."""
    return load_units().property_of_ucum.get(ucum)


def validate_unit_table(path: Path = UNITS_CSV) -> list[str]:
    """Problems in the unit table (empty list = OK); never raises."""
    problems: list[str] = []
    try:
        rows = _read_rows(path)
    except UnitTableError as exc:
        return [str(exc)]
    for r in rows:
        if r.ucum in {"U/L", "U/mL", "kU/L"} and r.kinds and "enzyme" not in r.kinds:
            problems.append(f"{r.printed!r}: enzyme unit {r.ucum} given to {sorted(r.kinds)}")
    return problems
