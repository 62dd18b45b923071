"""Small reportlab-drawn lab reports for the OCR / routing / scan tests (fictitious data)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

LABELS = {
    "fr": [
        ("Hémoglobine", "g/dl", "12,0 - 16,0"),
        ("Hématocrite", "%", "36 - 46"),
        ("Leucocytes", "G/l", "4,0 - 10,0"),
        ("Plaquettes", "G/l", "150 - 400"),
        ("Glucose à jeun", "mg/dl", "70 - 100"),
        ("Créatinine", "mg/dl", "0,50 - 0,90"),
        ("Potassium", "mmol/l", "3,5 - 5,1"),
        ("Sodium", "mmol/l", "136 - 145"),
        ("Cholestérol total", "mg/dl", "< 190"),
        ("Triglycérides", "mg/dl", "< 150"),
        ("Ferritine", "µg/l", "15 - 150"),
        ("TSH", "mUI/l", "0,27 - 4,20"),
    ],
    "de": [
        ("Hämoglobin", "g/dl", "12,0 - 16,0"),
        ("Hämatokrit", "%", "36 - 46"),
        ("Leukozyten", "G/l", "4,0 - 10,0"),
        ("Thrombozyten", "G/l", "150 - 400"),
        ("Glukose nüchtern", "mg/dl", "70 - 100"),
        ("Kreatinin", "mg/dl", "0,50 - 0,90"),
        ("Kalium", "mmol/l", "3,5 - 5,1"),
        ("Natrium", "mmol/l", "136 - 145"),
        ("Cholesterin gesamt", "mg/dl", "< 190"),
        ("Triglyceride", "mg/dl", "< 150"),
        ("Ferritin", "µg/l", "15 - 150"),
        ("TSH", "mU/l", "0,27 - 4,20"),
    ],
}
HEADERS = {
    "fr": ("Laboratoire d'analyses médicales", "Compte rendu des examens de biologie", "Analyse", "Résultat", "Unité", "Valeurs de référence"),
    "de": ("Medizinisches Labor für die Region", "Befundbericht der Laboruntersuchungen", "Untersuchung", "Ergebnis", "Einheit", "Referenzbereich"),
}
INTRO = {
    "fr": "Les résultats ci-dessous ont été validés par le biologiste et sont transmis au médecin.",
    "de": "Die folgenden Ergebnisse wurden vom Laborarzt freigegeben und an den Arzt übermittelt.",
}


@dataclass(frozen=True)
class DrawnReport:
    path: Path
    values: tuple[str, ...]  # the numeric result strings as printed


def _value(rng: random.Random, ref: str) -> str:
    nums = [float(t.replace(",", ".")) for t in ref.replace("<", "").split(" - ")]
    hi = nums[-1]
    lo = nums[0] if len(nums) > 1 else hi / 2
    v = rng.uniform(lo * 0.8, hi * 1.2)
    decimals = len(ref.split(",")[1].split()[0]) if "," in ref else 0
    return f"{v:.{decimals}f}".replace(".", ",")


def draw_report(path: Path, lang: str = "fr", seed: int = 1, pages: int = 1, font_size: float = 10.0) -> DrawnReport:
    """A one-table lab report on A4, ruled like many real reports."""
    rng = random.Random(seed)
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    width, height = A4
    values: list[str] = []
    title, subtitle, *cols = HEADERS[lang]
    for _ in range(pages):
        c.setFont("Helvetica-Bold", 14)
        c.drawString(60, height - 70, title)
        c.setFont("Helvetica", 11)
        c.drawString(60, height - 90, subtitle)
        c.setFont("Helvetica", font_size)
        c.drawString(60, height - 115, INTRO[lang])
        xs = (60, 250, 340, 430)
        y = height - 150
        c.setFont("Helvetica-Bold", font_size)
        for x, col in zip(xs, cols):
            c.drawString(x, y, col)
        c.setLineWidth(0.8)
        c.line(55, y - 5, 545, y - 5)
        c.setFont("Helvetica", font_size)
        for label, unit, ref in LABELS[lang]:
            y -= font_size * 2.0
            value = _value(rng, ref)
            values.append(value)
            for x, text in zip(xs, (label, value, unit, ref)):
                c.drawString(x, y, text)
            c.setLineWidth(0.3)
            c.line(55, y - 6, 545, y - 6)
        c.showPage()
    c.save()
    return DrawnReport(path=path, values=tuple(values))
