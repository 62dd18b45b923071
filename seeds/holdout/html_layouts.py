"""Hold-out layouts produced by Chromium's print-to-PDF from HTML + CSS."""

from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
from html import escape
from pathlib import Path

from seeds.holdout.content import Comment, Report, Result, Section

FONTS_SANS = ("DejaVu Sans", "Liberation Sans", "DejaVu Sans Condensed")
FONTS_SERIF = ("DejaVu Serif", "Liberation Serif")


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise RuntimeError("chromium not found: apt-get install -y chromium")


def html_to_pdf(html: str, out: Path, timeout: float = 120.0) -> None:
    """Print an HTML string to `out` with headless Chromium (no header/footer of its own)."""
    with tempfile.TemporaryDirectory(prefix="ho-chromium-") as tmp:
        src = Path(tmp) / "report.html"
        src.write_text(html, encoding="utf-8")
        profile = Path(tmp) / "profile"
        cmd = [chromium_binary(), "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--no-first-run", f"--user-data-dir={profile}", f"--print-to-pdf={out}",
               "--no-pdf-header-footer", src.as_uri()]
        subprocess.run(cmd, check=True, capture_output=True, timeout=timeout)
    if not out.exists() or out.stat().st_size == 0:
        raise RuntimeError(f"chromium produced no PDF for {out.name}")


def e(text: str) -> str:
    return escape(text, quote=True)


def fr_date(d: object) -> str:
    return f"{d:%d/%m/%Y}"


def de_date(d: object) -> str:
    return f"{d:%d.%m.%Y}"


def page_css(font: str, size: float, footer_left: str, footer_right: str, margin_mm: int = 14) -> str:
    return f"""
@page {{ size: A4; margin: {margin_mm}mm {margin_mm}mm 18mm {margin_mm}mm;
  @bottom-left {{ content: "{footer_left}"; font-family: '{font}'; font-size: 7pt; color: #555; }}
  @bottom-right {{ content: "{footer_right}"; font-family: '{font}'; font-size: 7pt; color: #555; }} }}
body {{ font-family: '{font}'; font-size: {size}pt; color: #111; margin: 0; }}
table {{ border-collapse: collapse; }}
h1 {{ font-size: {size + 4}pt; margin: 0 0 2mm 0; }}
.small {{ font-size: {size - 1.5}pt; color: #444; }}
.comment {{ font-style: italic; color: #333; }}
"""


def css_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


# --------------------------------------------------------------------------- ho_be_html


def be_html(report: Report, rng: random.Random) -> str:
    """Belgian French report, ruled table: Analyse | Valeurs de référence | Unité | Résultat."""
    font = rng.choice(FONTS_SERIF + FONTS_SANS[:1])
    size = rng.choice((8.5, 9.0, 9.5, 10.0))
    flag_style = rng.choice(("letter", "star", "bold"))
    p = report.patient
    footer_left = css_text(f"{report.lab.name} - {report.lab.address} - Tél. {report.lab.phone}")
    css = page_css(font, size, footer_left, 'Page " counter(page) " / " counter(pages) "')
    css += f"""
.res {{ width: 100%; margin-top: 4mm; }}
.res th {{ background: #d9d9d9; border: 0.6pt solid #444; padding: 2pt 4pt; text-align: left; }}
.res td {{ border: 0.6pt solid #444; padding: 1.5pt 4pt; }}
.res td.val {{ text-align: right; }}
.res tr.sec td {{ background: #efefef; font-weight: bold; font-size: {size + 0.5}pt; }}
.res tr.abn td.val {{ font-weight: bold; }}
.pbox {{ border: 0.8pt solid #000; padding: 3mm; width: 78mm; float: right; }}
.head {{ overflow: hidden; }}
"""

    def value_cell(r: Result) -> str:
        text = r.shown
        if r.flag and flag_style == "letter":
            text += {"H": " H", "L": " B", "A": " *"}[r.flag]
        elif r.flag and flag_style == "star":
            text += " *"
        return e(text)

    rows: list[str] = []
    for section in report.sections:
        rows.append(f'<tr class="sec"><td colspan="4">{e(section.title)}</td></tr>')
        for row in section.rows:
            if isinstance(row, Comment):
                rows.append(f'<tr><td colspan="4" class="comment">{e(row.text)}</td></tr>')
                continue
            cls = ' class="abn"' if row.flag else ""
            rows.append(f"<tr{cls}><td>{e(row.label)}</td><td>{e(row.range_text)}</td>"
                        f"<td>{e(row.unit_printed or '')}</td><td class=\"val\">{value_cell(row)}</td></tr>")
    sex = "F" if p.sex == "female" else "M"
    legend = {"letter": "H : supérieur aux valeurs de référence - B : inférieur aux valeurs de référence",
              "star": "* : résultat en dehors des valeurs de référence",
              "bold": "Les résultats en gras sont en dehors des valeurs de référence."}[flag_style]
    return f"""<!doctype html><html lang="fr"><head><meta charset="utf-8"><style>{css}</style></head><body>
<div class="head">
 <div class="pbox">
  <div><b>{e(p.family.upper())} {e(p.given)}</b></div>
  <div>Date de naissance : {fr_date(p.birth_date)} &nbsp; Sexe : {sex}</div>
  <div>N° national : {e(p.national_id)}</div>
  <div>Médecin demandeur : {e(report.prescriber)}</div>
 </div>
 <h1>{e(report.lab.name)}</h1>
 <div class="small">{e(report.lab.address)}<br>Tél. {e(report.lab.phone)}</div>
 <div style="margin-top:3mm">Demande n° {e(report.request_id)}</div>
 <div>Prélèvement : {fr_date(report.collected)} à {report.collected:%Hh%M}</div>
 <div>Date du protocole : {fr_date(report.reported)}</div>
</div>
<table class="res"><thead><tr><th>Analyse</th><th>Valeurs de référence</th><th>Unité</th><th>Résultat</th></tr></thead>
<tbody>{''.join(rows)}</tbody></table>
<p class="small">{e(legend)}</p>
<p class="small">Protocole validé par le biologiste responsable. Document généré électroniquement.</p>
</body></html>"""


