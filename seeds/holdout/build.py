"""Build the hold-out set: `python -m seeds.holdout.build --out DIR --seed N --n 24`.

Documents cycle through `LAYOUTS`; each gets `<stem>.pdf` and `<stem>.truth.json`
(`pdf2fhir-truth/1`, seeds/TRUTH.md). Result pages are located after rendering by
finding the line that carries the result's label and printed value.
"""

from __future__ import annotations

import argparse
import json
import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pdfplumber

from seeds.holdout import fpdf_layouts, html_layouts, platypus_layouts
from seeds.holdout.content import Options, RangeStyle, Report, make_report, truth_json


@dataclass(frozen=True)
class Layout:
    name: str
    producer: str  # chromium | fpdf2 | platypus
    options: Callable[[random.Random], Options]
    render: Callable[[Report, random.Random, Path], None]


def _html(build: Callable[[Report, random.Random], str]) -> Callable[[Report, random.Random, Path], None]:
    def render(report: Report, rng: random.Random, out: Path) -> None:
        html_layouts.html_to_pdf(build(report, rng), out)

    return render


def _fr_style(rng: random.Random) -> RangeStyle:
    return RangeStyle(sep=rng.choice((" - ", " à ", "-", " – ")), upper=rng.choice(("< ", "≤ ", "<")),
                      lower=rng.choice(("> ", "≥ ", ">")))


def _de_style(rng: random.Random) -> RangeStyle:
    return RangeStyle(sep=rng.choice((" - ", "-", " – ")), upper=rng.choice(("< ", "bis ", "<")),
                      lower=rng.choice(("> ", "≥ ", ">")))


def _en_style(rng: random.Random) -> RangeStyle:
    return RangeStyle(sep=rng.choice((" - ", "-", " to ")), upper=rng.choice(("<", "< ", "<= ")),
                      lower=rng.choice((">", "> ", ">= ")))


LAYOUTS: tuple[Layout, ...] = (
    Layout("ho_be_html", "chromium", lambda r: Options(lang="fr", range_style=_fr_style(r)),
           _html(html_layouts.be_html)),
    Layout("ho_en_nhs_html", "chromium",
           lambda r: Options(lang="en", range_style=_en_style(r), thousands=True),
           _html(html_layouts.nhs_html)),
    Layout("ho_de_befund_html", "chromium",
           lambda r: Options(lang="de", range_style=_de_style(r), thousands=True),
           _html(html_layouts.befund_html)),
    Layout("ho_fr_twocol_html", "chromium",
           lambda r: Options(lang="fr", range_style=_fr_style(r), min_sections=5, max_sections=8,
                             upper_labels=r.random() < 0.5),
           _html(html_layouts.twocol_html)),
    Layout("ho_fr_leaders_fpdf", "fpdf2", lambda r: Options(lang="fr", range_style=_fr_style(r)),
           fpdf_layouts.leaders_pdf),
    Layout("ho_de_rangebelow_fpdf", "fpdf2",
           lambda r: Options(lang="de", range_style=_de_style(r), thousands=True),
           fpdf_layouts.rangebelow_pdf),
    Layout("ho_fr_cumul_platypus", "platypus",
           lambda r: Options(lang="fr", range_style=_fr_style(r), history=r.randint(1, 3),
                             sections=("hemato", "diff", "electrolytes", "renal", "metabolism", "liver",
                                       "lipids", "inflammation", "thyroid")),
           platypus_layouts.cumulative_pdf),
    Layout("ho_en_platypus", "platypus",
           lambda r: Options(lang="en", range_style=_en_style(r), thousands=True),
           platypus_layouts.english_pdf),
)
LAYOUT_BY_NAME = {layout.name: layout for layout in LAYOUTS}


# --------------------------------------------------------------------------- page location


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def squash(text: str) -> str:
    return "".join(fold(text).split())


def page_lines(pdf_path: Path) -> list[list[str]]:
    """Per page, its text lines folded and without whitespace."""
    with pdfplumber.open(pdf_path) as pdf:
        return [[squash(line) for line in (page.extract_text() or "").splitlines()] for page in pdf.pages]


def locate_pages(report: Report, lines: list[list[str]]) -> list[int]:
    """Page of each result: first page (not before the previous result's) with a line holding
    both the label and the printed value."""
    pages: list[int] = []
    current = 0
    for result in report.results:
        label, value = squash(result.label), squash(result.shown)
        found = next((i for i in range(current, len(lines))
                      if any(label in line and value in line.replace(label, "", 1) for line in lines[i])), None)
        if found is None:
            raise RuntimeError(f"{report.stem}: result row {result.key} not found in the text layer")
        pages.append(found + 1)
        current = found
    return pages


# --------------------------------------------------------------------------- build


def stem_for(layout: Layout, index: int) -> str:
    return f"{layout.name.replace('_', '-')}-{index:04d}"


def build_one(out_dir: Path, seed: int, index: int, layout: Layout) -> Path:
    rng = random.Random(f"holdout:{seed}:{index}:{layout.name}")
    stem = stem_for(layout, index)
    report = make_report(rng, stem, layout.name, layout.options(rng))
    pdf_path = out_dir / f"{stem}.pdf"
    layout.render(report, rng, pdf_path)
    truth = truth_json(report, locate_pages(report, page_lines(pdf_path)))
    (out_dir / f"{stem}.truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n",
                                                encoding="utf-8")
    return pdf_path


def build(out_dir: Path, n: int, seed: int, layouts: list[str] | None = None) -> list[Path]:
    chosen = [LAYOUT_BY_NAME[name] for name in layouts] if layouts else list(LAYOUTS)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [build_one(out_dir, seed, i, chosen[i % len(chosen)]) for i in range(n)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--n", type=int, default=24)
    parser.add_argument("--layouts", default="", help="comma-separated subset of " + ", ".join(LAYOUT_BY_NAME))
    args = parser.parse_args(argv)
    names = [x for x in args.layouts.split(",") if x] or None
    for path in build(args.out, args.n, args.seed, names):
        print(path.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
