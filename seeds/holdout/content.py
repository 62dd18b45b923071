"""Report content for the hold-out set: patients, results, printed strings and truth.

Independent of the main generator (`seeds/generate.py`) and of the parser: its own
catalog (`catalog.csv`), label spellings (`labels.csv`) and words (`lexicon.json`).
Every renderer receives a finished `Report` and only decides where things go.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

HERE = Path(__file__).resolve().parent
Lang = Literal["fr", "de", "en"]
Sex = Literal["male", "female"]

SECTION_ORDER = ("hemato", "diff", "coag", "electrolytes", "renal", "metabolism", "liver",
                 "lipids", "inflammation", "thyroid", "urine")
QUAL_LEVELS = ("negative", "trace", "1+", "2+", "3+", "positive")


# --------------------------------------------------------------------------- data files


@dataclass(frozen=True)
class CatalogRow:
    key: str
    section: str
    kind: str  # num | qual
    loinc: str
    ucum: str | None
    printed: tuple[str, ...]
    langs: tuple[str, ...]
    low: float | None
    high: float | None
    low_f: float | None
    high_f: float | None
    dec: int


def _opt(x: str) -> float | None:
    return float(x) if x.strip() else None


@lru_cache(maxsize=1)
def catalog() -> tuple[CatalogRow, ...]:
    with (HERE / "catalog.csv").open(encoding="utf-8") as fh:
        return tuple(
            CatalogRow(
                key=r["key"], section=r["section"], kind=r["kind"], loinc=r["loinc"],
                ucum=r["ucum"] or None, printed=tuple(p for p in r["printed"].split("|") if p),
                langs=tuple(r["langs"].split("|")), low=_opt(r["low"]), high=_opt(r["high"]),
                low_f=_opt(r["low_f"]), high_f=_opt(r["high_f"]), dec=int(r["dec"] or 0),
            )
            for r in csv.DictReader(fh)
        )


@lru_cache(maxsize=1)
def labels() -> dict[tuple[str, str], tuple[str, ...]]:
    with (HERE / "labels.csv").open(encoding="utf-8") as fh:
        return {(r["key"], r["lang"]): tuple(r["variants"].split("|")) for r in csv.DictReader(fh)}


@lru_cache(maxsize=1)
def lexicon() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((HERE / "lexicon.json").read_text(encoding="utf-8"))
    return data


# --------------------------------------------------------------------------- identifiers

_VERHOEFF_D = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]
_VERHOEFF_P = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8]]
_VERHOEFF_INV = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9]


def luhn_digit(digits: str) -> int:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10


def verhoeff_digit(digits: str) -> int:
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _VERHOEFF_D[c][_VERHOEFF_P[(i + 1) % 8][int(ch)]]
    return _VERHOEFF_INV[c]


def lu_matricule(birth: date, serial: int) -> str:
    """13-digit Luxembourg national identifier: YYYYMMDD + serial + Luhn + Verhoeff."""
    base = f"{birth:%Y%m%d}{serial:03d}"
    return f"{base}{luhn_digit(base)}{verhoeff_digit(base)}"


def nhs_number(rng: random.Random) -> str:
    """10-digit NHS number with a valid modulus-11 check digit (test range 999...)."""
    while True:
        body = "999" + "".join(str(rng.randrange(10)) for _ in range(6))
        check = 11 - sum(int(d) * (10 - i) for i, d in enumerate(body)) % 11
        if check == 11:
            check = 0
        if check != 10:
            return body + str(check)


def loinc_check_ok(code: str) -> bool:
    """LOINC mod-10 check digit (Luhn over the part before the hyphen)."""
    body, _, digit = code.partition("-")
    return body.isdigit() and digit.isdigit() and len(digit) == 1 and luhn_digit(body) == int(digit)


# --------------------------------------------------------------------------- numbers


def fmt_number(value: float, dec: int, lang: str, thousands: bool = False) -> str:
    text = f"{value:,.{dec}f}" if thousands else f"{value:.{dec}f}"
    if lang in ("fr", "de"):
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", "." if lang == "de" else "\u202f")
    return text


@dataclass(frozen=True)
class RangeStyle:
    sep: str = " - "  # between low and high
    upper: str = "< "  # open upper bound prefix: "< ", "≤ ", "bis ", "<"
    lower: str = "> "  # open lower bound prefix
    brackets: tuple[str, str] = ("", "")


def fmt_range(low: float | None, high: float | None, dec: int, lang: str, style: RangeStyle,
              thousands: bool = False) -> str:
    def f(x: float) -> str:
        return fmt_number(x, dec, lang, thousands)

    if low is not None and high is not None:
        body = f"{f(low)}{style.sep}{f(high)}"
    elif high is not None:
        body = f"{style.upper}{f(high)}"
    elif low is not None:
        body = f"{style.lower}{f(low)}"
    else:
        return ""
    return f"{style.brackets[0]}{body}{style.brackets[1]}"


# --------------------------------------------------------------------------- report model


@dataclass(frozen=True)
class Patient:
    family: str
    given: str
    birth_date: date
    sex: Sex
    national_id: str


@dataclass(frozen=True)
class Lab:
    name: str
    address: str
    phone: str


@dataclass(frozen=True)
class Result:
    key: str
    section: str
    label: str
    loinc: str
    ucum: str | None
    unit_printed: str | None
    value: float | None
    comparator: str | None
    value_text: str | None  # canonical qualitative value
    shown: str  # printed value, comparator included ("< 0,6", "négatif", "250.000")
    ref_low: float | None
    ref_high: float | None
    range_text: str  # printed reference range ("" when none)
    interpretation: str | None
    history: tuple[str, ...] = ()  # earlier printed values, oldest first (cumulative layouts)

    @property
    def flag(self) -> str | None:
        """H / L / A when abnormal, None otherwise."""
        return self.interpretation if self.interpretation in ("H", "L", "A") else None


@dataclass(frozen=True)
class Comment:
    text: str


Row = Result | Comment


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    rows: tuple[Row, ...]

    @property
    def results(self) -> tuple[Result, ...]:
        return tuple(r for r in self.rows if isinstance(r, Result))


@dataclass(frozen=True)
class Report:
    stem: str
    layout: str
    lang: Lang
    patient: Patient
    collected: datetime
    reported: date
    lab: Lab
    prescriber: str
    request_id: str
    sections: tuple[Section, ...]
    history_dates: tuple[date, ...] = ()

    @property
    def results(self) -> tuple[Result, ...]:
        return tuple(r for s in self.sections for r in s.results)


@dataclass(frozen=True)
class Options:
    """What a layout asks of the content."""

    lang: Lang
    range_style: RangeStyle = field(default_factory=RangeStyle)
    thousands: bool = False  # print /µl counts with thousands separators
    history: int = 0  # number of earlier cumulative columns
    min_sections: int = 4
    max_sections: int = 7
    comment_rate: float = 0.08
    upper_labels: bool = False  # the lab prints labels in capitals
    sections: tuple[str, ...] = SECTION_ORDER


# --------------------------------------------------------------------------- generation


def make_patient(rng: random.Random, lang: Lang) -> Patient:
    names = lexicon()["names"][lang]
    sex: Sex = rng.choice(("male", "female"))
    given = rng.choice(names["given_female" if sex == "female" else "given_male"])
    birth = date(1935, 1, 1) + timedelta(days=rng.randrange(0, 365 * 70))
    national = nhs_number(rng) if lang == "en" else lu_matricule(birth, rng.randrange(1, 999))
    return Patient(rng.choice(names["family"]), given, birth, sex, national)


def interpret(value: float, low: float | None, high: float | None) -> str | None:
    if low is None and high is None:
        return None
    if low is not None and value < low:
        return "L"
    if high is not None and value > high:
        return "H"
    return "N"


def _draw_value(rng: random.Random, low: float | None, high: float | None) -> float:
    roll = rng.random()
    if low is not None and high is not None:
        width = high - low
        if roll < 0.15:
            return max(low * 0.7, low - width * rng.uniform(0.05, 0.6))
        if roll < 0.30:
            return high + width * rng.uniform(0.05, 0.8)
        return rng.uniform(low, high)
    if high is not None:
        return rng.uniform(high * 1.05, high * 2.2) if roll < 0.25 else rng.uniform(high * 0.15, high * 0.98)
    if low is not None:
        return rng.uniform(low * 0.4, low * 0.97) if roll < 0.25 else rng.uniform(low * 1.02, low * 1.7)
    return rng.uniform(1, 10)


def _off_open_bound(value: float, low: float | None, high: float | None, dec: int) -> float:
    """Keep a value off a one-sided bound ("> 1,2" with 1,2 is ambiguous): step one digit inwards."""
    step = 10.0 ** -dec
    if high is None and low is not None and value == low:
        return round(value + step, dec)
    if low is None and high is not None and value == high:
        return round(value - step, dec)
    return value


def _ranges_for(row: CatalogRow, sex: Sex) -> tuple[float | None, float | None]:
    if sex == "female" and (row.low_f is not None or row.high_f is not None):
        return row.low_f, row.high_f
    return row.low, row.high


def _qual_result(rng: random.Random, row: CatalogRow, label: str, lang: Lang) -> Result:
    words = lexicon()["qualitative"]
    if row.key == "u_nit":
        level = "positive" if rng.random() < 0.2 else "negative"
    else:
        level = "negative" if rng.random() < 0.65 else rng.choice(("trace", "1+", "2+", "3+"))
    return Result(
        key=row.key, section=row.section, label=label, loinc=row.loinc, ucum=None, unit_printed=None,
        value=None, comparator=None, value_text=level, shown=words[level][lang],
        ref_low=None, ref_high=None, range_text=words["negative"][lang],
        interpretation="N" if level == "negative" else "A",
    )


def _num_result(rng: random.Random, row: CatalogRow, label: str, opts: Options, sex: Sex) -> Result:
    lang = opts.lang
    low, high = _ranges_for(row, sex)
    thousands = opts.thousands and row.ucum == "/uL"
    comparator: str | None = None
    if row.key == "egfr" and rng.random() < 0.6:
        value, comparator = 90.0, ">"
    elif row.key == "crp" and rng.random() < 0.3:
        value, comparator = rng.choice((0.6, 1.0, 3.0)), "<"
    else:
        value = _off_open_bound(round(_draw_value(rng, low, high), row.dec), low, high, row.dec)
    shown = fmt_number(value, row.dec, lang, thousands)
    if comparator:
        shown = f"{comparator}{' ' if rng.random() < 0.5 else ''}{shown}"
    unit_printed = rng.choice(row.printed) if row.printed else None
    base = value if comparator is None else _draw_value(rng, low, high)
    history = tuple(
        fmt_number(round(base * rng.uniform(0.8, 1.2), row.dec), row.dec, lang, thousands)
        if rng.random() > 0.12 else "" for _ in range(opts.history)
    )
    return Result(
        key=row.key, section=row.section, label=label, loinc=row.loinc, ucum=row.ucum,
        unit_printed=unit_printed, value=value, comparator=comparator, value_text=None, shown=shown,
        ref_low=low, ref_high=high,
        range_text=fmt_range(low, high, row.dec, lang, opts.range_style, thousands),
        interpretation=interpret(value, low, high), history=history,
    )


def _choose_rows(rng: random.Random, lang: str, section: str) -> list[CatalogRow]:
    """One catalog row (unit) per test of the section, in catalog order."""
    chosen: dict[str, list[CatalogRow]] = {}
    for row in catalog():
        if row.section == section and lang in row.langs:
            chosen.setdefault(row.key, []).append(row)
    return [rng.choice(rows) for rows in chosen.values()]


def _pick_label(rng: random.Random, key: str, lang: str, used: set[str]) -> str:
    options = [v for v in labels()[(key, lang)] if v.casefold() not in used]
    label = rng.choice(options or list(labels()[(key, lang)]))
    used.add(label.casefold())
    return label


def make_sections(rng: random.Random, opts: Options, sex: Sex) -> tuple[Section, ...]:
    pool = list(opts.sections)
    count = min(len(pool), rng.randint(opts.min_sections, opts.max_sections))
    picked = sorted(rng.sample(pool, count), key=SECTION_ORDER.index)
    used: set[str] = set()
    comments = lexicon()["comments"][opts.lang]
    sections: list[Section] = []
    for key in picked:
        rows: list[Row] = []
        for crow in _choose_rows(rng, opts.lang, key):
            if key not in ("hemato", "urine") and rng.random() < 0.15:
                continue
            label = _pick_label(rng, crow.key, opts.lang, used)
            label = label.upper() if opts.upper_labels else label
            result = (_qual_result(rng, crow, label, opts.lang) if crow.kind == "qual"
                      else _num_result(rng, crow, label, opts, sex))
            rows.append(result)
            if rng.random() < opts.comment_rate:
                rows.append(Comment(rng.choice(comments)))
        if any(isinstance(r, Result) for r in rows):
            sections.append(Section(key, lexicon()["sections"][key][opts.lang], tuple(rows)))
    return tuple(sections)


def make_report(rng: random.Random, stem: str, layout: str, opts: Options) -> Report:
    patient = make_patient(rng, opts.lang)
    collected = datetime(2023, 1, 2, 7, 0) + timedelta(days=rng.randrange(0, 1100),
                                                        minutes=rng.randrange(0, 180, 5))
    reported = collected.date() + timedelta(days=rng.choice((0, 0, 1, 1, 2)))
    lab = Lab(**rng.choice(lexicon()["laboratories"][layout]))
    history_dates = tuple(sorted(collected.date() - timedelta(days=d)
                                 for d in rng.sample(range(20, 900), opts.history)))
    return Report(
        stem=stem, layout=layout, lang=opts.lang, patient=patient, collected=collected,
        reported=reported, lab=lab, prescriber=rng.choice(lexicon()["prescribers"][opts.lang]),
        request_id=f"{rng.randrange(10, 99)}{rng.randrange(100000, 999999)}",
        sections=make_sections(rng, opts, patient.sex), history_dates=history_dates,
    )


# --------------------------------------------------------------------------- truth


def observation_json(result: Result, page: int) -> dict[str, Any]:
    return {
        "label": result.label,
        "loinc": result.loinc,
        "value": result.value,
        "comparator": result.comparator,
        "value_text": result.value_text,
        "unit": result.ucum,
        "unit_printed": result.unit_printed,
        "ref_low": result.ref_low,
        "ref_high": result.ref_high,
        "interpretation": result.interpretation,
        "page": page,
    }


def truth_json(report: Report, pages: list[int]) -> dict[str, Any]:
    p = report.patient
    return {
        "schema": "pdf2fhir-truth/1",
        "document": report.stem,
        "layout": report.layout,
        "language": report.lang,
        "scanned": False,
        "patient": {"family": p.family, "given": p.given, "birth_date": p.birth_date.isoformat(),
                    "sex": p.sex, "national_id": p.national_id},
        "collection_date": report.collected.isoformat(timespec="seconds"),
        "report_date": report.reported.isoformat(),
        "laboratory": report.lab.name,
        "prescriber": report.prescriber,
        "observations": [observation_json(r, pg) for r, pg in zip(report.results, pages, strict=True)],
    }
