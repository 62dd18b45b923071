"""Lab-test terminology as data: printed labels -> LOINC, qualitative results -> SNOMED CT.

Tables (``mappers/data/``, documented in ``SOURCES.md``):

* ``loinc_lab.csv``       one row per LOINC code: component key, property, system, scale,
                          the UCUM units the code accepts, and a rank (1 = the code used
                          when the unit does not decide).
* ``components.csv``      component key -> analyte kind (enzyme, hormone, cell, ...).
* ``label_synonyms.csv``  printed label variants (fr/de/en/any) -> component key, with an
                          optional specimen the label itself implies ("Glucosurie" -> Urine).
* ``label_qualifiers.csv`` specimen words, method suffixes and noise words stripped from labels.
* ``qualitative.csv``     qualitative result spellings -> canonical value + SNOMED CT code.
* ``property_names.csv``  LOINC property names in en/fr/de, used to cross-check displays.

A label is matched in two steps: (1) label -> component (exact synonym after
normalisation, then the label without parentheses / specimen / method words, then
token-based fuzzy matching with rapidfuzz); (2) component -> LOINC code chosen by the
specimen and by the printed unit (a code accepting the unit, else one whose property
fits the unit's property, else the component's most common code with a lower score).
"""

from __future__ import annotations

import csv
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process

from mappers.loinc_check import loinc_check_digit, snomed_check_digit
from mappers.units import is_valid_ucum, property_of, validate_unit_table

DATA_DIR = Path(__file__).parent / "data"
LANGUAGES = frozenset({"fr", "de", "en", "any"})
SCALES = frozenset({"Qn", "Ord"})

FUZZY_CUTOFF = 86.0  # rapidfuzz score (0-100) below which a fuzzy match is refused
FUZZY_MIN_CHARS = 5  # shorter labels (Na, K, Hb, ...) are only matched exactly
FUZZY_WEIGHT = 0.9  # a fuzzy match scores at most 0.9
SUBSET_WEIGHT = 0.92  # token-subset matches ("Leucocytes totaux" ~ "Leucocytes")
STEP_WEIGHTS = (1.0, 0.97, 0.95)  # exact on: full label, without (...), without qualifiers
UNIT_ACCEPTED = 1.0
UNIT_PROPERTY_FIT = 0.95
UNIT_ABSENT_AMBIGUOUS = 0.9
UNIT_MISFIT = 0.7
SPECIMEN_FALLBACK = 0.85
OTHER_LANGUAGE = 0.98  # score of a synonym of another language than the document's
OTHER_LANGUAGE_CHOICE = 0.85  # and its handicap when choosing between synonyms (below the no-unit ambiguity 0.9)

_GREEK = str.maketrans({"γ": "g", "Γ": "g", "α": "a", "β": "b", "δ": "d", "µ": "u", "μ": "u", "κ": "k", "λ": "l",
                        "ı": "i"})  # a dotless i: how OCR reads an i whose dot a fax lost ("Kalıum")
_FOOTNOTE_RE = re.compile(r"[\*†‡§#¹²³⁴⁵⁶⁷⁸⁹⁰°]+|\((?:\d{1,2}|[a-z])\)|\[\d{1,2}\]")
_PAREN_RE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_NON_WORD_RE = re.compile(r"[^0-9a-z]+")
_SPECIMEN_PREFIXES = {"s": "Ser/Plas", "p": "Ser/Plas", "u": "Urine", "b": "Bld"}
_SYSTEM_GROUPS = {
    "Urine": frozenset({"Urine"}),
    "Ser/Plas": frozenset({"Ser/Plas", "Ser", "Plas", "Ser/Plas/Bld", "PPP"}),
    "Bld": frozenset({"Bld", "RBC", "Retic", "Ser/Plas/Bld", "Ser/Plas", "Ser", "Plas", "PPP"}),
}


# --------------------------------------------------------------------------- models


@dataclass(frozen=True, slots=True)
class LoincRow:
    loinc: str
    display: str
    component_key: str
    property: str
    system: str
    scale: str
    ucum_units: tuple[str, ...]
    rank: int
    source: str


@dataclass(frozen=True, slots=True)
class Synonym:
    component_key: str
    language: str
    label: str
    system: str | None


