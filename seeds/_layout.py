"""Place a report's header blocks and result table on pages as drawing operations."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

from seeds._content import Result
from seeds._render import CurveOp, FontFamily, LineOp, Op, RectOp, Sheet, TextOp, page_size, text_width

PAGE_TOKEN = "\x01P"
PAGES_TOKEN = "\x01N"


@dataclass(frozen=True)
class PageStyle:
    family: FontFamily
    size: float
    leading: float
    landscape: bool
    ruled: bool
    columns: tuple[str, ...]  # label value flag unit range prev0 prev1 ...
    headers: dict[str, str]  # column key -> header text, "\n" for two lines
    value_align: str  # l | r
    patient_block: str  # lines | box_right | two_columns
    repeat_page_header: bool
    repeat_table_header: bool
    margin: float
    section_band: bool
    gap: float


@dataclass
class DocText:
    """Everything printed outside the result table."""

    lab_name: str
    lab_lines: list[str]
    title: str
    patient_name: str  # as printed in the patient block
    patient_fields: list[tuple[str, str]]
    request_fields: list[tuple[str, str]]
    running_header: str  # short patient identification for continuation pages
    footer_left: str
    page_label: str  # "Page" / "Seite"
    footnotes: list[str]
    validation: str
    comments: dict[int, str] = field(default_factory=dict)  # result index -> comment line after it
    sections: dict[int, str] = field(default_factory=dict)  # result index -> section title before it


def _cell(r: Result, key: str) -> str:
    if key == "label":
        return r.label
    if key == "value":
        return r.value_str
    if key == "flag":
        return r.flag_str
    if key == "unit":
        return r.unit_printed or ""
    if key == "range":
        return r.range_str
    if key.startswith("prev"):
        return r.previous[int(key[4:])]
    raise KeyError(key)


def _value_cell(r: Result, key: str, flag_mode: str) -> str:
    text = _cell(r, key)
    if key == "value" and r.flag_str and flag_mode == "suffix":
        return f"{text} {r.flag_str}"
    if key == "value" and r.flag_str and flag_mode == "prefix":
        return f"{r.flag_str} {text}"
    return text


@dataclass(frozen=True)
class Column:
    key: str
    x: float  # left edge (or right edge when align == "r")
    left: float
    right: float
    align: str


def _columns(results: list[Result], ps: PageStyle, size: float, flag_mode: str, x0: float) -> list[Column]:
    bold = ps.family.bold
    cols: list[Column] = []
    x = x0
    for key in ps.columns:
        texts = [_value_cell(r, key, flag_mode) for r in results] + ps.headers.get(key, "").split("\n")
        width = max([text_width(t, bold, size) * 1.08 for t in texts] + [6.0])
        align = ps.value_align if key == "value" or key.startswith("prev") else "l"
        cols.append(Column(key, x + width if align == "r" else x, x, x + width, align))
        x += width + ps.gap
    return cols


def fit_columns(results: list[Result], ps: PageStyle, flag_mode: str) -> tuple[list[Column], float]:
    """Column positions and the font size that makes the table fit the page width."""
    width, _ = page_size(ps.landscape)
    size = ps.size
    while True:
        cols = _columns(results, ps, size, flag_mode, ps.margin)
        if cols[-1].right <= width - ps.margin or size <= 6.0:
            return cols, size
        size -= 0.25


class _Planner:
    def __init__(self, doc: DocText, ps: PageStyle, rng: random.Random) -> None:
        self.doc, self.ps, self.rng = doc, ps, rng
        self.width, self.height = page_size(ps.landscape)
        self.sheets: list[Sheet] = []
        self.y = 0.0
        self.bottom = ps.margin + 28

    @property
    def ops(self) -> list[Op]:
        return self.sheets[-1].ops

    def text(self, x: float, y: float, s: str, font: str | None = None, size: float | None = None, align: str = "l") -> None:
        if s:
            self.ops.append(TextOp(x, y, s, font or self.ps.family.regular, size or self.ps.size, align))

    def new_page(self) -> None:
        self.sheets.append(Sheet())
        self.y = self.height - self.ps.margin
        self._footer()
        if len(self.sheets) > 1 and self.ps.repeat_page_header:
            self._running_header()

    def _footer(self) -> None:
        ps, y = self.ps, self.ps.margin
        self.ops.append(LineOp(ps.margin, y + 12, self.width - ps.margin, y + 12, 0.4))
        self.text(ps.margin, y, self.doc.footer_left, size=ps.size - 1.5)
        self.text(
            self.width - ps.margin, y, f"{self.doc.page_label} {PAGE_TOKEN}/{PAGES_TOKEN}", size=ps.size - 1, align="r"
        )

    def _running_header(self) -> None:
        ps = self.ps
        self.text(ps.margin, self.y - 8, self.doc.lab_name, font=ps.family.bold, size=ps.size + 1)
        self.text(self.width - ps.margin, self.y - 8, self.doc.running_header, size=ps.size, align="r")
        self.text(
            self.width - ps.margin, self.y - 8 - ps.leading, f"{self.doc.page_label} {PAGE_TOKEN}/{PAGES_TOKEN}", align="r"
        )
        self.y -= 8 + 2 * ps.leading
        self.ops.append(LineOp(ps.margin, self.y + 4, self.width - ps.margin, self.y + 4, 0.6))
        self.y -= ps.leading

    def first_page_header(self) -> None:
        ps, doc = self.ps, self.doc
        top = self.y
        self.text(ps.margin, top - 10, doc.lab_name, font=ps.family.bold, size=ps.size + 4)
        ly = top - 10 - ps.leading - 3
        for line in doc.lab_lines:
            self.text(ps.margin, ly, line, size=ps.size - 0.5)
            ly -= ps.leading - 1
        if ps.patient_block == "box_right":
            bx, bw = self.width / 2 + 30, self.width / 2 - 30 - ps.margin
            lines = [doc.patient_name] + [f"{k} {v}".strip() for k, v in doc.patient_fields]
            bh = (len(lines) + 1) * ps.leading
            self.ops.append(RectOp(bx, top - 16 - bh, bw, bh + 6, 0.7))
            py = top - 16 - ps.leading * 0.2
            for i, line in enumerate(lines):
                self.text(bx + 8, py - i * ps.leading, line, font=ps.family.bold if i == 0 else None)
            ly = min(ly, top - 22 - bh)
        self.y = ly - ps.leading
        self.text(self.width / 2, self.y, doc.title, font=ps.family.bold, size=ps.size + 3, align="c")
        self.y -= 2 * ps.leading
        if ps.patient_block == "lines":
            self.text(ps.margin, self.y, doc.patient_name, font=ps.family.bold, size=ps.size + 1)
            self.y -= ps.leading + 1
            self._fields(doc.patient_fields, ps.margin, 2)
            self._fields(doc.request_fields, ps.margin, 2)
        elif ps.patient_block == "two_columns":
            y0 = self.y
            self.text(ps.margin, self.y, doc.patient_name, font=ps.family.bold, size=ps.size + 1)
            self.y -= ps.leading + 1
            self._fields(doc.patient_fields, ps.margin, 1)
            y_left = self.y
            self.y = y0
            self._fields(doc.request_fields, self.width / 2 + 10, 1)
            self.y = min(self.y, y_left)
        else:
            self._fields(doc.request_fields, ps.margin, 2)
        self.y -= ps.leading * 0.8

    def _fields(self, fields: list[tuple[str, str]], x: float, per_line: int) -> None:
        ps = self.ps
        col_w = (self.width - ps.margin - x) / per_line
        label_w = max([text_width(k, ps.family.regular, ps.size) for k, _ in fields] + [0]) + 6
        for i, (k, v) in enumerate(fields):
            cx = x + (i % per_line) * col_w
            self.text(cx, self.y, k)
            self.text(cx + min(label_w, col_w * 0.5), self.y, v)
            if i % per_line == per_line - 1 or i == len(fields) - 1:
                self.y -= ps.leading

    def table_header(self, cols: list[Column], size: float) -> None:
        ps = self.ps
        lines = max(len(ps.headers.get(c.key, "").split("\n")) for c in cols)
        top = self.y + ps.leading * 0.75
        if ps.ruled:
            self.ops.append(RectOp(cols[0].left - 3, top - lines * ps.leading - 2, cols[-1].right - cols[0].left + 6, lines * ps.leading + 2, 0.6, 0.88))
        for c in cols:
            for j, line in enumerate(ps.headers.get(c.key, "").split("\n")):
                self.text(c.x, self.y - j * ps.leading, line, font=ps.family.bold, size=size, align=c.align)
        self.y -= lines * ps.leading
        if not ps.ruled:
            self.ops.append(LineOp(cols[0].left, self.y + ps.leading * 0.6, cols[-1].right, self.y + ps.leading * 0.6, 0.5))
        self.y -= 2

    def row_lines(self, cols: list[Column]) -> None:
        ps = self.ps
        top, bottom = self.y + ps.leading * 0.75, self.y - ps.leading * 0.25
        self.ops.append(LineOp(cols[0].left - 3, bottom, cols[-1].right + 3, bottom, 0.3))
        for c in cols[1:]:
            x = c.left - ps.gap / 2
            self.ops.append(LineOp(x, top, x, bottom, 0.3))
        self.ops.append(LineOp(cols[0].left - 3, top, cols[0].left - 3, bottom, 0.3))
        self.ops.append(LineOp(cols[-1].right + 3, top, cols[-1].right + 3, bottom, 0.3))

    def signature(self) -> None:
        ps, doc = self.ps, self.doc
        if self.y < self.bottom + 6 * ps.leading:
            self.new_page()
        self.y -= ps.leading
        for note in doc.footnotes:
            self.text(ps.margin, self.y, note, font=ps.family.italic, size=ps.size - 1)
            self.y -= ps.leading - 1
        self.y -= ps.leading
        x = self.width - ps.margin - 170
        self.text(x, self.y, doc.validation)
        y = self.y - 22
        pts: list[tuple[float, float]] = [(x + 10, y)]
        for i in range(3):
            px = x + 10 + 30 * (i + 1)
            pts += [(px - 20, y + self.rng.uniform(8, 16)), (px - 10, y - self.rng.uniform(4, 10)), (px, y + self.rng.uniform(-2, 4))]
        self.ops.append(CurveOp(tuple(pts), 0.9))


def fitting_style(results: list[Result], ps: PageStyle, flag_mode: str) -> PageStyle:
    """The page style, turned to landscape when even at 6 pt the table is wider than a
    portrait page (long bilingual labels): a lab prints such a report in landscape, not
    off the edge of the paper (the unit column was outside the page, so scans lost it)."""
    cols, _ = fit_columns(results, ps, flag_mode)
    if not ps.landscape and cols[-1].right > page_size(False)[0] - ps.margin:
        return replace(ps, landscape=True)
    return ps


def plan(doc: DocText, results: list[Result], ps: PageStyle, flag_mode: str, rng: random.Random) -> list[Sheet]:
    """Lay the report out; sets `page` on every result."""
    cols, size = fit_columns(results, ps, flag_mode)
    p = _Planner(doc, ps, rng)
    p.new_page()
    p.first_page_header()
    p.table_header(cols, size)
    for i, r in enumerate(results):
        section = doc.sections.get(i)
        need = ps.leading * (3 if section else 1)
        if p.y - need < p.bottom:
            p.new_page()
            if ps.repeat_table_header:
                p.table_header(cols, size)
        if section:
            p.y -= ps.leading * 0.4
            if ps.section_band:
                p.ops.append(RectOp(cols[0].left - 3, p.y - ps.leading * 0.25, cols[-1].right - cols[0].left + 6, ps.leading, 0.3, 0.94))
            p.text(cols[0].left, p.y, section, font=ps.family.bold, size=size + 0.5)
            p.y -= ps.leading
        r.page = len(p.sheets)
        for c in cols:
            text = _value_cell(r, c.key, flag_mode)
            font = ps.family.bold if (r.bold and c.key == "value") else ps.family.regular
            indent = 6 if c.key == "label" and not ps.ruled else 0
            p.text(c.x + indent, p.y, text, font=font, size=size, align=c.align)
        if ps.ruled:
            p.row_lines(cols)
        p.y -= ps.leading
        comment = doc.comments.get(i)
        if comment:
            p.text(cols[0].left + 14, p.y, comment, font=ps.family.italic, size=size - 0.5)
            p.y -= ps.leading
    p.signature()
    return _number_pages(p.sheets)


def _number_pages(sheets: list[Sheet]) -> list[Sheet]:
    total = str(len(sheets))
    out: list[Sheet] = []
    for n, sheet in enumerate(sheets, start=1):
        ops: list[Op] = []
        for op in sheet.ops:
            if isinstance(op, TextOp) and "\x01" in op.text:
                op = TextOp(op.x, op.y, op.text.replace(PAGE_TOKEN, str(n)).replace(PAGES_TOKEN, total), op.font, op.size, op.align)
            ops.append(op)
        out.append(Sheet(ops))
    return out
