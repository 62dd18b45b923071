"""Report metadata: patient block, dates, laboratory, prescriber.

Key/value reading over lines of words, driven by the per-language key lexicon
(``rules/lexicon.json``). A key's value is what follows it on the same line up to the
next key or a wide gap; when nothing follows, the value is the text just below the key.
Every field keeps the printed string it came from (page and box) for review.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from datetime import date

from rapidfuzz import fuzz, process

from models import BBox, Line, PatientInfo, Printed, ReportMeta, Word, WordSource
from extractors.layout import line_font_size
from extractors.rules import given_name_key, given_name_spellings, lexicon, unaccented
from mappers.loinc_check import luhn_valid, verhoeff_valid

# ---------------------------------------------------------------- dates

_DATE_NUM = re.compile(
    r"(?<!\d)(?:(?P<y1>(?:19|20)\d{2})[-/.](?P<m1>\d{1,2})[-/.](?P<d1>\d{1,2})"
    r"|(?P<d2>\d{1,2})\s?[./-]\s?(?P<m2>\d{1,2})\s?[./-]\s?(?P<y2>\d{4}|\d{2})"
    # OCR reads a full stop as a comma or a colon ("25.08,2024", "21/08:1944"): tight, full year
    r"|(?P<d3>\d{1,2})[./,:-](?P<m3>\d{1,2})[./,:-](?P<y3>(?:19|20)\d{2}))(?!\d)"
)
_DATE_WORD = re.compile(r"(?<!\d)(?P<d>\d{1,2})\.?[\s-]+(?P<mon>[^\W\d_]{3,10}\.?)[\s-]+(?P<y>\d{4})(?!\d)", re.UNICODE)
_DATE_WORD_EN = re.compile(r"(?P<mon>[^\W\d_]{3,10}\.?)\s+(?P<d>\d{1,2}),?\s+(?P<y>\d{4})(?!\d)", re.UNICODE)
_TIME = re.compile(r"(?<!\d)(?P<h>[01]?\d|2[0-3])\s?(?:[:h]|heures?)\s?(?P<mi>[0-5]\d)(?!\d)")


def _month_number(word: str) -> int | None:
    w = word.lower().rstrip(".")
    for pats in lexicon().months.values():
        for i, p in enumerate(pats):
            if p.match(w) or p.match(w + "."):
                return i + 1
    return None


@dataclass(frozen=True)
class FoundDate:
    iso: str  # YYYY-MM-DD or YYYY-MM-DDTHH:MM:00
    start: int
    end: int


def find_date(text: str, *, birth: bool = False, today: date | None = None) -> FoundDate | None:
    """First calendar date in ``text`` (with a time right after it, when printed)."""
    candidates: list[tuple[int, int, int, int, int]] = []  # start, end, y, m, d
    for m in _DATE_NUM.finditer(text):
        if m.group("y1"):
            y, mo, d = int(m.group("y1")), int(m.group("m1")), int(m.group("d1"))
        elif m.group("y3"):
            y, mo, d = int(m.group("y3")), int(m.group("m3")), int(m.group("d3"))
        else:
            y, mo, d = int(m.group("y2")), int(m.group("m2")), int(m.group("d2"))
            if y < 100:
                ref = (today or date(2100, 1, 1)).year % 100 if birth else 99
                y += 1900 if (birth and y > ref) else 2000
                if not birth and y > 2069:
                    y -= 100
        candidates.append((m.start(), m.end(), y, mo, d))
    for rx in (_DATE_WORD, _DATE_WORD_EN):
        for m in rx.finditer(text):
            mo = _month_number(m.group("mon"))
            if mo:
                candidates.append((m.start(), m.end(), int(m.group("y")), mo, int(m.group("d"))))
    for start, end, y, mo, d in sorted(candidates):
        try:
            dt = date(y, mo, d)
        except ValueError:
            continue
        if not 1890 <= dt.year <= 2100:
            continue
        iso = dt.isoformat()
        t = _TIME.search(text, end, min(len(text), end + 12))
        if t and not birth and re.fullmatch(r"[\s,/-]*(?:à|a|at|um|le|,)?[\s,/-]*", text[end:t.start()]):
            iso = f"{iso}T{int(t.group('h')):02d}:{t.group('mi')}:00"
            end = t.end()
        return FoundDate(iso, start, end)
    return None


# ---------------------------------------------------------------- key/value reading

_FIELDS = ("fullname", "family", "given", "birth_date", "sex", "national_id", "collection_date",
           "report_date", "received_date", "prescriber", "report_id")


@dataclass(frozen=True)
class KeyHit:
    field: str
    line_index: int
    start: int
    end: int
    checked: bool = False  # a key read only loosely: its value must read as it is, no repair


@dataclass(frozen=True)
class Value:
    text: str
    words: tuple[Word, ...]

    def printed(self) -> Printed:
        ws = self.words
        return Printed(
            text=self.text,
            page=ws[0].page,
            bbox=BBox.enclosing([w.bbox for w in ws]),
            source=ws[0].source,
            confidence=min(w.confidence for w in ws),
            bold=all(w.bold for w in ws),
        )


def _offsets(line: Line) -> list[tuple[int, int]]:
    out, pos = [], 0
    for w in line.words:
        out.append((pos, pos + len(w.text)))
        pos += len(w.text) + 1
    return out


def _key_hits(line: Line, li: int) -> list[KeyHit]:
    text = line.text
    lex = lexicon()
    hits: list[KeyHit] = []
    offs = _offsets(line)
    size = line_font_size(line)
    starts: set[int] = set()  # text offsets where a cell starts (a key must start a cell)
    for i, (a, _) in enumerate(offs):
        if i == 0 or line.words[i].bbox.x0 - line.words[i - 1].bbox.x1 > 1.2 * size or line.words[i - 1].text.endswith((":", "|")):
            starts.add(a)
    word_starts = {a for a, _ in offs}
    for field in _FIELDS:
        for m in lex.meta[field].finditer(text):
            colon = text[m.end():m.end() + 2].lstrip().startswith(":")
            if m.start() in starts or (colon and m.start() in word_starts):
                hits.append(KeyHit(field, li, m.start(), m.end()))
    hits.extend(_misread_key_hits(line, li, offs, hits))
    # longest match wins where hits overlap (e.g. "date de naissance" over "naissance")
    hits.sort(key=lambda h: (h.start, -(h.end - h.start)))
    kept: list[KeyHit] = []
    for h in hits:
        if kept and h.start < kept[-1].end:
            if (h.end - h.start) > (kept[-1].end - kept[-1].start) and h.start == kept[-1].start:
                kept[-1] = h
            elif h.start == kept[-1].start and h.end == kept[-1].end:
                kept.append(h)  # same span, several fields (e.g. "Name"): resolved later
            continue
        kept.append(h)
    return kept


MISREAD_KEY_SCORE = 85  # rapidfuzz ratio of an OCR'd key word to a lexicon key ("exe" ~ "sexe": 85.7)
# a short key one letter off ("Suxe :" for "Sexe :", 75) is taken only for fields whose value
# checks itself (a sex letter, an id's check digits), and its value must read as it is
LOOSE_KEY_SCORE = 75
LOOSE_KEY_FIELDS = frozenset({"sex", "national_id"})


@cache
def _folded_keys(phrases: bool) -> dict[int, dict[str, str]]:
    """Plain meta keys (``Lexicon.meta_words`` / ``meta_phrases``) folded, by word count."""
    lex = lexicon()
    out: dict[int, dict[str, str]] = {}
    for key, field in (lex.meta_phrases if phrases else lex.meta_words).items():
        out.setdefault(key.count(" ") + 1, {})[unaccented(key)] = field
    return out


def _misread_key_hits(line: Line, li: int, offs: list[tuple[int, int]], found: Sequence[KeyHit]) -> list[KeyHit]:
    """Keys OCR misread ("exe :" for "Sexe :", "Probenentuahme:", "Validé 1e:"): on an OCR'd
    line, the word or the two or three words before a colon, where no key pattern matched,
    close to a plain key of the lexicon (``Lexicon.meta_words``, ``meta_phrases``; accents
    ignored). The colon is required: without it any word would do. The value found after
    it is still checked like any other."""
    out: list[KeyHit] = []
    for i, w in enumerate(line.words):
        if w.source != WordSource.OCR:
            continue
        colon = w.text.endswith(":") or (i + 1 < len(line.words) and line.words[i + 1].text.startswith(":"))
        comma = not colon and w.text.endswith(",")  # a colon read as a comma ("Gender, Male"): self-checking fields only
        if not colon and not comma:
            hit = _long_misread_key(w, li, offs[i][0], found)
            if hit is not None:
                out.append(hit)
            continue
        longest: KeyHit | None = None
        for n in (1, 2, 3):
            first = i - n + 1
            if first < 0 or any(line.words[j].source != WordSource.OCR for j in range(first, i + 1)):
                break
            start = offs[first][0]
            if any(h.start <= start < h.end or start <= h.start < offs[i][1] for h in found):
                break
            # "naiss,:" for "naiss.:"; "N°" as the keys spell it ("no d'identification")
            core = unaccented(" ".join(x.text for x in line.words[first : i + 1]).rstrip(":.,;")).replace("°", "o")
            tokens = core.split()
            if n == 1 and (len(core) < 3 or not core.isalpha()):
                continue
            if n > 1 and (not all(t.replace("'", "").replace("’", "").isalnum() for t in tokens) or sum(ch.isalpha() for ch in core) < 5):
                continue
            field = _closest_key(core, n, MISREAD_KEY_SCORE)
            if field is not None and not comma:
                longest = KeyHit(field, li, start, start + len(core))
            elif field in LOOSE_KEY_FIELDS or n == 1 and (field := _closest_key(core, n, LOOSE_KEY_SCORE)) in LOOSE_KEY_FIELDS:
                longest = KeyHit(field, li, start, start + len(core), checked=True)
        if longest is not None:  # the longest key read wins: "Date de naiss" is not a misread "niss"
            out.append(longest)
    return out


LONG_KEY_LETTERS = 8  # a misread key with no colon after it must be this long...
LONG_KEY_SCORE = 90  # ...and this close to a plain key ("Geschlechl": 90)


def _long_misread_key(w: Word, li: int, start: int, found: Sequence[KeyHit]) -> KeyHit | None:
    """A long key word OCR misread in a layout that prints no colon after its keys
    ("Geschlechl M"): one word of ``LONG_KEY_LETTERS`` letters or more, at least
    ``LONG_KEY_SCORE`` close to a plain one-word key. Its value is checked like any other."""
    core = unaccented(w.text.rstrip(".,;"))
    if len(core) < LONG_KEY_LETTERS or not core.isalpha() or any(h.start <= start < h.end for h in found):
        return None
    field = _closest_key(core, 1, LONG_KEY_SCORE, exact=False)
    return None if field is None else KeyHit(field, li, start, start + len(w.text.rstrip(".,;")))


def _closest_key(core: str, words: int, cutoff: float, exact: bool = True) -> str | None:
    """The field of the plain key of ``words`` words closest to ``core`` (folded), at
    least ``cutoff`` close; ``exact=False`` refuses a key equal to ``core`` (the key
    patterns had their chance at it)."""
    keys = _folded_keys(phrases=words > 1).get(words, {})
    best = process.extractOne(core, keys.keys(), scorer=fuzz.ratio, score_cutoff=cutoff)
    if best is None or (not exact and best[0] == core):
        return None
    return keys[best[0]]


def _value_after(line: Line, start: int, stop: int) -> Value | None:
    """Words of ``line`` whose text lies in [start, stop), cut at the first wide gap."""
    offs = _offsets(line)
    size = line_font_size(line)
    chosen: list[Word] = []
    for w, (a, b) in zip(line.words, offs):
        if a >= start and b <= stop:
            if not chosen and not any(ch.isalnum() for ch in w.text):
                continue  # the key's own ':' printed as a separate word
            if chosen and w.bbox.x0 - chosen[-1].bbox.x1 > 2.5 * size:
                break
            chosen.append(w)
        elif a < start < b:  # key and value glued ("Nom:SCHMIT")
            rest = line.text[start:b].lstrip(":. ")
            if any(ch.isalnum() for ch in rest):  # not the key's own punctuation ("Gender," read for "Gender:")
                chosen.append(w.model_copy(update={"text": rest}))
    text = " ".join(w.text for w in chosen).strip(" :")
    if not text or not chosen:
        return None
    return Value(text, tuple(chosen))


def _value_below(lines: Sequence[Line], li: int, key_words: Sequence[Word]) -> Value | None:
    """The text under a key (forms that print the label above its value)."""
    if not key_words:
        return None
    kx0, kx1 = key_words[0].bbox.x0, key_words[-1].bbox.x1
    base = lines[li]
    for nxt in lines[li + 1 : li + 3]:
        if nxt.page != base.page or nxt.bbox.top - base.bbox.bottom > 2.5 * line_font_size(base):
            return None
        ws = [w for w in nxt.words if w.bbox.x1 > kx0 - 5 and w.bbox.x0 < kx1 + 120]
        # keep the contiguous run starting nearest to the key's left edge
        if ws:
            ws.sort(key=lambda w: w.bbox.x0)
            run = [ws[0]]
            size = line_font_size(nxt)
            for w in ws[1:]:
                if w.bbox.x0 - run[-1].bbox.x1 > 2.0 * size:
                    break
                run.append(w)
            return Value(" ".join(w.text for w in run), tuple(run))
    return None


def _words_in_span(line: Line, start: int, end: int) -> list[Word]:
    return [w for w, (a, b) in zip(line.words, _offsets(line)) if a < end and b > start]


# ---------------------------------------------------------------- field parsers

_NONNAME = re.compile(r"[\d:/@]")


def _clean_name_tokens(tokens: list[str]) -> tuple[list[str], str | None]:
    """Drop titles; return remaining tokens and a sex implied by a title."""
    lex = lexicon()
    sex: str | None = None
    out: list[str] = []
    for t in tokens:
        if lex.title_female.match(t):
            sex = "female"
            continue
        if lex.title_male.match(t):
            sex = "male"
            continue
        if lex.title_any.match(t):
            continue
        out.append(t)
    return out, sex


_ACCENT_SLIPS = {("g", "ç"), ("ç", "g")}  # a cedilla's tail read as a g's


def accent_misread_given(name: str) -> str | None:
    """The list's spelling of a one-word given name the list does not know, when the two
    differ only where OCR reads one accent for another or adds one ("Jöröme", "Jéréme" ->
    Jérôme; "Sénia" -> Sonia) or reads a cedilla for a g ("Frangois" -> François), and
    exactly one listed name fits. None otherwise."""
    if " " in name or given_name_key(name) in lexicon().given_names:
        return None
    read = unicodedata.normalize("NFC", name.lower())
    fits = set()
    for spelling in given_name_spellings():
        cand = unicodedata.normalize("NFC", spelling)
        if len(cand) != len(read) or cand == read:
            continue
        pairs = [(a, b) for a, b in zip(read, cand) if a != b]
        if pairs and all((a, b) in _ACCENT_SLIPS or (unaccented(a) != a or unaccented(b) != b) and a.isalpha() and b.isalpha() for a, b in pairs):
            fits.add(spelling)
    if len(fits) != 1:
        return None
    found = fits.pop()
    return found.upper() if name.isupper() else found[:1].upper() + found[1:]


@cache
def _spellings_by_key() -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for spelling in given_name_spellings():
        out.setdefault(given_name_key(spelling), set()).add(spelling)
    return {k: frozenset(v) for k, v in out.items()}


def stray_glyph_given(token: str) -> str | None:
    """A given name OCR read with one glyph not a letter, where an accented letter
    (``Jéro6me`` for Jérôme, ``Chlo&`` for Chloé) or a letter (``Mar1e``) was printed:
    the glyph stands for one letter or none, and exactly one spelling of the list must fit
    the rest; it is taken, accents included. Hyphens and apostrophes are letters of names
    here. None otherwise."""
    core = token.strip(",.;:()")
    odd = [i for i, ch in enumerate(core) if not ch.isalpha() and ch not in "-'’"]
    if len(odd) != 1 or sum(ch.isalpha() for ch in core) < 3:
        return None
    i = odd[0]
    head, tail = given_name_key(core[:i]), given_name_key(core[i + 1 :])
    pattern = re.compile(re.escape(head) + "[^\\W\\d_]?" + re.escape(tail))
    fits = {found for key, spellings in _spellings_by_key().items() if pattern.fullmatch(key) for found in spellings}
    if len(fits) != 1:
        return None
    (found,) = fits
    spelled = found.upper() if core.replace(core[i], "").isupper() else found[:1].upper() + found[1:]
    return token.replace(core, spelled, 1)  # the edge punctuation stays: "WEBER, Chlo&" keeps its comma


def _is_title(token: str) -> bool:
    lex = lexicon()
    return any(p.match(token) for p in (lex.title_female, lex.title_male, lex.title_any))


def _stops_and_commas(tokens: list[str]) -> list[str]:
    """Full stops and commas OCR swapped in a name: a title read with a comma ("M, Nico
    RODRIGUES") gets its full stop back; a name of three letters or more read with a full
    stop ("Krier. Romain" for "Krier, Romain") is followed by a comma when it opens a name of
    two or three words, or by nothing at the end. Initials ("J.") and short abbreviations
    ("St.") keep theirs, and so do longer names ("Dipl. Ing. Marc Weber")."""
    out = []
    has_comma = any("," in t for t in tokens)
    for i, t in enumerate(tokens):
        if t.endswith(",") and _is_title(t[:-1] + "."):
            t = t[:-1] + "."
        elif t.endswith(".") and not _is_title(t) and sum(c.isalpha() for c in t) >= 3:
            if i == len(tokens) - 1:
                t = t[:-1]
            elif i == 0 and len(tokens) <= 3 and not has_comma:
                t = t[:-1] + ","
        out.append(t)
    return out


def _cut_birth_name(tokens: list[str]) -> list[str]:
    lex = lexicon()
    for i, t in enumerate(tokens):
        if i > 0 and lex.birth_name.match(t.strip("(),")):
            return tokens[:i]
    return tokens


def _is_upper_name(t: str) -> bool:
    letters = [c for c in t if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def split_full_name(text: str, given_first: bool = False) -> tuple[str | None, str | None, str | None, float]:
    """(family, given, sex from title, confidence) from 'SCHMIT Anne', 'Schmit, Anne',
    'Mme Anne SCHMIT née MULLER', 'Frau Anne Schmit'."""
    text = " ".join(_stops_and_commas(_unquoted(re.sub(r"\(.*?\)", " ", text).split())))
    if "," in text:
        fam, _, giv = text.partition(",")
        ftoks, sex = _clean_name_tokens(fam.split())
        gtoks, sex2 = _clean_name_tokens(_cut_birth_name(giv.split()))
        if ftoks and gtoks:
            return " ".join(ftoks), " ".join(gtoks), sex or sex2, 0.95
    tokens, sex = _clean_name_tokens(text.split())
    tokens = _cut_birth_name([t for t in tokens if not _NONNAME.search(t)])
    if not tokens:
        return None, None, sex, 0.0
    upper = [t for t in tokens if _is_upper_name(t)]
    if upper and len(upper) < len(tokens):
        given = [t for t in tokens if not _is_upper_name(t)]
        return " ".join(upper), " ".join(given), sex, 0.95
    if len(tokens) == 1:
        return tokens[0], None, sex, 0.5
    # No case cue: a list of common given names decides; else the caller's default
    # (a "Nom:" field prints family first, a bare display line given first).
    names = lexicon().given_names
    first_is_given = given_name_key(tokens[0]) in names
    last_is_given = given_name_key(tokens[-1]) in names
    if first_is_given and not last_is_given:
        return " ".join(tokens[1:]), tokens[0], sex, 0.85
    if last_is_given and not first_is_given:
        return " ".join(tokens[:-1]), tokens[-1], sex, 0.85
    if given_first or (sex is not None and not upper):
        return " ".join(tokens[1:]), tokens[0], sex, 0.6
    return tokens[0], " ".join(tokens[1:]), sex, 0.6


# no sex is written E or EF: on an OCR'd page it is an F (F/E, the classic confusion; an F
# read with a stroke before it)
_SEX_MISREAD = re.compile(r"^EF?[.:]?$")


SEX_WORD_SCORE = 80  # an OCR'd word this close to a sex word of five letters or more ("lemme", "Mascu]in") is that word


def _sex_misread(value: Value) -> str | None:
    """The sex of an OCR'd value that no sex pattern matched but that is one: an E read
    for F ("Sexe : E"; no sex is written E or EF), or one word of five letters or more a
    glyph away from a sex word ("lemme" for femme, "Mascu]in"), closer to one sex's words
    than to the other's. None otherwise."""
    if not all(w.source == WordSource.OCR for w in value.words):
        return None
    text = value.text.strip()
    if _SEX_MISREAD.match(text):
        return "female"
    core = unaccented(text.strip(".:;,'’`\""))
    if " " in core or len(core) < 5:
        return None
    best: dict[str, float] = {}
    for word, sex in lexicon().sex_words.items():
        best[sex] = max(best.get(sex, 0.0), fuzz.ratio(core, word))
    ranked = sorted(best.items(), key=lambda kv: -kv[1])
    if ranked[0][1] < SEX_WORD_SCORE or (len(ranked) > 1 and ranked[1][1] >= ranked[0][1]):
        return None
    return ranked[0][0]


def parse_sex(text: str) -> str | None:
    lex = lexicon()
    for tok in re.split(r"[\s/,;()]+", text.strip()):
        tok = tok.strip(".:;'’`\"")  # "F.", and a speck OCR read before the letter (".M")
        if len(tok) > 1 and len(set(tok.lower())) == 1:
            tok = tok[0]  # one letter read twice ("Ww")
        if not tok:
            continue
        if lex.sex_female.match(tok):
            return "female"
        if lex.sex_male.match(tok):
            return "male"
    return None


_NATID = re.compile(r"(?<![\dA-Za-z])(\d[\d .-]{8,20}\d)(?![\dA-Za-z])")


def _id_valid(kind: str, digits: str) -> bool:
    if kind == "lu":  # Luhn over the first 12 digits, Verhoeff over the first 11 + 13th
        return luhn_valid(digits[:12]) and verhoeff_valid(digits[:11] + digits[12])
    if kind == "be":
        base, key = int(digits[:9]), int(digits[9:])
        return 97 - base % 97 == key or 97 - int("2" + digits[:9]) % 97 == key
    if kind == "nhs":
        total = sum(int(d) * (10 - i) for i, d in enumerate(digits[:9]))
        check = 11 - total % 11
        return (0 if check == 11 else check) == int(digits[9]) and check != 10
    if kind == "fr":
        return 97 - int(digits[:13]) % 97 == int(digits[13:])
    return False


@cache
def _id_schemes() -> tuple[dict[str, str], ...]:
    """Rows of ``rules/national_ids.csv``: country, system, digits, check, birth, note."""
    from extractors.rules import RULES_PATH

    with (RULES_PATH.with_name("national_ids.csv")).open(encoding="utf-8") as fh:
        return tuple(csv.DictReader(fh))


@cache
def _id_kinds() -> tuple[tuple[int, str, str], ...]:
    return tuple((int(r["digits"]), r["check"], r["system"]) for r in _id_schemes())


def _lu_system() -> str:
    return next(system for _, kind, system in _id_kinds() if kind == "lu")


def identify_national_id(text: str) -> tuple[str, str | None] | None:
    """(digits, FHIR identifier system) of a national identifier in ``text``. A number
    whose check digits validate for a known country gets that country's system; a
    13-digit number that fails the checks is kept as a Luxembourg matricule candidate
    (system None, lower confidence)."""
    fallback: str | None = None
    for m in _NATID.finditer(text):
        digits = re.sub(r"\D", "", m.group(1))
        for n, kind, system in _id_kinds():
            if len(digits) == n and _id_valid(kind, digits):
                return digits, system
        if len(digits) == 13 and fallback is None:
            fallback = digits
    return (fallback, None) if fallback else None


# digit pairs OCR confuses on degraded scans (faxes: 5 read as 8 or 9, 0 as 6 or 8, 1 as 7)
_DIGIT_CONFUSIONS = {"0": "689", "1": "7", "3": "589", "5": "3689", "6": "058", "7": "1", "8": "03569", "9": "0358"}
# letters OCR reads for digits inside a long number ("195008209783B" for ...8)
_LETTER_DIGITS = str.maketrans({"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "|": "1", "S": "5", "B": "8", "Z": "2", "G": "6"})
_MISREAD_ID = re.compile(r"(?<![\w|])[\dODoIl|SBZG][\dODoIl|SBZG .-]{8,20}[\dODoIl|SBZG](?![\w|])")


def misread_national_id(text: str) -> tuple[str, str] | None:
    """(digits, system) of an OCR'd identifier with letters read for some of its digits
    (``B`` for 8, ``O`` for 0, ``l`` for 1), when the number with those letters read as
    digits passes its country's check digits: two check digits of a matricule leave a
    wrong number about one chance in a hundred. Letters only, at most two, and most of
    the token digits already."""
    for m in _MISREAD_ID.finditer(text):
        raw = m.group(0)
        letters = sum(not ch.isdigit() and ch not in " .-" for ch in raw)
        if not 1 <= letters <= 2 or sum(ch.isdigit() for ch in raw) < 9:
            continue
        found = identify_national_id(raw.translate(_LETTER_DIGITS))
        if found is not None and found[1] is not None:
            return found[0], found[1]
    return None


def repair_matricule(digits: str, birth: str | None = None) -> str | None:
    """The one Luxembourg matricule one OCR digit confusion away from ``digits`` (13 digits
    that fail the check digits) whose two check digits validate and which starts with a
    real birth date (``birth``, when the document printed it). None when there is no such
    number or more than one: two independent check digits leave a wrong repair about one
    chance in a hundred per candidate, and the date narrows it further."""
    if len(digits) != 13 or not digits.isdigit() or _id_valid("lu", digits):
        return None
    found: set[str] = set()
    if birth is not None:  # the printed birth date for a date part read wrong in a digit or two
        own = birth.replace("-", "")
        cand = own + digits[8:]
        if 1 <= _chars_apart(own, digits[:8]) <= 2 and _id_valid("lu", cand):
            found.add(cand)
    for i, d in enumerate(digits):
        for alt in _DIGIT_CONFUSIONS.get(d, ""):
            cand = digits[:i] + alt + digits[i + 1 :]
            if not _id_valid("lu", cand):
                continue
            try:
                born = date(int(cand[:4]), int(cand[4:6]), int(cand[6:8]))
            except ValueError:
                continue
            if born.year < 1890 or born > date.today() or (birth is not None and born.isoformat() != birth):
                continue
            found.add(cand)
    return found.pop() if len(found) == 1 else None


def _id_misread(field: str, value: Value) -> bool:
    """An OCR'd identifier with letters read for digits that its check digits then accept."""
    return field == "national_id" and value.words[0].source == WordSource.OCR and misread_national_id(value.text) is not None


_MATRICULE_TAIL = re.compile(r"(?<![\d])(\d{3})\s?(\d{2})\s*$")


def _matricule_tail(text: str) -> str:
    """The serial and check digits (``123 45``) ending an OCR'd identifier whose date part
    came out unreadable ("1989 UN27 638 77"), when the whole is about a matricule long."""
    m = _MATRICULE_TAIL.search(text)
    if m is None or not 11 <= sum(ch.isalnum() for ch in text) <= 15:
        return ""
    return m.group(1) + m.group(2)


def _chars_apart(a: str, b: str) -> int:
    """Positions at which two strings of the same length differ (callers check the length)."""
    return sum(x != y for x, y in zip(a, b))


@cache
def _birth_formats() -> dict[str, str]:
    return {r["system"]: r["birth"] for r in _id_schemes() if r.get("birth")}


def birth_date_in_id(digits: str, system: str | None) -> str | None:
    """ISO birth date carried by a validated national identifier whose scheme encodes it
    in full (the Luxembourg matricule starts YYYYMMDD), else None."""
    if system is None or _birth_formats().get(system) != "YYYYMMDD":
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8])).isoformat()
    except ValueError:
        return None