@dataclass(frozen=True, slots=True)
class LabelMatch:
    loinc: str
    display: str
    component_key: str
    score: float  # [0, 1]
    property: str
    system: str
    scale: str
    accepted_units: tuple[str, ...]
    method: str = "exact"  # exact | reduced | fuzzy | evidence (named by its row's unit and numbers)
    matched_label: str = ""  # the table synonym that matched (normalised)


@dataclass(frozen=True, slots=True)
class Terminology:
    codes: dict[str, tuple[LoincRow, ...]]  # component -> rows by rank
    by_loinc: dict[str, LoincRow]
    kinds: dict[str, str]  # component -> kind
    synonyms: tuple[Synonym, ...]
    index: dict[str, tuple[Synonym, ...]]  # normalised label -> synonyms
    choices: tuple[str, ...]  # normalised labels for fuzzy matching
    choice_tokens: tuple[frozenset[str], ...]
    discriminators: frozenset[str]  # short tokens that tell components apart
    specimen_terms: tuple[tuple[str, str], ...]  # (normalised term, system), longest first
    strip_terms: tuple[str, ...]  # normalised method/noise terms, longest first
    suffixes: tuple[str, ...]  # compound-word suffixes stripped from tokens (de)
    qualitative: dict[str, tuple[str, str | None]]


# --------------------------------------------------------------------------- normalisation


def normalise_label(text: str) -> str:
    """Lower-case, accent-free, punctuation-free label; Greek letters and footnotes handled."""
    s = text.translate(_GREEK)
    s = _FOOTNOTE_RE.sub(" ", s)
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).casefold()
    return _NON_WORD_RE.sub(" ", s).strip()


def _normalise_qualitative(text: str) -> str:
    s = unicodedata.normalize("NFKD", text.strip())
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).casefold()
    return re.sub(r"\s+", " ", s).strip(" .:;")


def _remove_terms(text: str, terms: Iterable[str]) -> str:
    padded = f" {text} "
    for term in terms:
        padded = padded.replace(f" {term} ", " ")
    return " ".join(padded.split())


# --------------------------------------------------------------------------- loading


def _read_csv(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as f:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(f)]


def _loinc_rows() -> list[LoincRow]:
    return [
        LoincRow(
            loinc=r["loinc"],
            display=r["display_en"],
            component_key=r["component_key"],
            property=r["property"],
            system=r["system"],
            scale=r["scale"],
            ucum_units=tuple(u for u in r["ucum_units"].split("|") if u),
            rank=int(r["rank"] or 99),
            source=r["source"],
        )
        for r in _read_csv("loinc_lab.csv")
    ]


def _synonym_rows() -> list[Synonym]:
    return [
        Synonym(r["component_key"], r["language"], r["label"], r["system"] or None)
        for r in _read_csv("label_synonyms.csv")
    ]


@cache
def label_words() -> frozenset[str]:
    """Every word (3+ letters, lower case, accents dropped) of the label synonyms: the
    vocabulary OCR readings of table labels are checked against."""
    from extractors.rules import unaccented

    return frozenset(w for syn in _synonym_rows() for w in re.findall(r"[^\W\d_]{3,}", unaccented(syn.label)))


@cache
def load_terminology() -> Terminology:
    """Load every terminology table once per process."""
    rows = _loinc_rows()
    codes: dict[str, list[LoincRow]] = {}
    for row in rows:
        codes.setdefault(row.component_key, []).append(row)
    synonyms = tuple(_synonym_rows())
    index: dict[str, list[Synonym]] = {}
    for syn in synonyms:
        key = normalise_label(syn.label)
        if key and syn not in index.setdefault(key, []):
            index[key].append(syn)
    choices = tuple(sorted(index))
    choice_tokens = tuple(frozenset(c.split()) for c in choices)
    discriminators = frozenset(t for toks in choice_tokens for t in toks if len(t) <= 4 or t.isdigit())
    specimen: list[tuple[str, str]] = []
    strip: list[str] = []
    suffixes: list[str] = []
    for q in _read_csv("label_qualifiers.csv"):
        term = normalise_label(q["term"])
        if not term:
            continue
        if q["kind"] == "specimen":
            specimen.append((term, q["system"]))
        elif q["kind"] == "suffix":
            suffixes.append(term)
        else:
            strip.append(term)
    qualitative = {
        _normalise_qualitative(r["text"]): (r["canonical"], r["snomed"] or None)
        for r in _read_csv("qualitative.csv")
    }
    return Terminology(
        codes={k: tuple(sorted(v, key=lambda r: r.rank)) for k, v in codes.items()},
        by_loinc={r.loinc: r for r in rows},
        kinds={r["component_key"]: r["kind"] for r in _read_csv("components.csv")},
        synonyms=synonyms,
        index={k: tuple(v) for k, v in index.items()},
        choices=choices,
        choice_tokens=choice_tokens,
        discriminators=discriminators,
        specimen_terms=tuple(sorted(specimen, key=lambda t: -len(t[0]))),
        strip_terms=tuple(sorted(strip, key=len, reverse=True)),
        suffixes=tuple(sorted(suffixes, key=len, reverse=True)),
        qualitative=qualitative,
    )


