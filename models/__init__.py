"""Immutable, typed models for everything that flows between pdf2fhir stages.

Stage chain (each arrow is a plain function):

    SourceDocument --extract--> ExtractedDocument (pages of Words with boxes)
                   --parse----> ParsedReport (ReportMeta + RawResult rows, with provenance)
                   --map------> MappedResult rows (LOINC, UCUM, numbers, confidences)
                   --fhir-----> Bundle (dict, json-serialisable)

All models are frozen pydantic models: a stage never mutates its input. Boxes are in
PDF points with the origin at the top-left of the page (pdfplumber's convention), so a
box means the same thing whether it came from the text layer or from OCR.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WordSource(StrEnum):
    TEXT = "text"  # PDF text layer (pdfplumber)
    OCR = "ocr"  # tesseract


class BBox(Frozen):
    """Axis-aligned box in PDF points, origin top-left (x0 < x1, top < bottom)."""

    x0: float
    top: float
    x1: float
    bottom: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def xmid(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def ymid(self) -> float:
        return (self.top + self.bottom) / 2

    def overlap_share(self, other: BBox) -> float:
        """The share of the smaller box's area that the two boxes have in common."""
        dx = min(self.x1, other.x1) - max(self.x0, other.x0)
        dy = min(self.bottom, other.bottom) - max(self.top, other.top)
        if dx <= 0 or dy <= 0:
            return 0.0
        return dx * dy / max(1e-6, min(self.width * self.height, other.width * other.height))

    def union(self, other: BBox) -> BBox:
        return BBox(
            x0=min(self.x0, other.x0),
            top=min(self.top, other.top),
            x1=max(self.x1, other.x1),
            bottom=max(self.bottom, other.bottom),
        )

    @staticmethod
    def enclosing(boxes: list[BBox] | tuple[BBox, ...]) -> BBox:
        if not boxes:
            raise ValueError("no boxes")
        return BBox(
            x0=min(b.x0 for b in boxes),
            top=min(b.top for b in boxes),
            x1=max(b.x1 for b in boxes),
            bottom=max(b.bottom for b in boxes),
        )


class Word(Frozen):
    text: str
    bbox: BBox
    page: int  # 1-based
    font_size: float | None = None
    bold: bool = False
    confidence: float = 1.0  # OCR word confidence in [0,1]; text-layer quality otherwise
    source: WordSource = WordSource.TEXT


class Page(Frozen):
    number: int  # 1-based
    width: float  # points
    height: float  # points
    words: tuple[Word, ...]
    source: WordSource
    route_reason: str = ""  # why text layer or OCR was chosen for this page
    quality: float = 1.0  # text-layer quality or mean OCR confidence, [0,1]
    rotation: int = 0  # degrees applied to make the page upright (OCR)
    # horizontal ruling lines / rectangles edges (y positions) — help table detection
    rulings_y: tuple[float, ...] = ()


class SourceDocument(Frozen):
    id: str  # stable document id: sha256 hex of the bytes (never a name)
    uri: str  # file path or URL it came from
    stem: str  # output file stem
    sha256: str
    size: int
    page_count: int = 0


class ExtractedDocument(Frozen):
    source: SourceDocument
    pages: tuple[Page, ...]


class Line(Frozen):
    """Words on one visual line of a page, left to right."""

    page: int
    words: tuple[Word, ...]
    bbox: BBox

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


class Printed(Frozen):
    """A printed string with where it was read: the unit of provenance."""

    text: str
    page: int
    bbox: BBox
    source: WordSource = WordSource.TEXT
    confidence: float = 1.0  # reading confidence (min OCR word confidence, or text quality)
    bold: bool = False


class RawResult(Frozen):
    """One result row as printed: strings only, nothing interpreted yet."""

    index: int  # row number within the document, stable across runs
    section: str | None = None
    label: Printed
    value: Printed
    unit: Printed | None = None
    range: Printed | None = None
    flag: Printed | None = None
    language: str | None = None  # fr / de / en


class PatientInfo(Frozen):
    family: Printed | None = None
    given: Printed | None = None
    birth_date: str | None = None  # ISO date
    birth_date_src: Printed | None = None
    sex: Literal["male", "female", "other", "unknown"] | None = None
    sex_src: Printed | None = None
    national_id: str | None = None  # Luxembourg 13-digit matricule (or another country's id)
    national_id_src: Printed | None = None
    national_id_system: str | None = None  # FHIR identifier system (extractors/rules/national_ids.csv)


class ReportMeta(Frozen):
    language: str = "und"  # fr / de / en / mixed
    patient: PatientInfo = PatientInfo()
    collection_date: str | None = None  # ISO date or datetime
    report_date: str | None = None
    laboratory: str | None = None
    prescriber: str | None = None
    report_id: str | None = None  # accession / dossier number as printed
    confidence: dict[str, float] = Field(default_factory=dict)  # per meta field


class ParsedReport(Frozen):
    source: SourceDocument
    meta: ReportMeta
    rows: tuple[RawResult, ...]
    page_sources: tuple[WordSource, ...] = ()
    decimal_comma: bool | None = None  # number convention inferred for the document
    warnings: tuple[str, ...] = ()


ReviewStatus = Literal["auto-accepted", "needs-review", "accepted", "corrected", "rejected"]


class MappedResult(Frozen):
    raw: RawResult
    loinc: str | None = None
    display: str | None = None  # LOINC display (English)
    value: float | None = None  # numeric value
    value_decimals: int | None = None  # decimals as printed (keeps 4.50 as 4.50)
    comparator: Literal["<", "<=", ">", ">="] | None = None
    value_text: str | None = None  # qualitative result (normalised text)
    value_code: str | None = None  # SNOMED CT code for qualitative results when known
    unit_ucum: str | None = None
    ref_low: float | None = None
    ref_high: float | None = None
    ref_text: str | None = None
    interpretation: str | None = None  # v3-ObservationInterpretation code: H L HH LL A N POS NEG
    specimen: str | None = None  # blood / serum / plasma / urine
    confidence_fields: dict[str, float] = Field(default_factory=dict)  # code value unit range flag
    confidence: float = 0.0
    review_status: ReviewStatus = "needs-review"
    notes: tuple[str, ...] = ()  # why confidence is low (no values, no names)


class ConversionOutcome(Frozen):
    source: SourceDocument
    status: Literal["converted", "needs-review", "failed"]
    reason: str | None = None  # for failed: a clear error, no health data
    bundle_path: str | None = None
    results: int = 0
    needs_review: int = 0
    pages: int = 0
    ocr_pages: int = 0