def parse_national_id(text: str) -> str | None:
    found = identify_national_id(text)
    return found[0] if found else None


# ---------------------------------------------------------------- main entry


def parse_meta(lines: Sequence[Line], language: str, page_heights: Sequence[float] = ()) -> ReportMeta:
    """Report metadata from all lines of a document (page headers included)."""
    hits: list[KeyHit] = []
    for li, ln in enumerate(lines):
        hits.extend(_key_hits(ln, li))

    has_given_key = any(h.field == "given" for h in hits)
    found: dict[str, tuple[Value, KeyHit]] = {}
    unreadable_id: Value | None = None
    by_line: dict[int, list[KeyHit]] = {}
    for h in hits:
        by_line.setdefault(h.line_index, []).append(h)

    for li, line_hits in sorted(by_line.items()):
        line = lines[li]
        # group same-span hits; pick the field
        spans: dict[tuple[int, int], list[str]] = {}
        loose: set[tuple[int, int]] = set()
        for h in line_hits:
            spans.setdefault((h.start, h.end), []).append(h.field)
            if h.checked:
                loose.add((h.start, h.end))
        ordered = sorted(spans.items())
        for i, ((start, end), fields) in enumerate(ordered):
            field = fields[0]
            if len(fields) > 1:
                if "family" in fields and "fullname" in fields:
                    field = "family" if has_given_key else "fullname"
                elif "received_date" in fields:
                    field = "received_date"
            if field in found:
                continue
            stop = ordered[i + 1][0][0] if i + 1 < len(ordered) else len(line.text) + 1
            value = _value_after(line, end, stop)
            if value is None:
                value = _value_below(lines, li, _words_in_span(line, start, end))
            if value is None:
                continue
            if (start, end) in loose and not _plausible(field, value.text):
                continue
            if not _plausible(field, value.text) and not (field == "sex" and _sex_misread(value) is not None) and not _id_misread(field, value):
                if field == "national_id" and value.words[0].source == WordSource.OCR and _matricule_tail(value.text):
                    unreadable_id = unreadable_id or value  # its date part may come from the birth date, below
                continue
            found[field] = (value, KeyHit(field, li, start, end, checked=(start, end) in loose))

    conf: dict[str, float] = {}
    family = given = None
    sex_from_title: str | None = None
    if "family" in found:
        v = found["family"][0]
        fam, giv, sex_from_title, c = split_full_name(v.text)
        if fam:
            family = Printed(**{**v.printed().model_dump(), "text": fam})
            conf["family"] = 0.97
    if "given" in found:
        v = found["given"][0]
        toks, _ = _clean_name_tokens(v.text.split())
        if toks:
            given = Printed(**{**v.printed().model_dump(), "text": " ".join(toks)})
            conf["given"] = 0.97
    if "fullname" in found and (family is None or given is None):
        v = found["fullname"][0]
        fam, giv, sex_from_title, c = split_full_name(v.text)
        p = v.printed()
        if family is None and fam:
            family = p.model_copy(update={"text": fam})
            conf["family"] = c
        if given is None and giv:
            given = p.model_copy(update={"text": giv})
            conf["given"] = c

    if family is None and given is None:
        # the patient block is where its keys found values: "NE Fe" (photo noise) matched
        # the key "né" on the first line and drew the search up to the laboratory's name
        anchored = [kh for f, (_, kh) in found.items() if f in _NAME_ANCHORS]
        anchors = [h.line_index for h in anchored or [h for h in hits if h.field in _NAME_ANCHORS]]
        if not anchors and (only_id := _only_checked_id(lines)) is not None:
            anchors = [only_id[1]]  # no key read at all: the one checked identifier marks the patient block
        unl = _unlabelled_name(lines, hits, anchors)
        if unl is not None:
            fam, giv, sex_t, c = split_full_name(unl.text, given_first=True)
            p = unl.printed()
            if fam:
                family = p.model_copy(update={"text": fam})
                conf["family"] = min(c, 0.9)
            if giv:
                given = p.model_copy(update={"text": giv})
                conf["given"] = min(c, 0.9)
                if any(w.source == WordSource.OCR and stray_glyph_given(w.text) for w in unl.words):
                    conf["given"] = min(conf["given"], 0.6)  # a glyph read for a letter, spelled from the list: a person confirms
            sex_from_title = sex_from_title or sex_t

    if given is not None and given.source == WordSource.OCR and (spelled := accent_misread_given(given.text)) is not None:
        given = given.model_copy(update={"text": spelled})
        conf["given"] = min(conf.get("given", 1.0), 0.6)  # accents put back from the name list: a person confirms

    birth = birth_src = None
    if "birth_date" in found:
        v = found["birth_date"][0]
        d = find_date(v.text, birth=True)
        if d:
            birth, birth_src = d.iso[:10], v.printed()
            conf["birth_date"] = 0.98
    sex = sex_src = None
    if "sex" in found:
        v = found["sex"][0]
        sex = parse_sex(v.text)
        if sex:
            sex_src = v.printed()
            conf["sex"] = 0.8 if found["sex"][1].checked else 0.98  # a key read loosely: a little less sure
        elif (misread := _sex_misread(v)) is not None:
            sex, sex_src = misread, v.printed()  # "Sexe : E" (an F with one bar too many), "lemme": for review
            conf["sex"] = 0.6
    if sex is None and sex_from_title:
        sex = sex_from_title
        conf["sex"] = 0.8
    nat = nat_src = nat_system = None
    if "national_id" in found:
        v = found["national_id"][0]
        ident = identify_national_id(v.text)
        if ident:
            nat, nat_system = ident
            nat_src = v.printed()
            conf["national_id"] = (0.9 if found["national_id"][1].checked else 0.98) if nat_system else 0.7
        elif v.words[0].source == WordSource.OCR and (misread := misread_national_id(v.text)) is not None:
            nat, nat_system = misread
            nat_src = v.printed()
            conf["national_id"] = 0.7  # letters read as digits: the check digits agree, a person confirms
    if nat is None:
        nat, nat_src = _national_id_anywhere(lines, birth)
        if nat:
            ident = identify_national_id(nat)
            nat_system = ident[1] if ident else None
            conf["national_id"] = 0.8 if birth else 0.7  # unlabelled: the birth date, or only its check digits, vouch for it

    if nat is None and unreadable_id is not None and birth is not None:
        cand = birth.replace("-", "") + _matricule_tail(unreadable_id.text)
        if _id_valid("lu", cand):  # date part misread beyond repair, serial and check digits read: both checks agree
            nat, nat_system, nat_src = cand, _lu_system(), unreadable_id.printed()
            conf["national_id"] = 0.6

    repaired = False
    if nat is not None and nat_system is None and nat_src is not None and nat_src.source == WordSource.OCR:
        fixed = repair_matricule(nat, birth)  # 13 OCR'd digits that fail the checks: one misread digit?
        if fixed is not None:
            nat, nat_system, repaired = fixed, _lu_system(), True
            conf["national_id"] = 0.6  # repaired: a person confirms it
    if nat is not None:
        from_id = birth_date_in_id(nat, nat_system)
        if birth is None and from_id is not None:  # birth date unread (OCR), its digits validated in the id
            birth, birth_src = from_id, nat_src
            conf["birth_date"] = 0.6 if repaired else 0.9
        elif birth is not None and from_id is not None and from_id != birth:
            conf["birth_date"] = min(conf.get("birth_date", 1.0), 0.6)  # the two disagree: a person looks
            if not repaired and len(birth) == len(from_id) and _chars_apart(birth, from_id) == 1 and birth_src is not None and birth_src.source == WordSource.OCR:
                birth = from_id  # an OCR'd date one digit off the id's checked digits: the id's reading

    dates: dict[str, str | None] = {}
    for field in ("collection_date", "report_date"):
        dates[field] = None
        if field in found:
            d = find_date(found[field][0].text)
            if d:
                dates[field] = d.iso
                conf[field] = 0.97
    if dates["collection_date"] is None and dates["report_date"]:
        dates["collection_date"] = dates["report_date"]
        conf["collection_date"] = 0.5
    elif dates["collection_date"] and dates["report_date"] and dates["report_date"][:10] < dates["collection_date"][:10]:
        for field in ("collection_date", "report_date"):  # reported before the sample was taken: one is misread
            conf[field] = min(conf.get(field, 1.0), 0.5)

    prescriber = None
    if "prescriber" in found:
        prescriber = found["prescriber"][0].text.strip(" :")
        conf["prescriber"] = 0.9
    report_id = found["report_id"][0].text.split()[0] if "report_id" in found else None

    lab = _laboratory(lines, page_heights)
    if lab:
        conf["laboratory"] = 0.85

    patient = PatientInfo(
        family=family,
        given=given,
        birth_date=birth,
        birth_date_src=birth_src,
        sex=sex,  # type: ignore[arg-type]
        sex_src=sex_src,
        national_id=nat,
        national_id_src=nat_src,
        national_id_system=nat_system,
    )
    return ReportMeta(
        language=language,
        patient=patient,
        collection_date=dates["collection_date"],
        report_date=dates["report_date"],
        laboratory=lab,
        prescriber=prescriber,
        report_id=report_id,
        confidence=conf,
    )