# --------------------------------------------------------------------------- label -> component


@dataclass(frozen=True, slots=True)
class _Hit:
    synonyms: tuple[Synonym, ...]
    score: float
    method: str
    matched: str
    specimen: str | None  # system implied by words of the printed label


def _specimen_from_words(text: str, term: Terminology) -> tuple[str, str | None]:
    system: str | None = None
    padded = f" {text} "
    for word, sys in term.specimen_terms:
        if f" {word} " in padded:
            padded = padded.replace(f" {word} ", " ")
            system = system or sys
    tokens = padded.split()
    if len(tokens) > 1 and tokens[0] in _SPECIMEN_PREFIXES and not tokens[1].isdigit():
        system = system or _SPECIMEN_PREFIXES[tokens[0]]
        tokens = tokens[1:]
    return " ".join(tokens), system


def _exact_steps(label: str, term: Terminology) -> list[tuple[str, float, str | None]]:
    """(candidate text, weight, implied specimen) in the order they are tried."""
    full = normalise_label(label)
    no_paren = normalise_label(_PAREN_RE.sub(" ", _FOOTNOTE_RE.sub(" ", label)))
    inner = " ".join(m.group(0)[1:-1] for m in _PAREN_RE.finditer(label))
    _, paren_specimen = _specimen_from_words(normalise_label(inner), term) if inner else ("", None)
    reduced, specimen = _specimen_from_words(no_paren, term)
    reduced = _strip_suffixes(_remove_terms(reduced, term.strip_terms), term.suffixes)
    specimen = specimen or paren_specimen
    steps = [(full, STEP_WEIGHTS[0], None), (no_paren, STEP_WEIGHTS[1], paren_specimen)]
    steps.append((reduced, STEP_WEIGHTS[2], specimen))
    return [s for s in steps if s[0]]


_GLYPH_FOLD = str.maketrans({"1": "i", "l": "i", "|": "i", "î": "i", "ï": "i", "í": "i", "0": "o", "4": "a"})  # "T4" read as "TA"


def _discriminators_agree(q_tokens: frozenset[str], c_tokens: frozenset[str], choice: str, term: Terminology) -> bool:
    """Short tokens (HDL, T3, B12, ...) on one side only refuse a match, unless the token
    is itself a synonym of the same component ("Alanin-Aminotransferase ALT")."""
    comps = {s.component_key for s in term.index[choice]}
    only_q, only_c = q_tokens - c_tokens, c_tokens - q_tokens
    same_glyphs = {t.translate(_GLYPH_FOLD) for t in only_q} & {t.translate(_GLYPH_FOLD) for t in only_c}
    for token in (only_q | only_c) & term.discriminators:
        if token.translate(_GLYPH_FOLD) in same_glyphs:
            continue  # "ire" printed as "1re": the same glyphs misread, not a different test
        if not comps & {s.component_key for s in term.index.get(token, ())}:
            return False
    return True


def _strip_suffixes(text: str, suffixes: tuple[str, ...]) -> str:
    """Drop German compound suffixes: "thrombozytenzahl" -> "thrombozyten"."""
    out = []
    for token in text.split():
        for suffix in suffixes:
            if token.endswith(suffix) and len(token) >= len(suffix) + 4:
                token = token[: -len(suffix)]
                break
        out.append(token)
    return " ".join(out)