# --------------------------------------------------------------------------- ho_en_nhs_html


def _en_unit(unit: str | None) -> str:
    if unit is None:
        return ""
    for exp in ("9", "12"):
        unit_html = e(unit)
        if f"10^{exp}" in unit:
            return unit_html.replace(f"10^{exp}", f"10<sup>{exp}</sup>")
    return e(unit)


def nhs_html(report: Report, rng: random.Random) -> str:
    """English hospital report: Test | Result | Flag | Units | Reference Range, zebra rows."""
    font = rng.choice(("Liberation Sans", "DejaVu Sans"))
    size = rng.choice((8.0, 8.5, 9.0, 10.0))
    dob_fmt = rng.choice(("%d-%b-%Y", "%d/%m/%Y"))
    p = report.patient
    nhs = f"{p.national_id[:3]} {p.national_id[3:6]} {p.national_id[6:]}"
    footer_left = css_text(f"{report.lab.address}  Tel {report.lab.phone}")
    css = page_css(font, size, footer_left, 'Page " counter(page) " of " counter(pages) "', margin_mm=12)
    css += f"""
.res {{ width: 100%; margin-top: 3mm; }}
.res thead th {{ text-align: left; border-bottom: 1.2pt solid #000; padding: 2pt 5pt; }}
.res td {{ padding: 1.5pt 5pt; }}
.res tbody tr:nth-child(even) td {{ background: #eef2f7; }}
.res th.sec {{ text-align: left; padding-top: 6pt; font-size: {size + 1}pt; border-bottom: 0.5pt solid #888;
  background: #fff; }}
.res td.flag {{ font-weight: bold; }}
.pt td {{ padding: 1pt 8pt 1pt 0; }}
.pt td.k {{ color: #444; }}
"""
    body: list[str] = []
    for section in report.sections:
        body.append(f'<tr><th colspan="5" class="sec">{e(section.title)}</th></tr>')
        for row in section.rows:
            if isinstance(row, Comment):
                body.append(f'<tr><td></td><td colspan="4" class="comment">{e(row.text)}</td></tr>')
                continue
            flag = {"H": "H", "L": "L", "A": "*"}.get(row.flag or "", "")
            body.append(f"<tr><td>{e(row.label)}</td><td>{e(row.shown)}</td><td class=\"flag\">{flag}</td>"
                        f"<td>{_en_unit(row.unit_printed)}</td><td>{e(row.range_text)}</td></tr>")
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><style>{css}</style></head><body>
<h1>{e(report.lab.name)}</h1>
<div class="small">CUMULATIVE REPORT NOT INCLUDED - FINAL REPORT</div>
<table class="pt" style="margin-top:2mm"><tr>
<td class="k">Surname</td><td><b>{e(p.family.upper())}</b></td><td class="k">NHS No.</td><td>{nhs}</td></tr>
<tr><td class="k">Forename(s)</td><td>{e(p.given)}</td><td class="k">Hospital No.</td><td>K{e(report.request_id)}</td></tr>
<tr><td class="k">DOB</td><td>{p.birth_date.strftime(dob_fmt)}</td><td class="k">Sex</td><td>{p.sex.capitalize()}</td></tr>
<tr><td class="k">Collected</td><td>{report.collected:%d/%m/%Y %H:%M}</td><td class="k">Reported</td><td>{report.reported:%d/%m/%Y}</td></tr>
<tr><td class="k">Requested by</td><td>{e(report.prescriber)}</td><td class="k">Lab No.</td><td>{e(report.request_id)}</td></tr>
</table>
<table class="res"><thead><tr><th>Test</th><th>Result</th><th>Flag</th><th>Units</th><th>Reference Range</th></tr></thead>
<tbody>{''.join(body)}</tbody></table>
<p class="small">H = above reference range, L = below reference range, * = abnormal. Reference ranges are
age and sex specific.</p>
<p class="small">Authorised by: Consultant Clinical Scientist</p>
</body></html>"""


# --------------------------------------------------------------------------- ho_de_befund_html


def befund_html(report: Report, rng: random.Random) -> str:
    """German Befund: rowspan section cell, flag column between label and result."""
    font = rng.choice(("DejaVu Sans Condensed", "Liberation Sans", "DejaVu Sans"))
    size = rng.choice((8.0, 8.5, 9.0))
    arrows = rng.choice(({"H": "↑", "L": "↓", "A": "+"}, {"H": "+", "L": "\u2212", "A": "+"}))
    p = report.patient
    footer_left = css_text(f"{report.lab.name} · {report.lab.address} · Tel. {report.lab.phone}")
    css = page_css(font, size, footer_left, 'Seite " counter(page) " von " counter(pages) "')
    css += f"""
