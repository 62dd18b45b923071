"""Shared fixtures: build tiny lab-report PDFs (see ``pdfkit``) and run the pipeline stages on them."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

# Prefect: no analytics, a generous start-up time for the temporary local server on a busy
# 2-core machine. Set before any test module imports prefect.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")

sys.path.insert(0, str(Path(__file__).parent))

from pdfkit import PageSpec, ReportBuilder, build_pdf  # noqa: E402

from models import ExtractedDocument, ParsedReport  # noqa: E402


def extract(path: Path) -> ExtractedDocument:
    from extractors.document import extract_document

    def no_ocr(*_: object) -> None:
        raise AssertionError("a born-digital test PDF was routed to OCR")

    return extract_document(path, ocr=no_ocr)  # type: ignore[arg-type]


def parse(path: Path) -> ParsedReport:
    """Extract and parse with the pipeline's own label check (one-letter labels etc.)."""
    from extractors.parse import parse_document
    from flows.pipeline import _known_label

    return parse_document(extract(path), accept_label=_known_label)


@pytest.fixture
def pdf_path(tmp_path: Path) -> Callable[[str], Path]:
    counter = iter(range(10_000))

    def make(stem: str = "doc") -> Path:
        return tmp_path / f"{stem}-{next(counter)}.pdf"

    return make


@pytest.fixture
def save(pdf_path: Callable[[str], Path]) -> Callable[[ReportBuilder | list[PageSpec]], Path]:
    """Write a ReportBuilder or a list of pages to a fresh PDF in tmp_path."""

    def _save(spec: ReportBuilder | list[PageSpec], stem: str = "doc") -> Path:
        path = pdf_path(stem)
        if isinstance(spec, ReportBuilder):
            return spec.save(path)
        return build_pdf(path, spec)

    return _save


@pytest.fixture
def parsed(save: Callable[..., Path]) -> Callable[..., ParsedReport]:
    """Build, extract and parse in one step."""

    def _parsed(spec: ReportBuilder | list[PageSpec]) -> ParsedReport:
        return parse(save(spec))

    return _parsed
