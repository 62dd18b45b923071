"""Document language from spaCy's per-language stop-word lists plus the rule lexicon.

spaCy ships curated stop-word lists for French, German, English and Luxembourgish
without any model download; counting them over a report's words is fast and reliable
for whole pages (a report has hundreds of words). Bilingual fr/de reports come out
``mixed``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)


@cache
def _stopwords() -> dict[str, frozenset[str]]:
    from spacy.lang.de.stop_words import STOP_WORDS as DE
    from spacy.lang.en.stop_words import STOP_WORDS as EN
    from spacy.lang.fr.stop_words import STOP_WORDS as FR

    # words common to several lists carry no signal
    fr, de, en = set(FR), set(DE), set(EN)
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
