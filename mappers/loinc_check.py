"""Check digits of LOINC codes (mod 10) and SNOMED CT identifiers (Verhoeff)."""

from __future__ import annotations

import re

_LOINC_RE = re.compile(r"^(\d{1,7})-(\d)$")

# Verhoeff tables (dihedral group D5)
_D = (
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
_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)


def loinc_mod10(base: str) -> int:
    """LOINC check digit of the part before the hyphen (Luhn-style mod 10).

    From the rightmost digit, every other digit (rightmost first) is doubled and the
    digits of the products summed with the untouched digits; the check digit brings the
    total to the next multiple of ten.
    """
    total = 0
    for i, ch in enumerate(reversed(base)):
        n = int(ch)
        if i % 2 == 0:
            n *= 2
            n = n // 10 + n % 10
        total += n
    return (10 - total % 10) % 10


def loinc_check_digit(code: str) -> bool:
    """True when ``code`` looks like ``NNNNN-C`` and C is its mod-10 check digit."""
    m = _LOINC_RE.match(code.strip()) if isinstance(code, str) else None
    return bool(m) and loinc_mod10(m.group(1)) == int(m.group(2))


def verhoeff_valid(digits: str) -> bool:
    """True when the last digit of ``digits`` is its Verhoeff check digit."""
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _D[c][_P[i % 8][int(ch)]]
    return c == 0


def luhn_valid(digits: str) -> bool:
    """True when the last digit of ``digits`` is its Luhn (mod 10) check digit."""
    return loinc_mod10(digits[:-1]) == int(digits[-1])


def snomed_check_digit(sctid: str) -> bool:
    """True when a SNOMED CT identifier passes its Verhoeff check digit."""
    if not sctid.isdigit() or not 6 <= len(sctid) <= 18:
        return False
    return verhoeff_valid(sctid)
