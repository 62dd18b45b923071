"""Tiny lab-report PDFs for tests, drawn with reportlab from a spec (fictitious data only).

Coordinates are in PDF points with ``y`` measured **down from the top of the page** (the
convention of pdfplumber and ``models.BBox``), so a test reads like the page it describes.

Two levels:

- ``Text`` / ``Rule`` items on ``PageSpec`` pages, drawn by ``build_pdf`` — full control,
  including per-glyph placement (``glyph_jitter``: every glyph its own text object, uneven
  advances, no space glyphs), overprinted fake bold and rotated text;
- ``ReportBuilder`` — a cursor that lays out a header block, table rows at given x
  positions, section lines, ruling lines, page breaks and a per-page footer.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

A4 = (595.28, 841.89)
_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


def ensure_font(name: str) -> str:
    """Register a DejaVu TrueType font (for characters outside WinAnsi, e.g. arrows)."""
    files = {"DejaVuSans": "DejaVuSans.ttf", "DejaVuSans-Bold": "DejaVuSans-Bold.ttf"}
    if name in files and name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, str(_DEJAVU / files[name])))
    return name


def text_width(text: str, font: str = "Helvetica", size: float = 10.0) -> float:
    return float(pdfmetrics.stringWidth(text, ensure_font(font), size))


@dataclass(frozen=True)
class Text:
    """One string at (x, baseline y from the top)."""

    x: float
    y: float
    text: str
    font: str = "Helvetica"
    size: float = 10.0
    # per-glyph placement: each glyph drawn alone, advance = glyph width + jitter (em),
    # spaces are not drawn but advance by ``space_em``
    glyph_jitter: float | None = None
    space_em: float = 0.28
    seed: int = 0
    overprint: float | None = None  # draw again shifted right by this many points (fake bold)
    angle: float = 0.0  # degrees counter-clockwise


@dataclass(frozen=True)
class Rule:
    """A horizontal line at y (from the top)."""

    y: float
    x0: float = 40.0
    x1: float = 555.0
    width: float = 0.5


@dataclass
class PageSpec:
    items: list[Text | Rule] = field(default_factory=list)
    size: tuple[float, float] = A4


def _draw_glyphs(c: Canvas, t: Text, baseline: float) -> None:
    rng = random.Random(t.seed)
    x = t.x
    for ch in t.text:
        if ch == " ":
            x += t.space_em * t.size
            continue
        c.setFont(t.font, t.size)
        c.drawString(x, baseline, ch)
        x += text_width(ch, t.font, t.size) + rng.uniform(-1.0, 1.0) * (t.glyph_jitter or 0.0) * t.size


def _draw_text(c: Canvas, t: Text, height: float) -> None:
    ensure_font(t.font)
    baseline = height - t.y
    if t.angle:
        c.saveState()
        c.translate(t.x, baseline)
        c.rotate(t.angle)
        c.setFont(t.font, t.size)
        c.drawString(0, 0, t.text)
        c.restoreState()
        return
    if t.glyph_jitter is not None:
        _draw_glyphs(c, t, baseline)
    else:
        c.setFont(t.font, t.size)
        c.drawString(t.x, baseline, t.text)
    if t.overprint is not None:
        c.setFont(t.font, t.size)
        c.drawString(t.x + t.overprint, baseline, t.text)


def build_pdf(path: Path, pages: Sequence[PageSpec]) -> Path:
    """Draw ``pages`` into ``path`` (deterministic bytes: invariant mode)."""
    c = Canvas(str(path), pagesize=pages[0].size if pages else A4, invariant=1)
    for page in pages:
        c.setPageSize(page.size)
        height = page.size[1]
        for item in page.items:
            if isinstance(item, Rule):
                c.setLineWidth(item.width)
                c.line(item.x0, height - item.y, item.x1, height - item.y)
            else:
                _draw_text(c, item, height)
        c.showPage()
    c.save()
    return path


Cell = str | tuple[str, str]  # text, or (text, font)


class ReportBuilder:
    """Lay out a report line by line from the top; ``save`` writes the PDF.

    ``footer`` is drawn at the bottom of every page; ``{page}`` and ``{pages}`` in it are
    replaced by the page number and the page count.
    """

    def __init__(
        self,
        *,
        size: tuple[float, float] = A4,
        font: str = "Helvetica",
        font_size: float = 9.5,
        leading: float = 15.0,
        top: float = 60.0,
        ruled: bool = False,
        header: Sequence[str] = (),
        footer: Sequence[str] = (),
    ) -> None:
        self.size = size
        self.font = font
        self.font_size = font_size
        self.leading = leading
        self.top = top
        self.ruled = ruled
        self.header = list(header)  # repeated page header lines
        self.footer = list(footer)
        self.pages: list[PageSpec] = []
        self.y = 0.0
        self.new_page()

    # -- layout
    def new_page(self) -> ReportBuilder:
        self.pages.append(PageSpec(size=self.size))
        self.y = self.top
        for text in self.header:
            self._put(Text(40, self.y, text, self.font, self.font_size))
            self.y += self.leading
        if self.header:
            self.y += self.leading
        return self

    def _put(self, item: Text | Rule) -> None:
        self.pages[-1].items.append(item)

    def skip(self, lines: float = 1.0) -> ReportBuilder:
        self.y += lines * self.leading
        return self

    def text(self, text: str, x: float = 40.0, *, font: str | None = None, size: float | None = None, **kw: object) -> ReportBuilder:
        """One line of text at the cursor."""
        self._put(Text(x, self.y, text, font or self.font, size or self.font_size, **kw))  # type: ignore[arg-type]
        self.y += self.leading
        return self

    def cells(self, xs: Sequence[float], cells: Sequence[Cell | None], *, font: str | None = None, size: float | None = None, rule: bool | None = None, **kw: object) -> ReportBuilder:
        """One line with ``cells[i]`` at ``xs[i]`` (None or '' leaves the cell empty)."""
        for x, cell in zip(xs, cells, strict=True):
            if not cell:
                continue
            text, f = (cell, font or self.font) if isinstance(cell, str) else cell
            self._put(Text(x, self.y, text, f, size or self.font_size, **kw))  # type: ignore[arg-type]
        if self.ruled if rule is None else rule:
            self._put(Rule(self.y + 4.5))
        self.y += self.leading
        return self

    def rule(self, offset: float = -11.0) -> ReportBuilder:
        self._put(Rule(self.y + offset))
        return self

    def save(self, path: Path) -> Path:
        n = len(self.pages)
        for i, page in enumerate(self.pages, start=1):
            y = self.size[1] - 40 - self.leading * (len(self.footer) - 1)
            for line in self.footer:
                page.items.append(Text(40, y, line.format(page=i, pages=n), self.font, 8.0))
                y += self.leading
        return build_pdf(path, self.pages)


# ---------------------------------------------------------------------- ready-made parts

PATIENT_FR = (
    "Patient : SCHMIT Anne",
    "Né(e) le : 14/03/1962        Sexe : F",
    "Prélèvement le : 12/03/2024 à 08:15",
)
COLS = (40.0, 230.0, 320.0, 400.0)  # label, value, unit, range


def simple_report(
    rows: Sequence[Sequence[Cell | None]],
    *,
    head: Sequence[str] = ("Analyse", "Résultat", "Unité", "Valeurs de référence"),
    xs: Sequence[float] = COLS,
    patient: Sequence[str] = PATIENT_FR,
    lab: str = "Laboratoire Central d'Analyses",
    ruled: bool = False,
    font: str = "Helvetica",
) -> ReportBuilder:
    """A one-page report: laboratory line, patient block, a header row and ``rows``."""
    b = ReportBuilder(ruled=ruled, font=font)
    b.text(lab, font="Helvetica-Bold", size=13).skip(0.5)
    for line in patient:
        b.text(line)
    b.skip()
    if head:
        b.cells(xs, list(head), font="Helvetica-Bold" if font == "Helvetica" else font)
    for row in rows:
        b.cells(xs, list(row))
    return b


def good_report(path: Path, n: int = 0, *, family: str = "SCHMIT", given: str = "Anne", value: str = "13,2") -> Path:
    """A valid one-page report with three results; ``n`` varies the bytes (dates, values)."""
    patient = (f"Patient : {family} {given}", "Né(e) le : 14/03/1962        Sexe : F", f"Prélèvement le : {10 + n % 18:02d}/03/2024 à 08:15")
    rows = [("Hémoglobine", value, "g/dl", "12,0 - 16,0"), ("Sodium", str(136 + n % 9), "mmol/l", "136 - 145"), ("Potassium", f"4,{n % 10}", "mmol/l", "3,5 - 5,1")]
    return simple_report(rows, patient=patient).save(path)