def _fuzzy(query: str, term: Terminology) -> tuple[str, float] | None:
    if len(query.replace(" ", "")) < FUZZY_MIN_CHARS:
        return None
    q_tokens = frozenset(query.split())
    best: tuple[str, float] | None = None
    scorers = ((fuzz.ratio, 1.0), (fuzz.token_sort_ratio, 1.0), (fuzz.token_set_ratio, SUBSET_WEIGHT))
    for scorer, weight in scorers:
        found = process.extract(query, term.choices, scorer=scorer, score_cutoff=FUZZY_CUTOFF, limit=5)
        for choice, raw, idx in found:
            c_tokens = term.choice_tokens[idx]
            if not _discriminators_agree(q_tokens, c_tokens, choice, term):
                continue  # "cholesterol hdl" must not fall back to "cholesterol"
            if weight < 1.0 and (len(choice) < FUZZY_MIN_CHARS or not c_tokens < q_tokens):
                continue  # subset matches only drop extra printed words, never add words
            score = raw / 100.0 * weight
            if best is None or score > best[1]:
                best = (choice, score)
    return best


# glyph groups OCR confuses in label words (one fold for both sides): "li" read as "h"
# ("Bihrubine"), "m" as "n" ("Anylase"), "rn" as "m", "vv" as "w", "cl" as "d"
_OCR_LABEL_PAIRS = (("rn", "m"), ("li", "h"), ("vv", "w"), ("cl", "d"))
_OCR_LABEL_FOLD = {**_GLYPH_FOLD, ord("m"): "n"}
OCR_FOLD_SCORE = 0.93  # before FUZZY_WEIGHT: equal once confusable glyphs are folded, so near-exact


def ocr_label_fold(text: str) -> str:
    for a, b in _OCR_LABEL_PAIRS:
        text = text.replace(a, b)
    return text.translate(_OCR_LABEL_FOLD)


@cache
def _ocr_folded_choices() -> dict[str, frozenset[str]]:
    """Folded synonym -> the synonyms that fold to it (of one component, else left out)."""
    term = load_terminology()
    groups: dict[str, set[str]] = {}
    for choice in term.choices:
        if len(choice.replace(" ", "")) >= FUZZY_MIN_CHARS:
            groups.setdefault(ocr_label_fold(choice), set()).add(choice)
    return {
        k: frozenset(v) for k, v in groups.items()
        if len({s.component_key for c in v for s in term.index[c]}) == 1
    }


def _find_component(label: str, term: Terminology) -> _Hit | None:
    steps = _exact_steps(label, term)
    for text, weight, specimen in steps:
        if text in term.index:
            method = "exact" if weight == 1.0 else "reduced"
            return _Hit(term.index[text], weight, method, text, specimen)
    if not steps:
        return None
    text, _, specimen = steps[-1]
    if not re.search(r"[a-z]", text):
        return None
    found = _fuzzy(text, term)
    folded = _ocr_folded_choices().get(ocr_label_fold(text)) if len(text.replace(" ", "")) >= FUZZY_MIN_CHARS else None
    if folded and (found is None or found[1] < OCR_FOLD_SCORE):
        found = (min(folded), OCR_FOLD_SCORE)  # "bihrubine" is "bilirubine" misread
    if found is None:
        return None
    choice, score = found
    return _Hit(term.index[choice], round(score * FUZZY_WEIGHT, 4), "fuzzy", choice, specimen)


WEAK_CUTOFF = 70.0  # fuzzy score from which a misread label may still be named by its row's evidence


def weak_candidates(label: str, cutoff: float = WEAK_CUTOFF) -> list[tuple[str, str, float]]:
    """(synonym, component, score 0-1) for a label no match accepted, best first, one per
    component: fuzzy scores (plain and OCR-folded) from ``cutoff`` up, short labels and
    disagreeing discriminators ("HDL" against "LDL") left out. Not a match on its own: a
    caller needs other evidence (unit, value and range within the analyte's spans)."""
    term = load_terminology()
    steps = _exact_steps(label, term)
    if not steps:
        return []
    text = steps[-1][0]
    if not re.search(r"[a-z]", text):
        return []
    if len(text.replace(" ", "")) < FUZZY_MIN_CHARS:
        return _short_candidates(text)
    q_tokens = frozenset(text.split())
    best: dict[str, tuple[str, float]] = {}
    folded = ocr_label_fold(text)
    for query, choices in ((text, term.choices), (folded, _folded_choice_list())):
        for scorer in (fuzz.ratio, fuzz.token_sort_ratio):
            for choice, raw, idx in process.extract(query, choices, scorer=scorer, score_cutoff=cutoff, limit=8):
                synonym = term.choices[idx]
                if len(synonym.replace(" ", "")) < FUZZY_MIN_CHARS:
                    continue
                if not _discriminators_agree(q_tokens, term.choice_tokens[idx], synonym, term):
                    continue
                for comp in {s.component_key for s in term.index[synonym]}:
                    if comp not in best or raw > best[comp][1]:
                        best[comp] = (synonym, raw)
    return sorted(((syn, comp, round(score / 100.0, 4)) for comp, (syn, score) in best.items()), key=lambda t: (-t[2], t[1]))


