"""Low-level drawing: fonts, a page-independent list of drawing operations, and rendering
those operations with reportlab (optionally one text object per glyph)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

_DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")


@dataclass(frozen=True)
class FontFamily:
    regular: str
    bold: str
    italic: str
    standard: bool  # Type 1 standard font: WinAnsi (cp1252) characters only


_STANDARD = {
    "Helvetica": FontFamily("Helvetica", "Helvetica-Bold", "Helvetica-Oblique", True),
    "Times": FontFamily("Times-Roman", "Times-Bold", "Times-Italic", True),
    "Courier": FontFamily("Courier", "Courier-Bold", "Courier-Oblique", True),
}
_TTF = {
    "DejaVuSans": ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf"),
    "DejaVuSerif": ("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf"),
    "DejaVuSansCondensed": ("DejaVuSansCondensed.ttf", "DejaVuSansCondensed-Bold.ttf", "DejaVuSansCondensed-Oblique.ttf"),
    "DejaVuSansMono": ("DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono-Oblique.ttf"),
}


def available_families() -> tuple[str, ...]:
    ttf = tuple(name for name, files in _TTF.items() if all((_DEJAVU_DIR / f).exists() for f in files))
    return tuple(_STANDARD) + ttf


def font_family(name: str) -> FontFamily:
    if name in _STANDARD:
        return _STANDARD[name]
    files = _TTF[name]
    names = (name, f"{name}-Bold", f"{name}-Italic")
    for font_name, file_name in zip(names, files):
        if font_name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(font_name, str(_DEJAVU_DIR / file_name)))
    return FontFamily(names[0], names[1], names[2], False)


def encodable(text: str, family: FontFamily) -> bool:
    if not family.standard:
        return True
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def text_width(text: str, font: str, size: float) -> float:
    return float(pdfmetrics.stringWidth(text, font, size))


@dataclass(frozen=True)
class TextOp:
    x: float
    y: float  # baseline, reportlab coordinates (origin bottom-left)
    text: str
    font: str
    size: float
    align: str = "l"  # l | r | c


@dataclass(frozen=True)
class LineOp:
    x0: float
    y0: float
    x1: float
    y1: float
    width: float = 0.5


@dataclass(frozen=True)
class RectOp:
    x: float
    y: float
    w: float
    h: float
    width: float = 0.6
    fill_gray: float | None = None  # 0..1, None = no fill


@dataclass(frozen=True)
class CurveOp:
    points: tuple[tuple[float, float], ...]  # bezier control points, groups of 4 sharing ends
    width: float = 0.8


Op = TextOp | LineOp | RectOp | CurveOp


@dataclass
class Sheet:
    """Operations of one page."""

    ops: list[Op] = field(default_factory=list)


@dataclass(frozen=True)
class GlyphMode:
    """Draw each character as its own text object with slightly uneven advances."""

    jitter: float = 0.05  # relative advance jitter
    drop_space_prob: float = 0.6  # probability that a space is only a gap


def page_size(is_landscape: bool) -> tuple[float, float]:
    return landscape(A4) if is_landscape else A4


def _glyph_advances(text: str, font: str, size: float, rng: random.Random, mode: GlyphMode) -> list[float]:
    return [text_width(ch, font, size) * (1.0 + rng.uniform(-mode.jitter * 0.4, mode.jitter)) for ch in text]


def _draw_text(c: Canvas, op: TextOp, glyphs: GlyphMode | None, rng: random.Random) -> None:
    c.setFont(op.font, op.size)
    if glyphs is None:
        if op.align == "r":
            c.drawRightString(op.x, op.y, op.text)
        elif op.align == "c":
            c.drawCentredString(op.x, op.y, op.text)
        else:
            c.drawString(op.x, op.y, op.text)
        return
    advances = _glyph_advances(op.text, op.font, op.size, rng, glyphs)
    total = sum(advances)
    x = op.x - total if op.align == "r" else op.x - total / 2 if op.align == "c" else op.x
    for ch, adv in zip(op.text, advances):
        if ch == " " and rng.random() < glyphs.drop_space_prob:
            x += adv
            continue
        c.drawString(x, op.y + rng.uniform(-0.05, 0.05), ch)
        x += adv


def render_pdf(
    path: Path,
    sheets: list[Sheet],
    size: tuple[float, float],
    title: str,
    producer_seed: int,
    glyphs: GlyphMode | None,
) -> None:
    """Write the sheets to `path` deterministically (reportlab invariant mode)."""
    rng = random.Random(producer_seed)
    c = Canvas(str(path), pagesize=size, invariant=1, pageCompression=1)
    c.setTitle(title)
    c.setAuthor("pdf2fhir seeds")
    c.setCreator("pdf2fhir synthetic report generator")
    for sheet in sheets:
        for op in sheet.ops:
            if isinstance(op, TextOp):
                _draw_text(c, op, glyphs, rng)
            elif isinstance(op, LineOp):
                c.setLineWidth(op.width)
                c.line(op.x0, op.y0, op.x1, op.y1)
            elif isinstance(op, RectOp):
                c.setLineWidth(op.width)
                if op.fill_gray is not None:
                    c.setFillGray(op.fill_gray)
                    c.rect(op.x, op.y, op.w, op.h, stroke=1, fill=1)
                    c.setFillGray(0)
                else:
                    c.rect(op.x, op.y, op.w, op.h, stroke=1, fill=0)
            else:
                c.setLineWidth(op.width)
                pts = op.points
                for i in range(0, len(pts) - 3, 3):
                    (x1, y1), (x2, y2), (x3, y3), (x4, y4) = pts[i : i + 4]
                    c.bezier(x1, y1, x2, y2, x3, y3, x4, y4)
        c.showPage()
    c.save()