PATIENT_FIELDS = ("family", "given", "sex", "birth_date", "national_id")
_PATIENT_KEYS = frozenset({"fullname", "family", "given", "birth_date", "sex", "national_id"})
DOUBTFUL_PATIENT_WORD = 0.5  # an OCR'd patient value with a word read less surely than this is read again


@dataclass(frozen=True)
class PatientRead:
    """How well one page's patient block read: the patient fields found, the boxes that
    place the block (its keys, and the patient values found, where keys were not read),
    whether the name's words overlap (two readings of the same ink: "Jürg" over "ürgen"),
    whether a patient value was read unsurely (a word under ``DOUBTFUL_PATIENT_WORD``:
    "Bes," read for "Mrs" made the family name), and the report's other fields read on
    the page (collection and report date, report number), which a re-read of the block
    must not change."""

    fields: frozenset[str]
    anchors: tuple[BBox, ...]
    crowded: bool
    doubtful: bool = False
    others: tuple[str | None, ...] = ()

    @property
    def complete(self) -> bool:
        return len(self.fields) == len(PATIENT_FIELDS) and not self.crowded and not self.doubtful


def patient_read(lines: Sequence[Line]) -> PatientRead:
    """Patient fields :func:`parse_meta` finds on ``lines`` (one page), and where the
    patient block is: where to read again when fields are missing."""
    anchors = [
        BBox.enclosing([w.bbox for w in words])
        for li, ln in enumerate(lines)
        for h in _key_hits(ln, li)
        if h.field in _PATIENT_KEYS and (words := _words_in_span(ln, h.start, h.end))
    ]
    meta = parse_meta(lines, "")
    patient = meta.patient
    printed = (patient.family, patient.given, patient.birth_date_src, patient.sex_src, patient.national_id_src)
    anchors.extend(p.bbox for p in printed if p is not None)
    fields = frozenset(f for f in PATIENT_FIELDS if getattr(patient, f) is not None)
    crowded = False
    for name in (patient.family, patient.given):
        if name is not None and name.source == WordSource.OCR:
            inside = [w for ln in lines for w in ln.words if _within(w.bbox, name.bbox)]
            crowded = crowded or any(a.bbox.overlap_share(b.bbox) > 0.3 for i, a in enumerate(inside) for b in inside[i + 1 :])
    doubtful = any(p is not None and p.source == WordSource.OCR and p.confidence < DOUBTFUL_PATIENT_WORD for p in printed)
    return PatientRead(fields, tuple(anchors), crowded, doubtful, (meta.collection_date, meta.report_date, meta.report_id))