# short labels are too short for fuzzy scores: only an exact match once the glyphs OCR
# confuses in them are folded ("el", "ci", "ei]", "ct-" for "Cl"; "v-GT", "Y-6T" for "γ-GT")
_SHORT_FOLD = {**_GLYPH_FOLD, **str.maketrans({"e": "c", "t": "i", "γ": "v", "y": "v", "6": "g"})}
SHORT_FOLD_SCORE = 0.8


def short_label_fold(text: str) -> str:
    return re.sub(r"[\W_]+$|^[\W_]+", "", text.lower()).translate(_SHORT_FOLD)


@cache
def _short_folded() -> dict[str, frozenset[tuple[str, str]]]:
    """Folded short synonym -> (synonym, component) pairs."""
    term = load_terminology()
    out: dict[str, set[tuple[str, str]]] = {}
    for choice in term.choices:
        if len(choice.replace(" ", "")) < FUZZY_MIN_CHARS:
            for syn in term.index[choice]:
                out.setdefault(short_label_fold(choice), set()).add((choice, syn.component_key))
    return {k: frozenset(v) for k, v in out.items()}


def _short_candidates(text: str) -> list[tuple[str, str, float]]:
    found = _short_folded().get(short_label_fold(text), frozenset())
    best: dict[str, str] = {}
    for synonym, comp in sorted(found):
        best.setdefault(comp, synonym)
    return sorted((syn, comp, SHORT_FOLD_SCORE) for comp, syn in best.items())


@cache
def _folded_choice_list() -> tuple[str, ...]:
    """``choices``, each OCR-folded (same positions)."""
    return tuple(ocr_label_fold(c) for c in load_terminology().choices)


# --------------------------------------------------------------------------- component -> code


def _system_from_hint(hint: str | None) -> str | None:
    if not hint:
        return None
    h = normalise_label(hint)
    if any(w in h for w in ("urin", "harn")):
        return "Urine"
    if any(w in h for w in ("ser", "plas", "ser plas")):
        return "Ser/Plas"
    if any(w in h for w in ("blood", "sang", "blut", "bld", "vollblut")):
        return "Bld"
    return None


def _property_fits(unit_property: str, code_property: str) -> bool:
    if unit_property == code_property:
        return True
    return unit_property == "Fr" and code_property.endswith("Fr")


def _choose_code(
    rows: tuple[LoincRow, ...],
    unit_ucum: str | None,
    system: str | None,
    scale_hint: str | None,
    count_hint: bool = False,
) -> tuple[LoincRow, float]:
    pool = rows
    weight = 1.0
    if system:
        allowed = _SYSTEM_GROUPS.get(system, frozenset({system}))
        in_system = tuple(r for r in rows if r.system in allowed)
        if in_system:
            # a blood hint only rules out urine; prefer real blood codes when they exist
            pool = in_system
        else:
            weight *= SPECIMEN_FALLBACK
    elif any(r.system == "Urine" for r in rows) and any(r.system != "Urine" for r in rows):
        pool = tuple(r for r in rows if r.system != "Urine")
    if unit_ucum:
        accepted = [r for r in pool if unit_ucum in r.ucum_units]
        if accepted:
            return accepted[0], weight * UNIT_ACCEPTED
        unit_prop = property_of(unit_ucum)
        if unit_prop:
            fitting = [r for r in pool if _property_fits(unit_prop, r.property)]
            if fitting:
                return fitting[0], weight * UNIT_PROPERTY_FIT
        return pool[0], weight * UNIT_MISFIT
    if count_hint:  # "Neutrophiles (abs.)" printed without its unit is the count, not the %
        counts = tuple(r for r in pool if r.property == "NCnc")
        pool = counts or pool
    if scale_hint in SCALES:
        scaled = [r for r in pool if r.scale == scale_hint]
        if scaled:
            return scaled[0], weight
    ambiguous = len({(r.property, r.scale) for r in pool}) > 1
    return pool[0], weight * (UNIT_ABSENT_AMBIGUOUS if ambiguous else 1.0)


