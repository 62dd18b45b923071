"""Hold-out layouts written with fpdf2 (its own text placement and font subsetting)."""

from __future__ import annotations

import random
from datetime import datetime, timezone
from pathlib import Path

import fpdf
from fpdf import FPDF

from seeds.holdout.content import Comment, Report, Result

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
FAMILIES = {
    "DejaVu Sans": ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf"),
    "DejaVu Serif": ("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf"),
    "DejaVu Sans Condensed": ("DejaVuSansCondensed.ttf", "DejaVuSansCondensed-Bold.ttf",
                              "DejaVuSansCondensed-Oblique.ttf"),
}
FIXED_DATE = datetime(2025, 1, 1, tzinfo=timezone.utc)


class ReportPDF(FPDF):
    """A4 page with a running header line and a footer (address, phone, page x/y)."""

    def __init__(self, family: str, running: str, footer: str, page_label: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        regular, bold, italic = FAMILIES[family]
        self.add_font("body", "", str(DEJAVU / regular))
        self.add_font("body", "B", str(DEJAVU / bold))
        self.add_font("body", "I", str(DEJAVU / italic))
        self.running = running
        self.footer_text = footer
        self.page_label = page_label
        self.set_creation_date(FIXED_DATE)
        self.set_producer(f"PyFPDF/fpdf{fpdf.FPDF_VERSION}")
        self.set_auto_page_break(auto=True, margin=22)
        self.set_margins(16, 14, 16)

    def header(self) -> None:
        if self.page_no() > 1:
            self.set_font("body", "", 7.5)
            self.set_text_color(90, 90, 90)
            self.cell(0, 4, self.running, new_x="LMARGIN", new_y="NEXT")
            self.set_draw_color(150, 150, 150)
            self.line(self.l_margin, self.get_y() + 0.5, self.w - self.r_margin, self.get_y() + 0.5)
            self.ln(3)
            self.set_text_color(0, 0, 0)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("body", "", 7)
        self.set_text_color(90, 90, 90)
        self.cell(0, 4, self.footer_text, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 4, self.page_label.format(page=self.page_no(), nb="{nb}"), align="R")
        self.set_text_color(0, 0, 0)


# --------------------------------------------------------------------------- ho_fr_leaders_fpdf


def leaders_pdf(report: Report, rng: random.Random, out: Path) -> None:
    """French report: 'Hémoglobine ........ 13,2  g/dl   (12,0 - 16,0)' rows with dotted leaders."""
    family = rng.choice(("DejaVu Sans", "DejaVu Serif"))
    size = rng.choice((8.5, 9.0, 9.5, 10.0))
    flag_mark = rng.choice(({"H": "H", "L": "B", "A": "*"}, {"H": "*", "L": "*", "A": "*"}))
    p = report.patient
    running = f"{p.family.upper()} {p.given} - né(e) le {p.birth_date:%d/%m/%Y} - dossier {report.request_id}"
    pdf = ReportPDF(family, running, f"{report.lab.name} · {report.lab.address} · Tél. {report.lab.phone}",
                    "Page {page}/{nb}")
    pdf.add_page()
    pdf.set_font("body", "B", size + 4)
    pdf.cell(0, 7, report.lab.name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("body", "", size - 1)
    pdf.cell(0, 4.5, report.lab.address, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("body", "", size)
    top = pdf.get_y()
    for text in (f"Demande n° {report.request_id}", f"Prescripteur : {report.prescriber}",
                 f"Prélevé le {report.collected:%d/%m/%Y} à {report.collected:%H:%M}",
                 f"Compte rendu du {report.reported:%d/%m/%Y}"):
        pdf.cell(80, 5, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(110, top)
    civ = "Mme" if p.sex == "female" else "M."
    for text in (f"{civ} {p.family.upper()} {p.given}", f"Né(e) le : {p.birth_date:%d/%m/%Y}",
                 f"Matricule : {p.national_id}"):
        pdf.set_x(110)
        pdf.set_font("body", "B" if text.startswith(civ) else "", size)
        pdf.cell(80, 5, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    value_right = 120.0  # right edge of the value
    flag_x, unit_x, range_x = 122.0, 128.0, 160.0
    for section in report.sections:
        if pdf.get_y() > pdf.h - 45:
            pdf.add_page()
        pdf.set_font("body", "B", size + 1)
        pdf.cell(0, 6, section.title.upper(), new_x="LMARGIN", new_y="NEXT")
        y = pdf.get_y()
        pdf.line(pdf.l_margin, y, pdf.l_margin + 60, y)
        pdf.ln(1.5)
        for row in section.rows:
            if isinstance(row, Comment):
                pdf.set_font("body", "I", size - 1)
                pdf.set_x(pdf.l_margin + 6)
                pdf.cell(0, 4.5, row.text, new_x="LMARGIN", new_y="NEXT")
                continue
            _leader_row(pdf, row, size, value_right, unit_x, flag_x, range_x, flag_mark)
        pdf.ln(2)
    pdf.ln(4)
    pdf.set_font("body", "I", size - 1.5)
    pdf.multi_cell(0, 4, "Valeurs de référence entre parenthèses. " +
                   ("H : valeur haute, B : valeur basse, * : anormal." if flag_mark["H"] == "H"
                    else "* : valeur hors des limites de référence."))
    pdf.output(str(out))


def _leader_row(pdf: FPDF, row: Result, size: float, value_right: float, unit_x: float, flag_x: float,
                range_x: float, flag_mark: dict[str, str]) -> None:
    pdf.set_font("body", "", size)
    y = pdf.get_y()
    x0 = pdf.l_margin
    label_w = pdf.get_string_width(row.label + " ")
    pdf.set_font("body", "B" if row.flag else "", size)
    value_w = pdf.get_string_width(row.shown)
    pdf.set_font("body", "", size)
    dot_w = pdf.get_string_width(".")
    dots = max(3, int((value_right - value_w - 2 - x0 - label_w) / dot_w))
    pdf.set_xy(x0, y)
    pdf.cell(label_w + dots * dot_w, 5, f"{row.label} {'.' * dots}")
    pdf.set_font("body", "B" if row.flag else "", size)
    pdf.set_xy(value_right - value_w, y)
    pdf.cell(value_w, 5, row.shown)
    pdf.set_font("body", "", size)
    if row.unit_printed:
        pdf.set_xy(unit_x, y)
        pdf.cell(15, 5, row.unit_printed)
    if row.flag:
        pdf.set_xy(flag_x, y)
        pdf.set_font("body", "B", size)
        pdf.cell(5, 5, flag_mark[row.flag])
        pdf.set_font("body", "", size)
    if row.range_text:
        pdf.set_xy(range_x, y)
        pdf.cell(40, 5, f"({row.range_text})")
    pdf.set_xy(x0, y + 5)


# --------------------------------------------------------------------------- ho_de_rangebelow_fpdf


def rangebelow_pdf(report: Report, rng: random.Random, out: Path) -> None:
    """German report: result on one line, reference range on the smaller line under it."""
    family = rng.choice(("DejaVu Sans Condensed", "DejaVu Serif", "DejaVu Sans"))
    size = rng.choice((8.5, 9.0, 10.0))
    ref_word = rng.choice(("Referenzbereich:", "Norm:", "Ref.:"))
    flags = rng.choice(({"H": "H", "L": "L", "A": "!"}, {"H": "+", "L": "-", "A": "+"}))
    p = report.patient
    running = f"{p.family}, {p.given} (* {p.birth_date:%d.%m.%Y}) - Auftrag {report.request_id}"
    pdf = ReportPDF(family, running, f"{report.lab.name} | {report.lab.address} | Tel. {report.lab.phone}",
                    "Seite {page} von {nb}")
    pdf.add_page()
    pdf.set_font("body", "B", size + 3)
    pdf.cell(0, 7, report.lab.name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("body", "", size - 1)
    pdf.cell(0, 4.5, f"{report.lab.address} - Telefon {report.lab.phone}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    box_top = pdf.get_y()
    pdf.set_font("body", "", size)
    pairs = (("Name:", p.family), ("Vorname:", p.given), ("Geburtsdatum:", f"{p.birth_date:%d.%m.%Y}"),
             ("Geschlecht:", "W" if p.sex == "female" else "M"), ("Matrikel:", p.national_id))
    for key, value in pairs:
        pdf.set_x(pdf.l_margin + 2)
        pdf.cell(28, 5, key)
        pdf.set_font("body", "B", size)
        pdf.cell(60, 5, value, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("body", "", size)
    pdf.rect(pdf.l_margin, box_top - 1, 90, pdf.get_y() - box_top + 2)
    pdf.set_xy(112, box_top)
    for text in (f"Auftrag: {report.request_id}", f"Entnahme: {report.collected:%d.%m.%Y %H:%M}",
                 f"Befund vom: {report.reported:%d.%m.%Y}", f"Einsender: {report.prescriber}"):
        pdf.set_x(112)
        pdf.cell(80, 5, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(box_top + 31)
    pdf.set_font("body", "B", size + 2)
    pdf.cell(0, 7, "Befundbericht", new_x="LMARGIN", new_y="NEXT")
    value_right, flag_x, unit_x = 112.0, 115.0, 122.0
    for section in report.sections:
        if pdf.get_y() > pdf.h - 45:
            pdf.add_page()
        pdf.set_font("body", "B", size)
        pdf.set_fill_color(225, 225, 225)
        pdf.cell(0, 5.5, section.title, fill=True, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        for row in section.rows:
            if isinstance(row, Comment):
                pdf.set_font("body", "I", size - 1)
                pdf.multi_cell(0, 4.5, row.text, new_x="LMARGIN", new_y="NEXT")
                continue
            if pdf.get_y() > pdf.h - 32:
                pdf.add_page()
            y = pdf.get_y()
            pdf.set_font("body", "", size)
            pdf.cell(80, 5, row.label)
            pdf.set_font("body", "B" if row.flag else "", size)
            w = pdf.get_string_width(row.shown)
            pdf.set_xy(value_right - w, y)
            pdf.cell(w, 5, row.shown)
            if row.flag:
                pdf.set_xy(flag_x, y)
                pdf.cell(5, 5, flags[row.flag])
            pdf.set_font("body", "", size)
            if row.unit_printed:
                pdf.set_xy(unit_x, y)
                pdf.cell(30, 5, row.unit_printed)
            pdf.set_xy(pdf.l_margin + 6, y + 4.6)
            pdf.set_font("body", "", size - 2)
            pdf.set_text_color(100, 100, 100)
            pdf.cell(0, 3.8, f"{ref_word} {row.range_text}", new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(0, 0, 0)
            pdf.ln(0.8)
        pdf.ln(2)
    pdf.ln(3)
    pdf.set_font("body", "", size - 1)
    pdf.multi_cell(0, 4.5, "Befund elektronisch freigegeben. Werte außerhalb des Referenzbereichs sind "
                   f"mit {flags['H']} / {flags['L']} gekennzeichnet.")
    pdf.output(str(out))