def _within(inner: BBox, outer: BBox) -> bool:
    return inner.x0 >= outer.x0 - 0.5 and inner.x1 <= outer.x1 + 0.5 and inner.top >= outer.top - 0.5 and inner.bottom <= outer.bottom + 0.5


_NAME_TOKEN = re.compile(r"^[^\W\d_](?:[^\W\d_]|['’.-](?=[^\W\d_]))*[.,]?$", re.UNICODE)


_NAME_ANCHORS = ("birth_date", "sex", "national_id")


_QUOTES = "\"“”„«»"


def _unquoted(tokens: list[str]) -> list[str]:
    """Name tokens without the quote marks OCR puts at their edges (``"SCHMITZ``); no
    name begins or ends with a double quote."""
    out = [t.strip(_QUOTES) for t in tokens]
    return [t for t in out if t]


def _unlabelled_name(lines: Sequence[Line], hits: Sequence[KeyHit], anchors: Sequence[int]) -> Value | None:
    """A patient name printed without a key, as most report engines do: a short cell of
    name-like words just above or beside the patient fields (``anchors``: indices of the
    lines of the birth date, sex and id keys). ``hits`` (all keys) keeps the values of
    other keys out."""
    if not anchors:
        return None
    anchor = min(anchors)
    lex = lexicon()
    key_ends: dict[int, list[int]] = {}
    for h in hits:
        key_ends.setdefault(h.line_index, []).append(h.end)
    best: tuple[float, Value] | None = None
    for li in range(max(0, anchor - 4), min(len(lines), anchor + 2)):
        line = lines[li]
        if line.page != lines[anchor].page:
            continue
        size = line_font_size(line)
        offs = _offsets(line)
        cells: list[list[Word]] = []
        cell_starts: list[int] = []
        for w, (a, _) in zip(line.words, offs):
            if cells and w.bbox.x0 - cells[-1][-1].bbox.x1 <= 1.5 * size:
                cells[-1].append(w)
            else:
                cells.append([w])
                cell_starts.append(a)
        for ci, cell in enumerate(cells):
            before = cell_starts[ci - 1] if ci else -1
            if any(before <= end <= cell_starts[ci] for end in key_ends.get(li, ())):
                continue  # the value of a key beside it ("Einsender  Dr. Ana De Smet"), not an unlabelled name
            if _DOCTOR.match(cell[0].text):
                continue  # "Dr. ..." beside the patient block is a physician
            kept = _cut_birth_name(_unquoted(" ".join(w.text for w in cell).split()))
            if all(w.source == WordSource.OCR for w in cell):
                kept = [stray_glyph_given(t) or t for t in kept]
            cell = cell[: len(kept)] if len(kept) <= len(cell) else cell
            toks, _ = _clean_name_tokens(kept)
            text = " ".join(toks)
            if not 2 <= len(toks) <= 5 or len(text) > 48:
                continue
            if not all(_NAME_TOKEN.match(t) for t in toks):
                continue
            if any(lex.not_names.match(t.strip(",.")) for t in toks):
                continue
            if any(p.search(text) for p in lex.meta.values()) or lex.laboratory.search(text):
                continue
            if any(p.match(text) or any(p.match(t) for t in toks) for p in lex.header.values()):
                continue  # a table header ("Valeurs de référence") is not a name
            score = 3.0 - (anchor - li) * 0.5 if li <= anchor else 2.5 - (li - anchor)  # names head the patient block
            if any(_is_upper_name(t) for t in toks) or "," in text:
                score += 1.5
            if any(given_name_key(t) in lex.given_names for t in toks):
                score += 1.0
            if all(w.bold for w in cell):
                score += 0.5
            if best is None or score > best[0]:
                best = (score, Value(" ".join(kept), tuple(cell)))
    return best[1] if best and best[0] > 1.0 else None