# a label that says the count is absolute ("PNN (valeur absolue)", "Lymphozyten abs.")
_ABSOLUTE_COUNT = re.compile(r"\b(?:abs|absolu|absolue|absolus|absolues|absolut|absolute|absolutwert)\b")


def names_absolute_count(label: str) -> bool:
    """Does a printed label say its count is absolute ("PNN (valeur absolue)", "Eosinophile abs.")?"""
    return bool(_ABSOLUTE_COUNT.search(normalise_label(label)))


@lru_cache(maxsize=8192)
def match_label(
    label: str,
    unit_ucum: str | None = None,
    language: str | None = None,
    specimen_hint: str | None = None,
    scale_hint: str | None = None,
) -> LabelMatch | None:
    """Map a printed test label to a LOINC code, or None when it is not a known test.

    ``unit_ucum`` (a UCUM code, see ``mappers.units.to_ucum``) decides between codes of
    the same component (glucose mg/dL vs mmol/L); ``specimen_hint`` ("urine", "serum",
    "blood", or a LOINC system) comes from the report section; ``scale_hint`` ("Qn"/"Ord")
    says whether the value was numeric or qualitative.
    """
    if not label or not label.strip():
        return None
    term = load_terminology()
    hit = _find_component(label, term)
    if hit is None:
        return None
    hinted = _system_from_hint(specimen_hint)
    count_hint = names_absolute_count(label)
    best: tuple[float, LabelMatch] | None = None
    for syn in hit.synonyms:
        rows = term.codes.get(syn.component_key)
        if not rows:
            continue
        system = syn.system or hit.specimen or hinted
        row, weight = _choose_code(rows, unit_ucum, system, scale_hint, count_hint)
        foreign = bool(language) and syn.language not in (language, "any")
        if foreign:
            weight *= OTHER_LANGUAGE
        score = round(min(1.0, hit.score * weight), 4)
        candidate = LabelMatch(
            loinc=row.loinc,
            display=row.display,
            component_key=row.component_key,
            score=score,
            property=row.property,
            system=row.system,
            scale=row.scale,
            accepted_units=row.ucum_units,
            method=hit.method,
            matched_label=hit.matched,
        )
        # the document's own language decides an abbreviation both read ("TP": prothrombin
        # in French, total protein in English) unless the unit says otherwise
        rank = score * (OTHER_LANGUAGE_CHOICE if foreign else 1.0)
        if best is None or rank > best[0]:
            best = (rank, candidate)
    return best[1] if best else None


def label_components(label: str) -> frozenset[str]:
    """Every component a printed label can name ("PCT": plateletcrit in German tables,
    procalcitonin in French and English ones)."""
    if not label or not label.strip():
        return frozenset()
    hit = _find_component(label, load_terminology())
    return frozenset(s.component_key for s in hit.synonyms) if hit else frozenset()


def component_kind(component_key: str) -> str | None:
    """Analyte kind of a component (enzyme, hormone, antibody, cell, substance)."""
    return load_terminology().kinds.get(component_key)


def loinc_info(code: str) -> LoincRow | None:
    return load_terminology().by_loinc.get(code)


# --------------------------------------------------------------------------- qualitative


def normalise_qualitative(text: str) -> tuple[str, str | None] | None:
    """Qualitative result -> (canonical value, SNOMED CT code), or None when unknown."""
    if not text or not text.strip():
        return None
    table = load_terminology().qualitative
    key = _normalise_qualitative(text)
    if key in table:
        return table[key]
    stripped = _FOOTNOTE_RE.sub("", key).strip(" .:;()")
    if stripped in table:
        return table[stripped]
    # "négatif (< 0.1)", "Positiv 1:80": the first word decides when it is unambiguous
    first = re.split(r"[\s(]", stripped, maxsplit=1)[0]
    return table.get(first)


# --------------------------------------------------------------------------- validation


def reference_dir() -> Path | None:
    """The shared reference folder (``PDF2FHIR_REFERENCE_DIR`` or ``../shared/reference``)."""
    env = os.environ.get("PDF2FHIR_REFERENCE_DIR")
    candidates = [Path(env)] if env else []
    here = Path(__file__).resolve()
    candidates += [p / "shared" / "reference" for p in here.parents]
    return next((p for p in candidates if (p / "loinc").is_dir()), None)


def _bracket_property(display: str, names: dict[str, str]) -> str | None:
    m = re.search(r"\[([^\]]+)\]", display)
    return names.get(m.group(1).strip().casefold()) if m else None


