"""Loads the per-language rule data in ``extractors/rules/lexicon.json`` once, compiled."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

RULES_PATH = Path(__file__).with_name("rules") / "lexicon.json"


@dataclass(frozen=True)
class Lexicon:
    header: dict[str, re.Pattern[str]]  # role -> pattern matching a whole header cell
    header_words: dict[str, str]  # plain header word or phrase (7+ letters) -> role, for fuzzy OCR matching
    meta_words: dict[str, str]  # plain one-word meta key (4+ letters) -> field, for fuzzy OCR matching
    meta_phrases: dict[str, str]  # plain two- or three-word meta key ("validé le") -> field, likewise
    meta: dict[str, re.Pattern[str]]  # field -> pattern finding a key inside a line
    meta_lang: dict[str, dict[str, re.Pattern[str]]]  # field -> lang -> pattern
    laboratory: re.Pattern[str]
    sex_male: re.Pattern[str]
    sex_female: re.Pattern[str]
    sex_words: dict[str, str]  # plain sex word (5+ letters), folded -> sex, for fuzzy OCR matching
    title_male: re.Pattern[str]
    title_female: re.Pattern[str]
    title_any: re.Pattern[str]
    birth_name: re.Pattern[str]
    months: dict[str, list[re.Pattern[str]]]
    sections: dict[str, re.Pattern[str]]  # lang -> pattern matching a whole line
    urine_section: re.Pattern[str]
    noise: re.Pattern[str]
    not_names: re.Pattern[str]
    given_names: frozenset[str]


def _alt(items: list[str]) -> str:
    return "|".join(f"(?:{i})" for i in sorted(items, key=len, reverse=True))


@cache
def lexicon() -> Lexicon:
    raw = json.loads(RULES_PATH.read_text(encoding="utf-8"))
    flags = re.IGNORECASE
    header = {
        role: re.compile(rf"^\s*(?:{_alt([p for ps in langs.values() for p in ps])})\s*[:.]?\s*$", flags)
        for role, langs in raw["header"].items()
    }
    # a key starts at a word boundary and is followed by ':' or whitespace or end, or by
    # a digit (OCR glued the value: "Date du compte rendu02/08/2025")
    meta = {
        field: re.compile(rf"(?<![\w])(?:{_alt([p for ps in langs.values() for p in ps])})(?=\s*[:.]|\s|\)|$|\d)", flags)
        for field, langs in raw["meta"].items()
    }
    meta_lang = {
        field: {lang: re.compile(rf"(?<![\w])(?:{_alt(ps)})(?=\s*[:.]|\s|\)|$|\d)", flags) for lang, ps in langs.items()}
        for field, langs in raw["meta"].items()
    }
    t = raw["titles"]
    return Lexicon(
        header=header,
        header_words=_plain_header_words(raw["header"]),
        meta_words=_plain_meta_keys(raw["meta"]),
        meta_phrases=_plain_meta_keys(raw["meta"], phrases=True),
        meta=meta,
        meta_lang=meta_lang,
        laboratory=re.compile(_alt(raw["laboratory"]), flags),
        sex_male=re.compile(rf"^(?:{_alt(raw['sex_values']['male'])})$", flags),
        sex_female=re.compile(rf"^(?:{_alt(raw['sex_values']['female'])})$", flags),
        sex_words={unaccented(w): sex for sex, words in raw["sex_values"].items() for w in words if w.isalpha() and len(w) >= 5},
        title_male=re.compile(rf"^(?:{_alt(t['male'])})$", flags),
        title_female=re.compile(rf"^(?:{_alt(t['female'])})$", flags),
        title_any=re.compile(rf"^(?:{_alt(t['male'] + t['female'] + t['none'])})$", flags),
        birth_name=re.compile(rf"^(?:{_alt(raw['birth_name'])})$", flags),
        months={lang: [re.compile(rf"^(?:{m})$", flags) for m in ms] for lang, ms in raw["months"].items()},
        sections={lang: re.compile(rf"^\s*(?:{_alt(ps)})(?:\s*[:(/-].*|\s*)$", flags) for lang, ps in raw["sections"].items()},
        urine_section=re.compile(_alt(raw["section_specimen"]["urine"]), flags),
        noise=re.compile(_alt(raw["noise_lines"]), flags),
        not_names=re.compile(rf"^(?:{_alt(raw['not_names'])})$", flags),
        given_names=_given_names(),
    )


HEADER_ROLES = ("range", "prior", "unit", "value", "label", "flag", "section")  # order of precedence


def _plain_key(pat: str) -> str:
    """A meta key pattern as written, its optional parts dropped: "matrikel(nummer|...)?"
    -> "matrikelnummer", "freigabe( am)?" -> "freigabe", "valid[ée] le" -> "validé le"."""
    plain = re.sub(r"\([^()a-zà-ÿß][^()]*\)\?", "", pat)  # optional words after it: "( am| vom)?"
    plain = re.sub(r"\(([a-zà-ÿß]+)(\|[^()]*)?\)\??", r"\1", plain)
    plain = plain.replace("\\.?", "")  # an optional full stop: "n[°o]\.? d'identification"
    return re.sub(r"\[[^\]a-zà-ÿß]*([a-zà-ÿß])[^\]]*\]", r"\1", plain)  # a character class read as its first letter


def _plain_meta_keys(raw_meta: dict[str, dict[str, list[str]]], phrases: bool = False) -> dict[str, str]:
    """The meta key patterns that are one plain word of 4+ letters ("sexe", "geburtsdatum")
    or, with ``phrases``, two or three plain words ("validé le", "ausgedruckt am") -> their
    field; a key two fields share is left out."""
    shape = r"[a-zà-ÿß]+(?: [a-zà-ÿß']+){1,2}" if phrases else r"[a-zà-ÿß]{4,}"
    out: dict[str, str] = {}
    shared: set[str] = set()
    for field, langs in raw_meta.items():
        for patterns in langs.values():
            for pat in patterns:
                plain = _plain_key(pat)
                if re.fullmatch(shape, plain) and (not phrases or len(plain) >= 6):
                    if out.get(plain, field) != field:
                        shared.add(plain)
                    out.setdefault(plain, field)
    return {k: v for k, v in out.items() if k not in shared}


def _plain_header_words(raw_header: dict[str, dict[str, list[str]]]) -> dict[str, str]:
    """The header patterns that reduce to plain words (optional parts dropped, a
    character class read as its first letter) -> their role."""
    out: dict[str, str] = {}
    for role in HEADER_ROLES:
        for patterns in raw_header.get(role, {}).values():
            for pat in patterns:
                plain = re.sub(r"\([^()]*\)\?|\\.\?|.\?", "", pat)
                plain = re.sub(r"\[(.)[^\]]*\]", r"\1", plain)
                if re.fullmatch(r"[a-zà-ÿß ]{7,}", plain):
                    out.setdefault(plain, role)
    return out


def fold_word(token: str) -> str:
    """Lower case, accents and edge punctuation dropped: how :func:`known_words` are keyed."""
    return given_name_key(token.strip("\"'“”„«»!?"))


@cache
def known_words() -> frozenset[str]:
    """Words a lab report prints (3+ letters, folded by :func:`fold_word`): the lexicon's
    keys, titles, headers and section names taken as written, the given names, and the
    words of the label synonyms. An OCR re-reading does not trade one of them for a word
    outside (``Prélevé`` for ``Prélové``, ``Francois`` for ``Frangois``)."""
    from mappers.terminology import label_words

    words: set[str] = set(label_words())

    def walk(node: object) -> None:
        if isinstance(node, str):
            words.update(fold_word(w) for w in re.findall(r"[^\W\d_]{3,}", _plain_key(node.lower())))
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(RULES_PATH.read_text(encoding="utf-8")))
    words.update(n for n in lexicon().given_names if len(n) >= 3)
    return frozenset(words)


@cache
def given_name_spellings() -> tuple[str, ...]:
    """The given names as the list spells them, accents included ("françois")."""
    path = RULES_PATH.with_name("given_names.txt")
    return tuple(n for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#") for n in line.split())


def _given_names() -> frozenset[str]:
    return frozenset(given_name_key(n) for n in given_name_spellings())


def unaccented(text: str) -> str:
    """Lower case without accents ("Prélevé" -> "preleve")."""
    folded = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in folded if not unicodedata.combining(c))


def given_name_key(token: str) -> str:
    """Lower case without accents or edge punctuation: OCR and old systems drop accents
    ('Helene' is 'Hélène')."""
    return unaccented(token.strip(",.;:()"))