_DOCTOR = re.compile(r"^(dr|prof|docteur|doctor|doktor|med)\.?$", re.I)


def _plausible(field: str, text: str) -> bool:
    if field in ("family", "given", "fullname"):
        letters = sum(c.isalpha() for c in text)
        return letters >= 2 and not re.search(r"\d{3}", text)
    if field in ("birth_date", "collection_date", "report_date", "received_date"):
        return find_date(text) is not None
    if field == "national_id":
        return parse_national_id(text) is not None
    if field == "sex":
        return parse_sex(text) is not None
    return True


def _national_id_anywhere(lines: Sequence[Line], birth: str | None) -> tuple[str | None, Printed | None]:
    """A 13-digit number that starts with the birth date is the matricule even unlabelled.
    Without a birth date, a number whose check digits validate for a known scheme is the
    identifier when the document holds exactly one such number (its key lost in a
    garbled OCR row: "N° rez d'identification vu 1947110598743")."""
    def source(ln: Line, nat: str) -> Printed:
        return Value(nat, tuple(w for w in ln.words if any(ch.isdigit() for ch in w.text))).printed()

    if birth:
        prefix = birth.replace("-", "")
        for ln in lines:
            nat = parse_national_id(ln.text)
            if nat and nat.startswith(prefix):
                return nat, source(ln, nat)
        return None, None
    only = _only_checked_id(lines)
    if only is None:
        return None, None
    nat, li = only
    return nat, source(lines[li], nat)