.res {{ width: 100%; margin-top: 4mm; }}
.res th {{ text-align: left; border-bottom: 0.8pt solid #000; border-top: 0.8pt solid #000; padding: 2pt 4pt; }}
.res td {{ padding: 1.2pt 4pt; border-bottom: 0.3pt solid #bbb; }}
.res td.bereich {{ font-weight: bold; vertical-align: top; border-right: 0.5pt solid #777; width: 24mm; }}
.res td.fl {{ text-align: center; font-weight: bold; width: 6mm; }}
.res td.val {{ text-align: right; width: 18mm; }}
.res tr {{ break-inside: avoid; }}
.kopf td {{ padding: 0.5pt 6pt 0.5pt 0; }}
"""
    body: list[str] = []
    for section in report.sections:
        rows = section.rows
        for i, row in enumerate(rows):
            lead = f'<td class="bereich" rowspan="{len(rows)}">{e(section.title)}</td>' if i == 0 else ""
            if isinstance(row, Comment):
                body.append(f'<tr>{lead}<td colspan="5" class="comment">{e(row.text)}</td></tr>')
                continue
            flag = arrows.get(row.flag or "", "")
            body.append(f"<tr>{lead}<td>{e(row.label)}</td><td class=\"fl\">{flag}</td>"
                        f"<td class=\"val\">{e(row.shown)}</td><td>{e(row.unit_printed or '')}</td>"
                        f"<td>{e(row.range_text)}</td></tr>")
    sex = "weiblich" if p.sex == "female" else "männlich"
    return f"""<!doctype html><html lang="de"><head><meta charset="utf-8"><style>{css}</style></head><body>
<table style="width:100%"><tr><td><h1>{e(report.lab.name)}</h1><div class="small">{e(report.lab.address)}</div></td>
<td style="text-align:right" class="small">Einsender:<br>{e(report.prescriber)}</td></tr></table>
<div style="margin-top:3mm; font-size:{size + 2}pt"><b>Laborbefund</b> (Endbefund)</div>
<table class="kopf" style="margin-top:2mm">
<tr><td>Patient:</td><td><b>{e(p.family)}, {e(p.given)}</b></td><td>Auftragsnr.:</td><td>{e(report.request_id)}</td></tr>
<tr><td>Geb.-Datum:</td><td>{de_date(p.birth_date)}</td><td>Probenentnahme:</td><td>{de_date(report.collected)} {report.collected:%H:%M}</td></tr>
<tr><td>Geschlecht:</td><td>{sex}</td><td>Befunddatum:</td><td>{de_date(report.reported)}</td></tr>
<tr><td>Matrikel-Nr.:</td><td>{e(p.national_id)}</td><td></td><td></td></tr>
</table>
<table class="res"><thead><tr><th>Bereich</th><th>Untersuchung</th><th></th><th style="text-align:right">Ergebnis</th>
<th>Einheit</th><th>Referenzbereich</th></tr></thead><tbody>{''.join(body)}</tbody></table>
<p class="small">Pathologische Werte sind markiert ({e(' '.join(f'{v} {k}' for k, v in arrows.items() if k != 'A'))}).
Medizinisch validiert.</p>
</body></html>"""


# --------------------------------------------------------------------------- ho_fr_twocol_html


def _balanced_columns(sections: tuple[Section, ...]) -> tuple[list[Section], list[Section]]:
    left: list[Section] = []
    right: list[Section] = []
    total = sum(len(s.rows) + 1 for s in sections)
    acc = 0
    for s in sections:
        (left if acc < total / 2 else right).append(s)
        acc += len(s.rows) + 1
    return left, right


def twocol_html(report: Report, rng: random.Random) -> str:
    """French two-column page; unit glued to the value, no unit column; bordered patient box."""
    font = rng.choice(("Liberation Sans", "DejaVu Sans Condensed", "Liberation Serif"))
    size = rng.choice((8.0, 8.5, 9.0))
    p = report.patient
    css = page_css(font, size, css_text(f"{report.lab.name} — {report.lab.address} — {report.lab.phone}"),
                   'page " counter(page) "/" counter(pages) "', margin_mm=10)
    css += f"""
.cols {{ display: flex; gap: 6mm; margin-top: 4mm; }}
.col {{ flex: 1; }}
.sec {{ font-weight: bold; border-bottom: 0.8pt solid #000; margin-top: 3mm; padding-bottom: 1pt; }}
.t {{ width: 100%; }}
.t td {{ padding: 1pt 2pt; vertical-align: top; }}
.t td.l {{ white-space: nowrap; }}
.t td.v {{ text-align: right; white-space: nowrap; }}
.t td.n {{ color: #444; white-space: nowrap; font-size: {size - 0.5}pt; }}
.t tr.abn td.v {{ font-weight: bold; }}
.pbox {{ border: 1pt solid #000; padding: 2mm 3mm; margin-top: 3mm; }}
.pbox td {{ padding: 0.5pt 6pt 0.5pt 0; }}
"""

    def section_html(s: Section) -> str:
        rows: list[str] = []
        for row in s.rows:
            if isinstance(row, Comment):
                rows.append(f'<tr><td colspan="3" class="comment">{e(row.text)}</td></tr>')
                continue
            label = row.label
            shown = row.shown + (f" {row.unit_printed}" if row.unit_printed else "")
            cls = ' class="abn"' if row.flag else ""
            rows.append(f"<tr{cls}><td class=\"l\">{e(label)}</td><td class=\"v\">{e(shown)}</td>"
                        f"<td class=\"n\">{e(row.range_text)}</td></tr>")
        return f'<div class="sec">{e(s.title.upper())}</div><table class="t">{"".join(rows)}</table>'

    left, right = _balanced_columns(report.sections)
    return f"""<!doctype html><html lang="fr"><head><meta charset="utf-8"><style>{css}</style></head><body>
<h1>{e(report.lab.name)}</h1><div class="small">{e(report.lab.address)} · {e(report.lab.phone)}</div>
<div class="pbox"><table>
<tr><td>Nom de naissance</td><td><b>{e(p.family.upper())}</b></td><td>Dossier</td><td>{e(report.request_id)}</td></tr>
<tr><td>Prénom(s)</td><td>{e(p.given)}</td><td>Prélevé le</td><td>{fr_date(report.collected)} {report.collected:%H:%M}</td></tr>
<tr><td>Né(e) le</td><td>{fr_date(p.birth_date)}</td><td>Édité le</td><td>{fr_date(report.reported)}</td></tr>
<tr><td>N° Sécu / Matricule</td><td>{e(p.national_id)}</td><td>Prescripteur</td><td>{e(report.prescriber)}</td></tr>
<tr><td>Sexe</td><td>{'Féminin' if p.sex == 'female' else 'Masculin'}</td><td></td><td></td></tr>
</table></div>
<div class="cols"><div class="col">{''.join(section_html(s) for s in left)}</div>
<div class="col">{''.join(section_html(s) for s in right)}</div></div>
<p class="small" style="margin-top:5mm">Les valeurs en gras sont hors normes. Compte rendu validé.</p>
</body></html>"""
