"""Document language from spaCy's per-language stop-word lists plus the rule lexicon.

spaCy ships curated stop-word lists for French, German, English and Luxembourgish
without any model download; counting them over a report's words is fast and reliable
for whole pages (a report has hundreds of words). Bilingual fr/de reports come out
``mixed``.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)


def _spacy_stop_words(lang: str) -> frozenset[str]:
    """spaCy's curated stop-word list for ``lang``, read from its ``stop_words.py`` alone.

    ``import spacy.lang.fr.stop_words`` would first import the package ``spacy.lang.fr``,
    whose tokenizer exceptions compile thousands of regexes: 7 s per worker process,
    measured on the first document of every batch worker. The list module itself is
    plain Python with no imports, so it is loaded on its own (same words, ~10 ms)."""
    spec = importlib.util.find_spec("spacy")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("spaCy is not installed: it provides the stop-word lists")
    path = Path(spec.submodule_search_locations[0]) / "lang" / lang / "stop_words.py"
    module_spec = importlib.util.spec_from_file_location(f"_pdf2fhir_stop_words_{lang}", path)
    if module_spec is None or module_spec.loader is None:
        raise RuntimeError(f"spaCy has no stop-word list for {lang!r} at {path}")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return frozenset(module.STOP_WORDS)


@cache
def _stopwords() -> dict[str, frozenset[str]]:
    # words common to several lists carry no signal
    fr, de, en = (set(_spacy_stop_words(lang)) for lang in ("fr", "de", "en"))
    shared = (fr & de) | (fr & en) | (de & en)
    return {"fr": frozenset(fr - shared), "de": frozenset(de - shared), "en": frozenset(en - shared)}


# Lab-report vocabulary that stop words miss (headers are often all there is).
_DOMAIN = {
    "fr": {"résultat", "résultats", "unité", "unités", "référence", "références", "prélèvement", "analyse", "analyses",
           "hématologie", "biochimie", "leucocytes", "hémoglobine", "plaquettes", "glycémie", "créatinine", "médecin",
           "prescripteur", "naissance", "sexe", "laboratoire", "valeurs", "normales", "dossier", "édité"},
    "de": {"ergebnis", "einheit", "referenzbereich", "untersuchung", "entnahme", "hämatologie", "leukozyten",
           "hämoglobin", "thrombozyten", "kreatinin", "einsender", "geburtsdatum", "geschlecht", "labor", "befund",
           "klinische", "chemie", "gerinnung", "harnstoff", "vorwerte", "blutbild"},
    "en": {"result", "results", "unit", "units", "reference", "range", "collected", "test", "haemoglobin",
           "hemoglobin", "platelets", "creatinine", "physician", "birth", "laboratory", "report", "white", "cells",
           "count", "chemistry", "requested", "patient"},
}


def language_scores(words: Iterable[str]) -> dict[str, int]:
    sw = _stopwords()
    scores = {"fr": 0, "de": 0, "en": 0}
    for token in words:
        for w in _WORD.findall(token.lower()):
            for lang in scores:
                if w in sw[lang] or w in _DOMAIN[lang]:
                    scores[lang] += 1
    return scores


def detect_language(words: Iterable[str]) -> str:
    """``fr``, ``de``, ``en``, ``mixed`` (two languages both strong) or ``und``."""
    scores = language_scores(words)
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (top, s1), (second, s2) = ranked[0], ranked[1]
    if s1 < 3:
        return "und"
    if s2 >= 0.45 * s1 and {top, second} == {"fr", "de"}:
        return "mixed"
    return top
