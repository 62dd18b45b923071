"""Open a PDF safely and extract every page as words: text layer or OCR, per page.

Bad input (not a PDF, corrupt, encrypted, empty, too large) raises ``ExtractionError``
with a short machine-readable ``reason`` and a human message, never health data.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from models import ExtractedDocument, Page, SourceDocument, WordSource

log = logging.getLogger("pdf2fhir.extract")


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 200 * 1024 * 1024  # larger files are quarantined, not read
    max_pages: int = 200  # a lab report has a handful; hundreds means a wrong document
    max_page_area_pt2: float = 4 * 842 * 1191  # four A3 pages: posters and bombs are refused
    max_chars_per_page: int = 200_000


class ExtractionError(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


def source_document(path: Path, data: bytes | None = None, uri: str | None = None) -> SourceDocument:
    data = path.read_bytes() if data is None else data
    digest = hashlib.sha256(data).hexdigest()
    return SourceDocument(id=digest, uri=uri or str(path), stem=path.stem, sha256=digest, size=len(data))


def _check_bytes(data: bytes, limits: Limits) -> None:
    if len(data) == 0:
        raise ExtractionError("empty-file", "the file is empty")
    if len(data) > limits.max_bytes:
        raise ExtractionError("too-large", f"file of {len(data)} bytes exceeds the limit of {limits.max_bytes}")
    head = data[:1024]
    if b"%PDF-" not in head:
        raise ExtractionError("not-a-pdf", "no %PDF- header in the first kilobyte")


@dataclass(frozen=True)
class OcrHint:
    """What a document's earlier OCR pages settled on, offered to its later pages: one
    document, one language model; a page scanned upside down usually has upside-down
    neighbours. A prior, not an order: a later page that reads badly is re-checked."""

    lang: str | None = None
    rotation: int = 0


OcrFn = Callable[[Path, int, OcrHint, str], Page]


def extract_document(
    path: Path,
    *,
    limits: Limits = Limits(),
    ocr: OcrFn | None = None,
    force_ocr: bool = False,
    source: SourceDocument | None = None,
) -> ExtractedDocument:
    """Words of every page of ``path``. Pages whose text layer is missing or unusable go
    to ``ocr`` (default: tesseract via ``extractors.ocr``); the route and its reason are
    kept on each page."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfplumber.utils.exceptions import PdfminerException

    from extractors.routing import route_pdfplumber_page
    from extractors.textlayer import horizontal_rulings, page_words

    data = path.read_bytes()
    _check_bytes(data, limits)
    src = source or source_document(path, data)
    pages: list[Page] = []
    ocr_needed: list[tuple[int, str]] = []
    try:
        with pdfplumber.open(path) as pdf:
            n = len(pdf.pages)
            if n == 0:
                raise ExtractionError("no-pages", "the PDF has no pages")
            if n > limits.max_pages:
                raise ExtractionError("too-many-pages", f"{n} pages exceeds the limit of {limits.max_pages}")
            for i, pp in enumerate(pdf.pages):
                w, h = float(pp.width), float(pp.height)
                if w * h > limits.max_page_area_pt2:
                    raise ExtractionError("page-too-large", f"page {i + 1} is {w:.0f}x{h:.0f} pt")
                decision = route_pdfplumber_page(pp)
                if force_ocr or decision.source is WordSource.OCR:
                    reason = "forced" if force_ocr else decision.reason
                    ocr_needed.append((i, reason))
                    pages.append(Page(number=i + 1, width=w, height=h, words=(), source=WordSource.OCR, route_reason=reason, quality=0.0))
                    continue
                chars = pp.chars
                if len(chars) > limits.max_chars_per_page:
                    raise ExtractionError("too-much-text", f"page {i + 1} has {len(chars)} characters")
                q = decision.text_quality
                words = tuple(wd.model_copy(update={"confidence": q}) if q < 1.0 else wd for wd in page_words(chars, i + 1))
                pages.append(
                    Page(
                        number=i + 1, width=w, height=h, words=words, source=WordSource.TEXT,
                        route_reason=decision.reason, quality=q, rulings_y=horizontal_rulings(pp),
                    )
                )
                pp.flush_cache()
    except ExtractionError:
        raise
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise ExtractionError("encrypted", "the PDF is encrypted and cannot be opened") from exc
    except (PdfminerException, PDFSyntaxError) as exc:
        cause = exc.__cause__ or exc.__context__ or exc
        if isinstance(cause, (PDFPasswordIncorrect, PDFEncryptionError)) or "password" in repr(exc).lower() or "encrypt" in repr(exc).lower():
            raise ExtractionError("encrypted", "the PDF is encrypted and cannot be opened") from exc
        raise ExtractionError("corrupt", f"the PDF cannot be parsed ({type(cause).__name__})") from exc
    except RecursionError as exc:
        raise ExtractionError("hostile", "the PDF's object structure is too deeply nested") from exc
    except MemoryError as exc:
        raise ExtractionError("too-large", "the PDF needs more memory than allowed") from exc
    except Exception as exc:  # noqa: BLE001 - any parser failure is a corrupt document
        raise ExtractionError("corrupt", f"the PDF cannot be parsed ({type(exc).__name__})") from exc

    if ocr_needed:
        ocr_fn = ocr or _default_ocr
        hint = OcrHint()
        for i, reason in ocr_needed:
            try:
                page = ocr_fn(path, i, hint, reason)
            except Exception as exc:  # noqa: BLE001
                raise ExtractionError("ocr-failed", f"page {i + 1}: {type(exc).__name__}") from exc
            if page.words:
                hint = OcrHint(lang=hint.lang or _ocr_lang_of(page), rotation=page.rotation)
            pages[i] = page
    return ExtractedDocument(source=src.model_copy(update={"page_count": len(pages)}), pages=tuple(pages))


def _default_ocr(path: Path, index: int, hint: OcrHint, reason: str) -> Page:
    from extractors.ocr import ocr_pdf_page

    return ocr_pdf_page(path, index, hint.lang, route_reason=reason, rotation_hint=hint.rotation)


def _ocr_lang_of(page: Page) -> str | None:
    """The tesseract language the first OCR page settled on, reused for the others."""
    try:
        from extractors.ocr import language_from_words
    except ImportError:  # pragma: no cover
        return None
    return language_from_words(page.words) if page.words else None
