"""ExtractedDocument -> ParsedReport: lines, furniture, language, metadata, result rows."""

from __future__ import annotations

from collections.abc import Callable

from models import ExtractedDocument, Line, ParsedReport
from extractors.language import detect_language
from extractors.layout import furniture_lines, group_lines
from extractors.meta import parse_meta
from extractors.results import parse_rows
from extractors.values import infer_decimal_comma


def document_lines(doc: ExtractedDocument) -> tuple[list[Line], set[int]]:
    """All lines in reading order, and the indices of repeated header/footer lines."""
    per_page = [group_lines(p.words) for p in doc.pages]
    furniture = furniture_lines(per_page, [p.height for p in doc.pages])
    lines: list[Line] = []
    skip: set[int] = set()
    for pi, page_lines in enumerate(per_page):
        for li, ln in enumerate(page_lines):
            if (pi, li) in furniture:
                skip.add(len(lines))
            lines.append(ln)
    return lines, skip


def parse_document(doc: ExtractedDocument, accept_label: Callable[[str], bool] | None = None) -> ParsedReport:
    lines, skip = document_lines(doc)
    tokens = [w.text for p in doc.pages for w in p.words]
    language = detect_language(tokens)
    decimal_comma = infer_decimal_comma(tokens)
    if decimal_comma is None:
        decimal_comma = {"fr": True, "de": True, "mixed": True, "en": False}.get(language)
    meta = parse_meta(lines, language, [p.height for p in doc.pages])
    rows = parse_rows(lines, skip, language, decimal_comma, meta.collection_date, accept_label=accept_label)
    warnings: list[str] = []
    if not rows:
        warnings.append("no-result-rows")
    if meta.patient.family is None:
        warnings.append("no-patient-name")
    return ParsedReport(
        source=doc.source,
        meta=meta,
        rows=tuple(rows),
        page_sources=tuple(p.source for p in doc.pages),
        decimal_comma=decimal_comma,
        warnings=tuple(warnings),
    )
