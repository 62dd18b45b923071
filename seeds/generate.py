"""Synthetic lab-report PDFs with exact ground truth (`pdf2fhir-truth/1`, see TRUTH.md).

    python -m seeds.generate --out DIR --n 60 --seed 7 [--layouts fr_ruled,de_unruled]

Deterministic: the same seed gives the same bytes (reportlab invariant mode).
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seeds._catalog import load_lexicon, section_order
from seeds._content import ContentStyle, NumberFormat, Result, choose_rows, make_results
from seeds._identity import Patient, format_date, format_national_id, make_dates, make_patient
from seeds._layout import DocText, PageStyle, fitting_style, plan
from seeds._render import GlyphMode, available_families, font_family, page_size, render_pdf

SCHEMA = "pdf2fhir-truth/1"
LAYOUTS: tuple[str, ...] = (
    "fr_ruled",
    "de_unruled",
    "en_unruled",
    "frde_bilingual",
    "fr_cumulative",
    "de_multipage",
    "fr_glyphs",
    "en_qualitative",
    "ch_landscape",
)
_DATE_STYLE = {"fr": ("dmy_slash",), "de": ("dmy_dot", "dmy_dot", "dmy_short"), "en": ("dmy_slash", "iso", "dmon")}
_FLAGS: dict[str, list[dict[str, str]]] = {
    "fr": [{"H": "H", "L": "B"}, {"H": "H", "L": "L"}, {"H": "*", "L": "*"}, {"H": "+", "L": "-"}, {"H": "↑", "L": "↓"}],
    "de": [{"H": "+", "L": "-"}, {"H": "H", "L": "L"}, {"H": "↑", "L": "↓"}, {"H": "*", "L": "*"}, {"H": "++", "L": "--"}],
    "en": [{"H": "H", "L": "L", "HH": "HH", "LL": "LL"}, {"H": "H", "L": "L", "HH": "H*", "LL": "L*"}],
}


@dataclass(frozen=True)
class LayoutChoice:
    content: ContentStyle
    page: PageStyle
    sections: list[str]
    keep: float
    glyphs: GlyphMode | None
    comment_prob: float


def _sections(rng: random.Random, layout: str) -> list[str]:
    allsec = [s for s in section_order() if s not in ("urine", "sero")]
    if layout == "de_multipage":
        return list(section_order())
    chosen = ["hemato"] + (["diff"] if rng.random() < 0.8 else [])
    others = [s for s in allsec if s not in ("hemato", "diff")]
    chosen += rng.sample(others, rng.randint(2, 6))
    if layout == "en_qualitative":
        chosen = rng.sample(others, rng.randint(1, 3)) + ["urine", "sero"]
    elif rng.random() < 0.15:
        chosen.append("urine")
    return chosen


def _layout_choice(layout: str, rng: random.Random) -> LayoutChoice:
    lang = {"fr": "fr", "de": "de", "en": "en", "ch": "de"}[layout.split("_")[0][:2]]
    second = "de" if layout == "frde_bilingual" else None
    fams = list(available_families())
    family_name = rng.choice(fams)
    flags = dict(rng.choice(_FLAGS[lang]))
    fam = font_family(family_name)
    if fam.standard and any(ord(ch) > 255 for v in flags.values() for ch in v):
        flags = dict(_FLAGS[lang][0])
    flags.setdefault("A", rng.choice(["*", "!", ""]) if lang != "en" else rng.choice(["A", "*", ""]))
    decimal = "." if lang == "en" or layout == "ch_landscape" else ","
    thousands = {
        "fr": rng.choice(["", " ", "\u202f"] if not fam.standard else ["", " "]),
        "de": rng.choice(["", "."]),
        "en": rng.choice(["", ","]),
    }[lang]
    if layout == "ch_landscape":
        thousands = "'"
    content = ContentStyle(
        lang=lang,
        second_lang=second,
        numbers=NumberFormat(decimal, thousands),
        flag_symbols=flags,
        critical_flags=lang == "en" and "HH" in flags,
        flag_mode=rng.choice(["col", "col", "suffix"] if lang != "de" else ["suffix", "col", "prefix"]),
        bold_abnormal=rng.random() < 0.3,
        bold_only_prob=0.5 if layout == "en_qualitative" else 0.0,
        range_fmt=rng.choice(
            {"fr": ["dash", "dash_sp", "brackets", "words"], "de": ["dash_sp", "dash", "words"], "en": ["dash", "dash_sp", "parens"]}[lang]
        ),
        open_fmt=rng.choice(["lt_sp", "lt", "zero", "le"]),
        sex_ranges=layout == "ch_landscape" or rng.random() < 0.2,
        unit_in_range=layout == "ch_landscape" or (lang == "de" and rng.random() < 0.25),
        comparator_space=rng.random() < 0.3,
        n_previous=rng.randint(1, 3) if layout == "fr_cumulative" else 0,
        abnormal_rate=0.2,
        lod_bias=0.6 if layout == "en_unruled" else 0.25,
    )
    if layout == "ch_landscape":
        content = _replace(content, range_fmt="parens")
    lex = load_lexicon()["headers"]

    def header(key: str) -> str:
        first = rng.choice(lex[lang][key])
        if second and first:
            return f"{first} / {rng.choice(lex[second][key])}"
        return str(first)

    columns: list[str]
    if layout == "fr_cumulative":
        prev = [f"prev{i}" for i in range(content.n_previous)]
        core = ["value"] + (["flag"] if content.flag_mode == "col" else [])
        columns = ["label"] + (core + prev if rng.random() < 0.65 else prev + core) + ["unit", "range"]
    else:
        tail = ["range"] if content.unit_in_range else rng.choice([["unit", "range"], ["range", "unit"]] if lang != "de" else [["unit", "range"]])
        columns = ["label", "value"] + (["flag"] if content.flag_mode == "col" else []) + tail
        if content.flag_mode == "col" and rng.random() < 0.3:
            columns.remove("flag")
            columns.append("flag")
    headers = {k: header(k) for k in ("label", "value", "unit", "range", "flag") if k in columns}
    headers = {k: v for k, v in headers.items()}
    ruled = layout in ("fr_ruled",) or (layout in ("frde_bilingual", "fr_cumulative", "fr_glyphs") and rng.random() < 0.5)
    size = round(rng.uniform(7.5, 10.0) * 4) / 4
    page = PageStyle(
        family=fam,
        size=size,
        leading=size * rng.uniform(1.3, 1.6),
        landscape=layout == "ch_landscape",
        ruled=ruled,
        columns=tuple(columns),
        headers=headers,
        value_align=rng.choice(["l", "r"]) if lang == "fr" else "r",
        patient_block=rng.choice(["lines", "box_right", "two_columns"]),
        repeat_page_header=layout == "de_multipage" or rng.random() < 0.5,
        repeat_table_header=rng.random() < 0.6,
        margin=rng.uniform(36, 56),
        section_band=ruled and rng.random() < 0.6,
        gap=rng.uniform(10, 20),
    )
    glyphs = GlyphMode(jitter=rng.uniform(0.03, 0.08), drop_space_prob=rng.uniform(0.4, 0.9)) if layout == "fr_glyphs" else None
    return LayoutChoice(content, page, _sections(rng, layout), 1.0 if layout == "de_multipage" else rng.uniform(0.55, 0.9), glyphs, 0.06)


def _replace(style: ContentStyle, **kw: Any) -> ContentStyle:
    from dataclasses import replace

    return replace(style, **kw)


def _name_printed(p: Patient, rng: random.Random, lang: str) -> str:
    title = {"fr": ("M.", "Mme"), "de": ("Herr", "Frau"), "en": ("Mr", "Mrs")}[lang][p.sex == "female"]
    return rng.choice(
        [f"{p.family.upper()} {p.given}", f"{p.family}, {p.given}", f"{title} {p.given} {p.family.upper()}", f"{p.given} {p.family}"]
    )


def _doc_text(
    choice: LayoutChoice, patient: Patient, results: list[Result], rng: random.Random, meta: dict[str, Any]
) -> DocText:
    lex = load_lexicon()
    lang = choice.content.lang
    pl = lex["patient_labels"][lang]
    ds = rng.choice(_DATE_STYLE[lang])
    colon = rng.choice([":", " :", ""]) if lang == "fr" else rng.choice([":", ""])

    def lab(key: str) -> str:
        return f"{rng.choice(pl[key])}{colon}"

    sex_word = rng.choice(lex["sex_words"][lang][patient.sex])
    birth = format_date(patient.birth_date, rng.choice(["dmy_slash", "dmy_dot", "iso"]) if lang != "en" else rng.choice(_DATE_STYLE["en"]))
    collected = meta["collected"]
    patient_fields = [
        (lab("birth"), birth),
        (lab("sex"), sex_word),
        (lab("national_id"), format_national_id(patient.national_id, rng.choice(["plain", "plain", "spaced"]))),
    ]
    request_fields = [
        (lab("collection"), f"{format_date(collected.date(), ds)} {pl['at']} {collected:%H:%M}"),
        (lab("report"), format_date(meta["report"], ds)),
        (lab("prescriber"), meta["prescriber"]),
        (lab("request"), f"{collected:%y%m%d}{rng.randrange(1000, 9999)}"),
    ]
    rng.shuffle(patient_fields)
    sections: dict[int, str] = {}
    last = None
    for i, r in enumerate(results):
        if r.row.section != last:
            title = lex["sections"][lang][r.row.section]
            if choice.content.second_lang:
                title = f"{title} / {lex['sections'][choice.content.second_lang][r.row.section]}"
            sections[i] = title
            last = r.row.section
    comments: dict[int, str] = {}
    for i in range(len(results)):
        if rng.random() < choice.comment_prob and len(comments) < 3:
            comments[i] = rng.choice(lex["comments"][lang])
    town = rng.choice(lex["towns"])
    return DocText(
        lab_name=meta["laboratory"],
        lab_lines=[
            f"{rng.randint(1, 180)}, {rng.choice(lex['streets'])} - {town}",
            f"Tél. +352 {rng.randint(20, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}-1" if lang == "fr" else f"Tel. +352 {rng.randint(20, 99)} {rng.randint(100, 999)}-0",
            f"{rng.choice(lex['validated_by'][lang])}: {meta['biologist']}",
        ],
        title=rng.choice(lex["titles"][lang]),
        patient_name=_name_printed(patient, rng, lang),
        patient_fields=patient_fields,
        request_fields=request_fields,
        running_header=f"{patient.family.upper()} {patient.given} - {birth}",
        footer_left=f"{meta['laboratory']} - {request_fields[3][1]}",
        page_label=pl["page"],
        footnotes=rng.sample(lex["footnotes"][lang], rng.randint(1, 2)),
        validation=f"{rng.choice(lex['validated_by'][lang])} {meta['biologist']}",
        comments=comments,
        sections=sections,
    )


def _person(rng: random.Random, lang: str) -> str:
    lex = load_lexicon()
    given = rng.choice(lex["given_male"] + lex["given_female"])
    return f"{rng.choice(lex['prescriber_titles'][lang])} {given} {rng.choice(lex['family_names'])}"


def _truth(stem: str, layout: str, choice: LayoutChoice, patient: Patient, meta: dict[str, Any], results: list[Result]) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "document": stem,
        "layout": layout,
        "language": choice.content.lang,
        "scanned": False,
        "patient": {
            "family": patient.family,
            "given": patient.given,
            "birth_date": patient.birth_date.isoformat(),
            "sex": patient.sex,
            "national_id": patient.national_id,
        },
        "collection_date": meta["collected"].isoformat(timespec="seconds"),
        "report_date": meta["report"].isoformat(),
        "laboratory": meta["laboratory"],
        "prescriber": meta["prescriber"],
        "observations": [
            {
                "label": r.label,
                "loinc": r.row.loinc,
                "value": r.value,
                "comparator": r.comparator,
                "value_text": r.value_text,
                "unit": r.row.ucum,
                "unit_printed": r.unit_printed,
                "ref_low": r.ref_low,
                "ref_high": r.ref_high,
                "interpretation": r.interpretation,
                "page": r.page,
            }
            for r in results
        ],
    }


def generate_one(out_dir: Path, index: int, seed: int, layout: str) -> Path:
    """Write one `<stem>.pdf` and `<stem>.truth.json`; returns the PDF path."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")
    rng = random.Random(f"pdf2fhir-seeds:{seed}:{index}:{layout}")
    choice = _layout_choice(layout, rng)
    lang = choice.content.lang
    patient = make_patient(rng)
    collected, report = make_dates(rng)
    meta: dict[str, Any] = {
        "collected": collected,
        "report": report,
        "laboratory": rng.choice(load_lexicon()["labs"][lang if layout != "frde_bilingual" else "fr"]),
        "prescriber": _person(rng, lang),
        "biologist": _person(rng, lang),
    }
    rows = choose_rows(lang, choice.sections, patient.sex, rng, choice.keep)
    results = make_results(rows, patient.sex, choice.content, choice.page.family, rng)
    page = choice.page
    if layout == "fr_cumulative":
        dates = sorted({collected.date().toordinal() - rng.randint(20, 700) for _ in range(choice.content.n_previous)}, reverse=True)
        ds = rng.choice(_DATE_STYLE[lang])
        while len(dates) < choice.content.n_previous:
            dates.append(dates[-1] - 30)
        from datetime import date

        headers = dict(page.headers)
        headers["value"] = f"{page.headers['value']}\n{format_date(collected.date(), ds)}"
        for i, d in enumerate(dates):
            headers[f"prev{i}"] = f"{load_lexicon()['headers'][lang]['previous'][0] if i == 0 else ''}\n{format_date(date.fromordinal(d), ds)}"
        page = _replace_page(page, headers=headers)
    doc = _doc_text(choice, patient, results, rng, meta)
    page = fitting_style(results, page, choice.content.flag_mode)
    sheets = plan(doc, results, page, choice.content.flag_mode, rng)
    stem = f"lab-{layout.replace('_', '-')}-{index:04d}"
    out_dir.mkdir(parents=True, exist_ok=True)
    pdf = out_dir / f"{stem}.pdf"
    render_pdf(pdf, sheets, page_size(page.landscape), doc.title, rng.randrange(1 << 30), choice.glyphs)
    truth = _truth(stem, layout, choice, patient, meta, results)
    (out_dir / f"{stem}.truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return pdf


def _replace_page(page: PageStyle, **kw: Any) -> PageStyle:
    from dataclasses import replace

    return replace(page, **kw)


def generate(out_dir: Path, n: int, seed: int, layouts: list[str] | None = None) -> list[Path]:
    """Generate `n` documents cycling through `layouts` (default: all). Returns the PDF paths."""
    chosen = list(layouts) if layouts else list(LAYOUTS)
    return [generate_one(Path(out_dir), i, seed, chosen[i % len(chosen)]) for i in range(n)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m seeds.generate", description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--n", type=int, default=len(LAYOUTS))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--layouts", type=str, default="", help=f"comma-separated subset of: {','.join(LAYOUTS)}")
    args = ap.parse_args(argv)
    layouts = [s.strip() for s in args.layouts.split(",") if s.strip()] or None
    paths = generate(args.out, args.n, args.seed, layouts)
    print(f"wrote {len(paths)} documents to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
