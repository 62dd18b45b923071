"""Synthetic patients, Luxembourg national identifiers and date formatting."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from seeds._catalog import load_lexicon

_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
_VERHOEFF_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)


def luhn_digit(digits: str) -> int:
    """Check digit that makes `digits + d` pass the Luhn test."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def luhn_valid(digits: str) -> bool:
    return luhn_digit(digits[:-1]) == int(digits[-1])


def verhoeff_digit(digits: str) -> int:
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _VERHOEFF_D[c][_VERHOEFF_P[(i + 1) % 8][int(ch)]]
    return _VERHOEFF_INV[c]


def verhoeff_valid(digits: str) -> bool:
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _VERHOEFF_D[c][_VERHOEFF_P[i % 8][int(ch)]]
    return c == 0


def lux_national_id(birth: date, serial: int) -> str:
    """13-digit Luxembourg matricule: YYYYMMDD + serial(3) + Luhn + Verhoeff (both over the first 11)."""
    base = f"{birth:%Y%m%d}{serial:03d}"
    return f"{base}{luhn_digit(base)}{verhoeff_digit(base)}"


def lux_national_id_valid(nid: str) -> bool:
    if len(nid) != 13 or not nid.isdigit():
        return False
    base = nid[:11]
    return luhn_valid(base + nid[11]) and verhoeff_valid(base + nid[12])


@dataclass(frozen=True)
class Patient:
    family: str
    given: str
    birth_date: date
    sex: str  # male | female
    national_id: str


def make_patient(rng: random.Random) -> Patient:
    lex = load_lexicon()
    sex = rng.choice(("male", "female"))
    given = rng.choice(lex["given_male"] if sex == "male" else lex["given_female"])
    family = rng.choice(lex["family_names"])
    birth = date(1932, 1, 1) + timedelta(days=rng.randrange(0, 365 * 74))
    return Patient(family, given, birth, sex, lux_national_id(birth, rng.randrange(0, 1000)))


def make_dates(rng: random.Random) -> tuple[datetime, date]:
    """Collection datetime and report date."""
    day = date(2024, 1, 2) + timedelta(days=rng.randrange(0, 800))
    collected = datetime(day.year, day.month, day.day, rng.randrange(6, 18), rng.choice((0, 5, 10, 15, 20, 30, 40, 45, 50)))
    report = day + timedelta(days=rng.choice((0, 0, 1, 1, 1, 2, 3)))
    return collected, report


_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_date(d: date, style: str) -> str:
    """Styles: dmy_slash 14/03/1962, dmy_dot 14.03.1962, iso 1962-03-14, dmy_short 14.03.62, dmon 14-Mar-1962."""
    if style == "dmy_slash":
        return f"{d.day:02d}/{d.month:02d}/{d.year}"
    if style == "dmy_dot":
        return f"{d.day:02d}.{d.month:02d}.{d.year}"
    if style == "iso":
        return d.isoformat()
    if style == "dmy_short":
        return f"{d.day:02d}.{d.month:02d}.{d.year % 100:02d}"
    if style == "dmon":
        return f"{d.day:02d}-{_MONTHS_EN[d.month - 1]}-{d.year}"
    raise ValueError(style)


def format_national_id(nid: str, style: str) -> str:
    if style == "spaced":
        return f"{nid[:4]} {nid[4:8]} {nid[8:11]} {nid[11:]}"
    return nid