def _only_checked_id(lines: Sequence[Line]) -> tuple[str, int] | None:
    """(digits, line index) of the one number in ``lines`` whose check digits validate
    for a known identifier scheme; None when there is none or more than one."""
    checked: dict[str, int] = {}
    for li, ln in enumerate(lines):
        found = identify_national_id(ln.text)
        if found is not None and found[1] is not None:
            checked.setdefault(found[0], li)
    return next(iter(checked.items())) if len(checked) == 1 else None


def _laboratory(lines: Sequence[Line], page_heights: Sequence[float]) -> str | None:
    lex = lexicon()
    first_page = lines[0].page if lines else 1
    height = page_heights[0] if page_heights else 842.0
    best: tuple[float, str] | None = None
    for ln in lines:
        if ln.page != first_page or ln.bbox.top > 0.3 * height:
            continue
        m = lex.laboratory.search(ln.text)
        if not m:
            continue
        # the cell holding the match
        size = line_font_size(ln)
        cell: list[Word] = []
        for w in ln.words:
            if cell and w.bbox.x0 - cell[-1].bbox.x1 > 1.5 * size:
                if lex.laboratory.search(" ".join(x.text for x in cell)):
                    break
                cell = []
            cell.append(w)
        text = " ".join(w.text for w in cell).strip()
        score = size + (5 if any(w.bold for w in cell) else 0)
        if best is None or score > best[0]:
            best = (score, text)
    return best[1] if best else None
