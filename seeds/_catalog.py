"""Test catalog (LOINC/UCUM/ranges per printed unit) and the lexicon, loaded from data files.

The catalog is deliberately independent of the mapper's terminology tables: it is the
ground truth the mapper is measured against.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
CATALOG_CSV = HERE / "catalog.csv"
LABELS_CSV = HERE / "labels.csv"
LEXICON_JSON = HERE / "lexicon.json"

LANGUAGES = ("fr", "de", "en")


@dataclass(frozen=True)
class UnitRow:
    """One test reported in one unit: the unit fixes the LOINC code and the ranges."""

    test: str
    section: str
    kind: str  # num | qual_strip | qual_posneg | qual_normal
    loinc: str
    ucum: str | None  # None: unitless
    units: tuple[str, ...]  # printed spellings
    langs: tuple[str, ...]
    low: float | None
    high: float | None
    low_f: float | None
    high_f: float | None
    dec: int
    crit_low: float | None
    crit_high: float | None
    lod: float | None  # printed as "<lod" below it
    cap_high: float | None  # printed as ">cap" above it
    sex_only: str | None

    @property
    def numeric(self) -> bool:
        return self.kind == "num"

    def range_for(self, sex: str) -> tuple[float | None, float | None]:
        if sex == "female" and (self.low_f is not None or self.high_f is not None):
            return (self.low_f, self.high_f)
        return (self.low, self.high)

    @property
    def sex_specific(self) -> bool:
        return self.low_f is not None or self.high_f is not None


def _num(text: str) -> float | None:
    return float(text) if text.strip() else None


def _split(text: str) -> tuple[str, ...]:
    return tuple(t for t in text.split("|") if t)


def loinc_check_digit(base: str) -> int:
    """LOINC mod-10 check digit (Luhn) of the part before the hyphen."""
    total = 0
    for i, ch in enumerate(reversed(base)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
        total += d // 10 + d % 10
    return (10 - total % 10) % 10


def loinc_is_valid(code: str) -> bool:
    parts = code.split("-")
    if len(parts) != 2 or not parts[0].isdigit() or not parts[1].isdigit() or len(parts[1]) != 1:
        return False
    return loinc_check_digit(parts[0]) == int(parts[1])


@lru_cache(maxsize=1)
def load_catalog() -> tuple[UnitRow, ...]:
    rows: list[UnitRow] = []
    with CATALOG_CSV.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            rows.append(
                UnitRow(
                    test=r["test"],
                    section=r["section"],
                    kind=r["kind"],
                    loinc=r["loinc"],
                    ucum=r["ucum"] or None,
                    units=_split(r["units"]),
                    langs=_split(r["langs"]),
                    low=_num(r["low"]),
                    high=_num(r["high"]),
                    low_f=_num(r["low_f"]),
                    high_f=_num(r["high_f"]),
                    dec=int(r["dec"]) if r["dec"] else 0,
                    crit_low=_num(r["crit_low"]),
                    crit_high=_num(r["crit_high"]),
                    lod=_num(r["lod"]),
                    cap_high=_num(r["cap_high"]),
                    sex_only=r["sex_only"] or None,
                )
            )
    return tuple(rows)


@lru_cache(maxsize=1)
def load_labels() -> dict[str, dict[str, tuple[str, ...]]]:
    """test -> language -> printed label variants."""
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    with LABELS_CSV.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            out[r["test"]] = {lang: _split(r[lang]) for lang in LANGUAGES}
    return out


@lru_cache(maxsize=1)
def load_lexicon() -> dict[str, Any]:
    with LEXICON_JSON.open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def section_order() -> tuple[str, ...]:
    seen: list[str] = []
    for row in load_catalog():
        if row.section not in seen:
            seen.append(row.section)
    return tuple(seen)
