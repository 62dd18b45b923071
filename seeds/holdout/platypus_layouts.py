"""Hold-out layouts built with reportlab platypus (SimpleDocTemplate + Table + TableStyle)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from seeds.holdout.content import Comment, Report, Result

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
TTF = {
    "HoSans": "DejaVuSans.ttf", "HoSans-Bold": "DejaVuSans-Bold.ttf", "HoSans-Oblique": "DejaVuSans-Oblique.ttf",
    "HoSerif": "DejaVuSerif.ttf", "HoSerif-Bold": "DejaVuSerif-Bold.ttf", "HoSerif-Oblique": "DejaVuSerif-Italic.ttf",
    "HoCond": "DejaVuSansCondensed.ttf", "HoCond-Bold": "DejaVuSansCondensed-Bold.ttf",
    "HoCond-Oblique": "DejaVuSansCondensed-Oblique.ttf",
}


def register_fonts() -> None:
    for name, file in TTF.items():
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(DEJAVU / file)))


def _footer(text: str, page_word: str, font: str) -> Any:
    def draw(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(font, 7)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(doc.leftMargin, 10 * mm, text)
        canvas.drawRightString(A4[0] - doc.rightMargin, 10 * mm, f"{page_word} {canvas.getPageNumber()}")
        canvas.restoreState()

    return draw


def _doc(out: Path, margin: float) -> SimpleDocTemplate:
    return SimpleDocTemplate(str(out), pagesize=A4, leftMargin=margin, rightMargin=margin, topMargin=14 * mm,
                             bottomMargin=18 * mm, invariant=1, title="Compte rendu", author="")


# --------------------------------------------------------------------------- ho_fr_cumul_platypus


def cumulative_pdf(report: Report, rng: random.Random, out: Path) -> None:
    """French cumulative table; the rightmost value column is the current one (its header date
    equals the collection date), earlier dates to its left."""
    register_fonts()
    font = rng.choice(("HoSans", "HoSerif", "HoCond"))
    size = rng.choice((7.5, 8.0, 8.5, 9.0))
    grid = rng.random() < 0.5
    p = report.patient
    head = ParagraphStyle("h", fontName=f"{font}-Bold", fontSize=size + 4, leading=size + 7)
    body = ParagraphStyle("b", fontName=font, fontSize=size, leading=size + 3)
    small = ParagraphStyle("s", parent=body, fontSize=size - 1, leading=size + 1.5,
                           textColor=colors.HexColor("#444444"))
    story: list[Flowable] = [
        Paragraph(report.lab.name, head),
        Paragraph(f"{report.lab.address} — Tél. {report.lab.phone}", small),
        Spacer(1, 4 * mm),
    ]
    civ = "Madame" if p.sex == "female" else "Monsieur"
    info = [
        [f"{civ} {p.family.upper()} {p.given}", f"Dossier : {report.request_id}"],
        [f"Né(e) le {p.birth_date:%d/%m/%Y}", f"Prélèvement du {report.collected:%d/%m/%Y} à {report.collected:%H:%M}"],
        [f"Matricule : {p.national_id}", f"Validé le {report.reported:%d/%m/%Y}"],
        [f"Prescripteur : {report.prescriber}", ""],
    ]
    info_table = Table(info, colWidths=[90 * mm, 80 * mm])
    info_table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), font, size + 0.5),
                                    ("FONT", (0, 0), (0, 0), f"{font}-Bold", size + 1),
                                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1), ("TOPPADDING", (0, 0), (-1, -1), 1)]))
    story += [info_table, Spacer(1, 5 * mm), Paragraph("<b>Résultats et antériorités</b>", body), Spacer(1, 2 * mm)]

    dates = [f"{d:%d/%m/%y}" for d in report.history_dates] + [f"{report.collected:%d/%m/%y}"]
    header = ["Analyse", *dates, "Unités", "Valeurs de référence"]
    ncol = len(header)
    current = ncol - 3
    data: list[list[str]] = [header]
    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), font, size),
        ("FONT", (0, 0), (-1, 0), f"{font}-Bold", size),
        ("FONT", (current, 1), (current, -1), f"{font}-Bold", size),
        ("ALIGN", (1, 0), (current, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("TOPPADDING", (0, 0), (-1, -1), 1.2), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.2),
        ("TEXTCOLOR", (1, 1), (current - 1, -1), colors.HexColor("#555555")),
    ]
    if grid:
        style.append(("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#888888")))
    zebra: list[int] = []
    for section in report.sections:
        style += [("SPAN", (0, len(data)), (-1, len(data))),
                  ("FONT", (0, len(data)), (-1, len(data)), f"{font}-Bold", size + 0.5),
                  ("BACKGROUND", (0, len(data)), (-1, len(data)), colors.HexColor("#dde4ee"))]
        data.append([section.title] + [""] * (ncol - 1))
        for row in section.rows:
            if isinstance(row, Comment):
                style += [("SPAN", (0, len(data)), (-1, len(data))),
                          ("FONT", (0, len(data)), (-1, len(data)), f"{font}-Oblique", size - 0.5)]
                data.append([row.text] + [""] * (ncol - 1))
                continue
            zebra.append(len(data))
            data.append([row.label, *row.history, _cumul_value(row), row.unit_printed or "", row.range_text])
    style += [("BACKGROUND", (0, i), (-1, i), colors.HexColor("#f4f4f4")) for i in zebra[1::2]]
    widths = [50 * mm] + [17 * mm] * current + [24 * mm, 30 * mm]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle(style))
    story += [table, Spacer(1, 4 * mm),
              Paragraph("Colonne en gras : résultats du jour. * : résultat hors valeurs de référence.", small)]
    doc = _doc(out, 14 * mm)
    footer = _footer(f"{report.lab.name} — {report.lab.address}", "Page", font)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)


def _cumul_value(row: Result) -> str:
    return f"{row.shown} *" if row.flag else row.shown


# --------------------------------------------------------------------------- ho_en_platypus


def english_pdf(report: Report, rng: random.Random, out: Path) -> None:
    """English report: Analyte | Result | Units | Reference Interval, flag glued to the result."""
    register_fonts()
    font = rng.choice(("HoSerif", "HoSans"))
    size = rng.choice((8.0, 8.5, 9.0, 9.5))
    glue = rng.choice(("", " "))
    p = report.patient
    head = ParagraphStyle("h", fontName=f"{font}-Bold", fontSize=size + 4, leading=size + 7)
    small = ParagraphStyle("s", fontName=font, fontSize=size - 1, leading=size + 1.5,
                           textColor=colors.HexColor("#444444"))
    story: list[Flowable] = [Paragraph(report.lab.name, head),
                             Paragraph(f"{report.lab.address}. Tel: {report.lab.phone}", small),
                             Spacer(1, 4 * mm)]
    pt = [["Patient", f"{p.family.upper()}, {p.given}", "Specimen collected", f"{report.collected:%d %b %Y %H:%M}"],
          ["Date of birth", f"{p.birth_date:%d %b %Y}", "Report date", f"{report.reported:%d %b %Y}"],
          ["Sex", "F" if p.sex == "female" else "M", "Accession", report.request_id],
          ["Health & Care No.", p.national_id, "Requesting clinician", report.prescriber]]
    pt_table = Table(pt, colWidths=[32 * mm, 52 * mm, 36 * mm, 58 * mm])
    pt_table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), font, size),
                                  ("FONT", (1, 0), (1, 0), f"{font}-Bold", size),
                                  ("TEXTCOLOR", (0, 0), (0, -1), colors.HexColor("#555555")),
                                  ("TEXTCOLOR", (2, 0), (2, -1), colors.HexColor("#555555")),
                                  ("BOX", (0, 0), (-1, -1), 0.8, colors.black),
                                  ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]))
    story += [pt_table, Spacer(1, 5 * mm)]
    data: list[list[str]] = [["Analyte", "Result", "Units", "Reference Interval"]]
    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), font, size),
        ("FONT", (0, 0), (-1, 0), f"{font}-Bold", size),
        ("LINEABOVE", (0, 0), (-1, 0), 0.8, colors.black),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.0), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.0),
    ]
    for section in report.sections:
        i = len(data)
        style += [("SPAN", (0, i), (-1, i)), ("FONT", (0, i), (-1, i), f"{font}-Bold", size + 0.5),
                  ("TOPPADDING", (0, i), (-1, i), 5), ("LINEBELOW", (0, i), (-1, i), 0.3, colors.grey)]
        data.append([section.title.upper(), "", "", ""])
        for row in section.rows:
            if isinstance(row, Comment):
                style += [("SPAN", (0, len(data)), (-1, len(data))),
                          ("FONT", (0, len(data)), (-1, len(data)), f"{font}-Oblique", size - 0.5)]
                data.append([f"    {row.text}", "", "", ""])
                continue
            flag = {"H": "H", "L": "L", "A": "*"}.get(row.flag or "", "")
            shown = f"{row.shown}{glue}{flag}" if flag else row.shown
            if flag:
                style.append(("FONT", (1, len(data)), (1, len(data)), f"{font}-Bold", size))
            data.append([row.label, shown, row.unit_printed or "", row.range_text])
    table = Table(data, colWidths=[62 * mm, 28 * mm, 34 * mm, 42 * mm], repeatRows=1)
    table.setStyle(TableStyle(style))
    story += [table, Spacer(1, 4 * mm),
              Paragraph("H = high, L = low, * = abnormal result. Tests marked as accredited are UKAS "
                        "accredited. This report has been electronically authorised.", small)]
    doc = _doc(out, 16 * mm)
    footer = _footer(f"{report.lab.name} | {report.lab.phone}", "Page", font)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