def _reference_displays(ref: Path) -> list[tuple[str, str, str]]:
    """(code, display, language) from the French, German and English reference subsets."""
    out: list[tuple[str, str, str]] = []
    for name, col, lang, delim in (
        ("ans_loinc_fr_lab_subset.csv", "display_fr", "fr", ","),
        ("isik_labor_loinc_de.csv", "display_de", "de", ","),
        ("synthea_lab_loinc_en.tsv", "display", "en", "\t"),
    ):
        path = ref / "loinc" / name
        if path.is_file():
            with path.open(encoding="utf-8", newline="") as f:
                out += [(r["loinc"], r[col], lang) for r in csv.DictReader(f, delimiter=delim)]
    return out


def _check_loinc_rows(term: Terminology, comps: set[str], problems: list[str]) -> None:
    names = {r["name"].casefold(): r["property"] for r in _read_csv("property_names.csv")}
    for row in term.by_loinc.values():
        if not loinc_check_digit(row.loinc):
            problems.append(f"loinc {row.loinc}: bad check digit")
        if row.component_key not in comps:
            problems.append(f"loinc {row.loinc}: unknown component {row.component_key}")
        if row.scale not in SCALES:
            problems.append(f"loinc {row.loinc}: scale {row.scale!r}")
        for unit in row.ucum_units:
            if not is_valid_ucum(unit):
                problems.append(f"loinc {row.loinc}: invalid UCUM {unit!r}")
        bracket = _bracket_property(row.display, names)
        if bracket and bracket != row.property:
            problems.append(f"loinc {row.loinc}: display says {bracket}, property is {row.property}")
    if len(term.by_loinc) != sum(len(v) for v in term.codes.values()):
        problems.append("loinc_lab.csv: a LOINC code appears twice")


def _check_synonyms(term: Terminology, comps: set[str], problems: list[str]) -> None:
    for comp in comps - set(term.codes):
        problems.append(f"component {comp}: no LOINC code")
    for syn in term.synonyms:
        if syn.component_key not in comps:
            problems.append(f"synonym {syn.label!r}: unknown component {syn.component_key}")
        if syn.language not in LANGUAGES:
            problems.append(f"synonym {syn.label!r}: language {syn.language!r}")
        if not normalise_label(syn.label):
            problems.append(f"synonym {syn.label!r}: empty after normalisation")
    for key, syns in term.index.items():
        by_lang: dict[str, set[str]] = {}
        for s in syns:
            by_lang.setdefault(s.language, set()).add(s.component_key)
        anys = by_lang.get("any", set())
        for lang, comp_set in by_lang.items():
            if len(comp_set | (anys if lang != "any" else set())) > 1:
                problems.append(f"synonym {key!r} ({lang}) maps to {sorted(comp_set | anys)}")


def _check_references(term: Terminology, problems: list[str]) -> None:
    ref = reference_dir()
    if ref is None:
        return
    names = {r["name"].casefold(): r["property"] for r in _read_csv("property_names.csv")}
    for code, display, lang in _reference_displays(ref):
        row = term.by_loinc.get(code)
        if row is None:
            continue
        prop = _bracket_property(display, names)
        if prop and prop != row.property:
            problems.append(f"loinc {code}: reference ({lang}) property {prop}, table {row.property}")
        if lang == "en":
            ref_norm = normalise_label(display)
            ours = normalise_label(row.display).split()
            known = {normalise_label(s.label) for s in term.synonyms if s.component_key == row.component_key}
            shared = any(w[:5] == o[:5] for w in ref_norm.split() if len(w) >= 3 for o in ours)
            if not shared and ref_norm not in known:
                problems.append(f"loinc {code}: display {row.display!r} unlike reference {display!r}")


def validate_tables() -> list[str]:
    """Every problem found in the terminology tables (empty list = all OK)."""
    problems: list[str] = []
    term = load_terminology()
    comps = set(term.kinds)
    _check_loinc_rows(term, comps, problems)
    _check_synonyms(term, comps, problems)
    _check_references(term, problems)
    problems += [f"units.csv: {p}" for p in validate_unit_table()]
    from mappers.ocr_repair import validate_spans

    problems += validate_spans(comps)
    for text, (canonical, snomed) in term.qualitative.items():
        if snomed and not snomed_check_digit(snomed):
            problems.append(f"qualitative {text!r} -> {canonical}: bad SNOMED CT check digit {snomed}")
    return problems
