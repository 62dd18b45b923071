"""Build HL7 Europe Laboratory Report (R4) document Bundles from mapped results.

The structure mirrors the IG examples in /work/shared/reference/eu-lab-examples/
(Bundle-SimpleChemistryResultReport, Bundle-BundleLabResultReportPOC,
Composition-comp-lab-example, DiagnosticReport-dr-lab-example, Observation-obs-wbc):

    Bundle (type document, profile Bundle-eu-lab, identifier urn:uuid, timestamp)
      1. Composition      type LOINC 11502-2, category 26436-6, one section per lab
                          specialty (18723-7 hematology, 18719-5 chemistry, ...)
                          whose entries are the Observations; extension
                          composition-diagnosticReportReference -> DiagnosticReport
      2. DiagnosticReport code 11502-2, result -> every Observation, presentedForm
                          = the source PDF; extension
                          extension-DiagnosticReport.composition -> Composition
      3. Patient, Organization (laboratory), Specimen (one per specimen type),
         Observation (one per result row), Device (pdf2fhir), Provenance

Determinism: ids come from mappers.ids (uuid5 of the document sha256), no clock is
read, entries and keys are emitted in a fixed order and `bundle_json` writes fixed
bytes. Times printed without a zone are taken as Europe/Luxembourg local time (the
zone of the shared care record the reports come from); FHIR `instant`s need a time,
so a date-only report date becomes local midnight. Bundle.timestamp is the report
date, else the collection date, else the fixed instant 1970-01-01T00:00:00Z which
marks "no date printed" (a wall-clock time would break byte-identical re-runs).

Numbers: the returned dict holds `decimal.Decimal` for every FHIR decimal so that
printed precision survives (4.50 stays 4.50: fhir.resources' own JSON output turns
decimals into floats and would print 4.5). Serialise with `bundle_json`, not
`json.dumps`.

Confidence: every Observation carries the extension EXT_CONFIDENCE (valueDecimal,
overall confidence in [0, 1], 3 decimals), a complex extension EXT_FIELD_CONFIDENCE
with one valueDecimal sub-extension per field (code, value, unit, range, flag) and a
complex extension EXT_SOURCE_LOCATION (page, bbox "x0,top,x1,bottom" in PDF points,
origin top-left, and source text|ocr). An Observation whose reading needed help
carries one EXT_REVIEW_REASON (valueCode) per note of the mapper, in its order
(`unit-inferred`, `value-repaired`, `unit-from-range`, ...): a unit the page did not
print legibly is then visible as such to a consumer of the bundle, not only in
Parquet. The Patient and DiagnosticReport carry the same two confidence extensions for
the header fields that were read.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_EVEN, Context, Decimal
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from models import BBox, MappedResult, ParsedReport, PatientInfo, Printed, RawResult, ReportMeta

from mappers.ids import resource_id, urn_uuid

JSON = dict[str, Any]

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
REFRANGE_MEANING = "http://terminology.hl7.org/CodeSystem/referencerange-meaning"
PROVENANCE_PARTICIPANT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
RFC3986 = "urn:ietf:rfc:3986"

# Luxembourg national identification number ("matricule", 13 digits YYYYMMDDNNNCC).
# The OID 1.3.182.4.4 is the system the Luxembourg eHealth agency uses for it in the
# HL7 IPS example Patient/66033 (https://hl7.org/fhir/uv/ips/Patient-66033.html,
# value 1998041799999); no canonical http URI is published for it.
LU_NATIONAL_ID_SYSTEM = "urn:oid:1.3.182.4.4"
# Document id = sha256 of the PDF bytes; used to identify the source in Provenance.
SHA256_SYSTEM = "https://pdf2fhir.org/fhir/sid/sha256"

EU_LAB = "http://hl7.eu/fhir/laboratory/StructureDefinition"
PROFILE_BUNDLE = f"{EU_LAB}/Bundle-eu-lab"
PROFILE_COMPOSITION = f"{EU_LAB}/Composition-eu-lab"
PROFILE_REPORT = f"{EU_LAB}/DiagnosticReport-eu-lab"
PROFILE_OBSERVATION = f"{EU_LAB}/Observation-resultslab-eu-lab"
PROFILE_PATIENT = f"{EU_LAB}/Patient-eu-lab"
PROFILE_SPECIMEN = f"{EU_LAB}/Specimen-eu-lab"
EXT_COMPOSITION_REPORT = f"{EU_LAB}/composition-diagnosticReportReference"
EXT_REPORT_COMPOSITION = "http://hl7.org/fhir/5.0/StructureDefinition/extension-DiagnosticReport.composition"

PDF2FHIR_SD = "https://pdf2fhir.org/fhir/StructureDefinition"
EXT_CONFIDENCE = f"{PDF2FHIR_SD}/extraction-confidence"
EXT_FIELD_CONFIDENCE = f"{PDF2FHIR_SD}/field-confidence"
EXT_SOURCE_LOCATION = f"{PDF2FHIR_SD}/source-location"
EXT_REVIEW_REASON = f"{PDF2FHIR_SD}/review-reason"

REPORT_CODE = {"system": LOINC, "code": "11502-2", "display": "Laboratory report"}
FALLBACK_SECTION = "26436-6"
FIELD_ORDER = ("code", "value", "unit", "range", "flag")
UNKNOWN_TIMESTAMP = "1970-01-01T00:00:00Z"
UNLABELLED = "(no label printed)"
LOCAL_TZ = ZoneInfo("Europe/Luxembourg")
SOFTWARE_NAME = "pdf2fhir"

_CODES_CSV = Path(__file__).parent / "data" / "fhir_codes.csv"


class BundleValidationError(ValueError):
    """The built Bundle is not valid FHIR R4B (message holds paths only, no data)."""


@dataclass(frozen=True)
class CodeRow:
    kind: str
    code: str
    system: str
    display: str
    match: tuple[str, ...]


# --------------------------------------------------------------------------- tables


@cache
def _code_rows() -> tuple[CodeRow, ...]:
    with _CODES_CSV.open(encoding="utf-8", newline="") as fh:
        return tuple(
            CodeRow(
                kind=r["kind"],
                code=r["code"],
                system=r["system"],
                display=r["display"],
                match=tuple(m for m in (r["match"] or "").split("|") if m),
            )
            for r in csv.DictReader(fh)
        )


def _rows_of(kind: str) -> tuple[CodeRow, ...]:
    return tuple(r for r in _code_rows() if r.kind == kind)


def clean(text: str | None) -> str | None:
    """Printed text with whitespace runs collapsed; None when nothing is left
    (FHIR strings may not be empty)."""
    if text is None:
        return None
    return " ".join(text.split()) or None


def _fold(text: str) -> str:
    """Casefold and strip accents: 'Hämatologie' -> 'hamatologie'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def section_code(printed_section: str | None) -> CodeRow:
    """LOINC lab-study code for a printed section heading (first keyword match wins)."""
    rows = _rows_of("section")
    folded = _fold(printed_section or "")
    for row in rows:
        if any(m in folded for m in row.match):
            return row
    return next(r for r in rows if r.code == FALLBACK_SECTION)


def specimen_code(specimen: str) -> CodeRow | None:
    return next((r for r in _rows_of("specimen") if specimen.lower() in r.match), None)


def interpretation_coding(code: str) -> JSON:
    row = next((r for r in _rows_of("interpretation") if r.code == code), None)
    coding: JSON = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": code}
    if row is not None:
        coding["display"] = row.display
    return coding


def report_title(language: str) -> str:
    titles = {r.code: r.display for r in _rows_of("title")}
    return titles.get(language, titles["en"])


# --------------------------------------------------------------------------- values


def confidence_decimal(value: float) -> Decimal:
    """Confidence clamped to [0, 1] with 3 decimals (NaN counts as 0)."""
    if math.isnan(value):
        value = 0.0
    clamped = min(max(value, 0.0), 1.0)
    return Decimal(repr(clamped)).quantize(Decimal("0.001"), rounding=ROUND_HALF_EVEN)


def decimal_value(value: float, decimals: int | None = None) -> Decimal:
    """A float as a FHIR decimal keeping the printed number of decimals when known."""
    if not math.isfinite(value):
        raise ValueError("non-finite value cannot be a FHIR decimal")
    if decimals is not None and decimals >= 0:
        exact = Decimal(repr(value))
        # enough working precision for any float printed with `decimals` places
        context = Context(prec=max(28, exact.adjusted() + decimals + 2))
        return exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN, context=context)
    if value.is_integer():
        return Decimal(int(value))
    return Decimal(repr(value))


def _parse_when(text: str | None) -> date | datetime | None:
    if not text:
        return None
    text = text.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL_TZ)


def fhir_datetime(text: str | None) -> str | None:
    """ISO date or datetime -> FHIR dateTime (a time always gets a zone)."""
    when = _parse_when(text)
    if when is None:
        return None
    if isinstance(when, datetime):
        return when.isoformat(timespec="seconds")
    return when.isoformat()


def fhir_instant(text: str | None) -> str | None:
    """ISO date or datetime -> FHIR instant (date-only means local midnight)."""
    when = _parse_when(text)
    if when is None:
        return None
    if not isinstance(when, datetime):
        when = datetime.combine(when, time(0, 0), tzinfo=LOCAL_TZ)
    return when.isoformat(timespec="seconds")


def software_version() -> str:
    try:
        return metadata.version(SOFTWARE_NAME)
    except metadata.PackageNotFoundError:
        return "0+unknown"


# --------------------------------------------------------------------------- extensions


def confidence_extension(value: float) -> JSON:
    return {"url": EXT_CONFIDENCE, "valueDecimal": confidence_decimal(value)}


def field_confidence_extension(fields: dict[str, float], order: Sequence[str] = FIELD_ORDER) -> JSON | None:
    """Complex extension with one sub-extension per field, in a fixed order."""
    keys = [k for k in order if k in fields] + sorted(k for k in fields if k not in order)
    if not keys:
        return None
    return {
        "url": EXT_FIELD_CONFIDENCE,
        "extension": [{"url": k, "valueDecimal": confidence_decimal(fields[k])} for k in keys],
    }


def bbox_string(box: BBox) -> str:
    return f"{box.x0:.2f},{box.top:.2f},{box.x1:.2f},{box.bottom:.2f}"


def row_printed(raw: RawResult) -> list[Printed]:
    return [p for p in (raw.label, raw.value, raw.unit, raw.range, raw.flag) if p is not None]


def row_bbox(raw: RawResult) -> BBox:
    """Box enclosing the printed parts of a row that sit on the value's page."""
    return BBox.enclosing([p.bbox for p in row_printed(raw) if p.page == raw.value.page])


def source_location_extension(raw: RawResult) -> JSON:
    """Where the row was read: the value's page, the row box on that page, text/ocr."""
    return {
        "url": EXT_SOURCE_LOCATION,
        "extension": [
            {"url": "page", "valueInteger": raw.value.page},
            {"url": "bbox", "valueString": bbox_string(row_bbox(raw))},
            {"url": "source", "valueCode": raw.value.source.value},
        ],
    }


def _reference(uuid_: str, display: str | None = None) -> JSON:
    ref: JSON = {"reference": urn_uuid(uuid_)}
    if display:
        ref["display"] = display
    return ref


# --------------------------------------------------------------------------- resources


@dataclass(frozen=True)
class Ids:
    """All resource ids of one document, derived from its sha256."""

    sha: str

    def of(self, kind: str, key: str = "") -> str:
        return resource_id(self.sha, kind, key)

    @property
    def bundle(self) -> str:
        return self.of("Bundle")

    @property
    def composition(self) -> str:
        return self.of("Composition")

    @property
    def report(self) -> str:
        return self.of("DiagnosticReport")

    @property
    def patient(self) -> str:
        return self.of("Patient")

    @property
    def organization(self) -> str:
        return self.of("Organization")

    @property
    def device(self) -> str:
        return self.of("Device")

    @property
    def provenance(self) -> str:
        return self.of("Provenance")

    def observation(self, raw: RawResult) -> str:
        return self.of("Observation", str(raw.index))

    def specimen(self, kind: str) -> str:
        return self.of("Specimen", kind.lower())


def _meta_confidence(meta: ReportMeta, field: str, printed: Printed | None) -> float | None:
    for key in (field, f"patient.{field}", f"patient_{field}"):
        if key in meta.confidence:
            return meta.confidence[key]
    return printed.confidence if printed is not None else None


def patient_field_confidences(meta: ReportMeta) -> dict[str, float]:
    """Confidence per Patient element that was read (keys are FHIR element names)."""
    p: PatientInfo = meta.patient
    candidates = {
        "family": (p.family is not None, _meta_confidence(meta, "family", p.family)),
        "given": (p.given is not None, _meta_confidence(meta, "given", p.given)),
        "birthDate": (p.birth_date is not None, _meta_confidence(meta, "birth_date", p.birth_date_src)),
        "gender": (p.sex is not None, _meta_confidence(meta, "sex", p.sex_src)),
        "identifier": (p.national_id is not None, _meta_confidence(meta, "national_id", p.national_id_src)),
    }
    return {k: c for k, (present, c) in candidates.items() if present and c is not None}


def build_patient(meta: ReportMeta, ids: Ids) -> JSON:
    p = meta.patient
    res: JSON = {"resourceType": "Patient", "id": ids.patient, "meta": {"profile": [PROFILE_PATIENT]}}
    confidences = patient_field_confidences(meta)
    extensions = []
    if confidences:
        extensions.append(confidence_extension(min(confidences.values())))
        field_ext = field_confidence_extension(confidences, order=("family", "given", "birthDate", "gender", "identifier"))
        if field_ext:
            extensions.append(field_ext)
        res["extension"] = extensions
    if p.national_id:
        res["identifier"] = [
            {
                "type": {"coding": [{"system": V2_0203, "code": "NI", "display": "National unique individual identifier"}]},
                "system": p.national_id_system or LU_NATIONAL_ID_SYSTEM,
                "value": "".join(ch for ch in p.national_id if ch.isdigit()) or p.national_id,
            }
        ]
    name: JSON = {}
    family = clean(p.family.text if p.family else None)
    given = clean(p.given.text if p.given else None)
    if family:
        name["family"] = family
    if given:
        name["given"] = given.split(" ")
    if name:
        res["name"] = [name]
    if p.sex:
        res["gender"] = p.sex
    if p.birth_date and _parse_when(p.birth_date) is not None:
        res["birthDate"] = p.birth_date.strip()[:10]
    return res


def build_organization(meta: ReportMeta, ids: Ids) -> JSON | None:
    name = clean(meta.laboratory)
    if name is None:
        return None
    return {"resourceType": "Organization", "id": ids.organization, "name": name}


def build_specimen(kind: str, meta: ReportMeta, ids: Ids) -> JSON:
    row = specimen_code(kind)
    type_: JSON = {"text": kind}
    if row is not None:
        type_ = {"coding": [{"system": row.system, "code": row.code, "display": row.display}], "text": row.display}
    res: JSON = {
        "resourceType": "Specimen",
        "id": ids.specimen(kind),
        "meta": {"profile": [PROFILE_SPECIMEN]},
        "type": type_,
        "subject": _reference(ids.patient),
    }
    collected = fhir_datetime(meta.collection_date)
    if collected:
        res["collection"] = {"collectedDateTime": collected}
    return res


def observation_value(result: MappedResult) -> JSON:
    """The value[x] (or dataAbsentReason) part of an Observation."""
    printed_unit = clean(result.raw.unit.text if result.raw.unit else None)
    if result.value is not None and math.isfinite(result.value):
        quantity: JSON = {"value": decimal_value(result.value, result.value_decimals)}
        if result.comparator:
            quantity["comparator"] = result.comparator
        unit_text = printed_unit or result.unit_ucum
        if unit_text:
            quantity["unit"] = unit_text
        if result.unit_ucum:
            quantity["system"] = UCUM
            quantity["code"] = result.unit_ucum
        return {"valueQuantity": quantity}
    if result.value_text or result.value_code:
        concept: JSON = {}
        if result.value_code:
            concept["coding"] = [{"system": SNOMED, "code": result.value_code}]
        text = clean(result.value_text) or clean(result.raw.value.text)
        if text:
            concept["text"] = text
        if concept:
            return {"valueCodeableConcept": concept}
    printed_value = clean(result.raw.value.text)
    if printed_value:
        return {"valueString": printed_value}
    return {
        "dataAbsentReason": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "unknown"}]
        }
    }


def reference_range(result: MappedResult) -> JSON | None:
    def quantity(v: float) -> JSON:
        q: JSON = {"value": decimal_value(v)}
        unit_text = clean(result.raw.unit.text if result.raw.unit else None) or result.unit_ucum
        if unit_text:
            q["unit"] = unit_text
        if result.unit_ucum:
            q["system"] = UCUM
            q["code"] = result.unit_ucum
        return q

    rng: JSON = {}
    if result.ref_low is not None and math.isfinite(result.ref_low):
        rng["low"] = quantity(result.ref_low)
    if result.ref_high is not None and math.isfinite(result.ref_high):
        rng["high"] = quantity(result.ref_high)
    if rng:
        rng["type"] = {"coding": [{"system": REFRANGE_MEANING, "code": "normal", "display": "Normal Range"}]}
    text = clean(result.ref_text) or clean(result.raw.range.text if result.raw.range else None)
    if text:
        rng["text"] = text
    return rng or None


def build_observation(result: MappedResult, meta: ReportMeta, ids: Ids, has_lab: bool) -> JSON:
    raw = result.raw
    extensions = [confidence_extension(result.confidence)]
    field_ext = field_confidence_extension(result.confidence_fields)
    if field_ext:
        extensions.append(field_ext)
    extensions.append(source_location_extension(raw))
    extensions.extend({"url": EXT_REVIEW_REASON, "valueCode": note} for note in result.notes)
    code: JSON = {}
    if result.loinc:
        coding: JSON = {"system": LOINC, "code": result.loinc}
        if result.display:
            coding["display"] = result.display
        code["coding"] = [coding]
    code["text"] = clean(raw.label.text) or clean(result.display) or UNLABELLED
    res: JSON = {
        "resourceType": "Observation",
        "id": ids.observation(raw),
        "meta": {"profile": [PROFILE_OBSERVATION]},
        "extension": extensions,
        "status": "preliminary" if result.review_status == "needs-review" else "final",
        "category": [{"coding": [{"system": OBS_CATEGORY, "code": "laboratory", "display": "Laboratory"}]}],
        "code": code,
        "subject": _reference(ids.patient),
    }
    effective = fhir_datetime(meta.collection_date)
    if effective:
        res["effectiveDateTime"] = effective
    if has_lab:
        res["performer"] = [_reference(ids.organization)]
    res.update(observation_value(result))
    if result.interpretation:
        res["interpretation"] = [{"coding": [interpretation_coding(result.interpretation)]}]
    if result.specimen:
        res["specimen"] = _reference(ids.specimen(result.specimen))
    rng = reference_range(result)
    if rng:
        res["referenceRange"] = [rng]
    return res


def group_sections(results: Sequence[MappedResult]) -> list[tuple[str, CodeRow, list[MappedResult]]]:
    """Results grouped by printed section heading, in document order."""
    groups: dict[str, list[MappedResult]] = {}
    for r in results:
        groups.setdefault(clean(r.raw.section) or "", []).append(r)
    return [(title, section_code(title), rows) for title, rows in groups.items()]


def build_composition(
    report: ParsedReport, results: Sequence[MappedResult], ids: Ids, status: str, author: JSON, date_: str
) -> JSON:
    meta = report.meta
    sections = []
    for printed, row, rows in group_sections(results):
        code: JSON = {"coding": [{"system": row.system, "code": row.code, "display": row.display}]}
        if printed:
            code["text"] = printed
        sections.append(
            {
                "title": printed or row.display.removesuffix(" (set)"),
                "code": code,
                "entry": [_reference(ids.observation(r.raw)) for r in rows],
            }
        )
    res: JSON = {
        "resourceType": "Composition",
        "id": ids.composition,
        "meta": {"profile": [PROFILE_COMPOSITION]},
    }
    if meta.language in ("fr", "de", "en"):
        res["language"] = meta.language
    res.update(
        {
            "extension": [{"url": EXT_COMPOSITION_REPORT, "valueReference": _reference(ids.report)}],
            "identifier": {"system": RFC3986, "value": urn_uuid(ids.of("document-identifier"))},
            "status": status,
            "type": {"coding": [dict(REPORT_CODE)]},
            "category": [
                {"coding": [{"system": LOINC, "code": FALLBACK_SECTION, "display": "Laboratory studies (set)"}]}
            ],
            "subject": _reference(ids.patient),
            "date": date_,
            "author": [author],
            "title": report_title(meta.language),
            "confidentiality": "N",
        }
    )
    if "reference" in author and author["reference"] == urn_uuid(ids.organization):
        res["custodian"] = _reference(ids.organization)
    if sections:
        res["section"] = sections
    return res


def presented_form(pdf_bytes: bytes | None, pdf_url: str | None, language: str) -> JSON | None:
    if pdf_bytes is None and not pdf_url:
        return None
    form: JSON = {"contentType": "application/pdf"}
    if language in ("fr", "de", "en"):
        form["language"] = language
    if pdf_bytes is not None:
        form["data"] = base64.b64encode(pdf_bytes).decode("ascii")
        form["size"] = len(pdf_bytes)
        form["hash"] = base64.b64encode(hashlib.sha1(pdf_bytes).digest()).decode("ascii")
    else:
        form["url"] = pdf_url
    form["title"] = "Original laboratory report (PDF)"
    return form


def report_field_confidences(meta: ReportMeta) -> dict[str, float]:
    keys = ("collection_date", "report_date", "laboratory", "report_id", "prescriber")
    return {k: meta.confidence[k] for k in keys if k in meta.confidence}


def build_report(
    report: ParsedReport,
    observations: Sequence[JSON],
    specimens: Iterable[str],
    ids: Ids,
    status: str,
    has_lab: bool,
    pdf_bytes: bytes | None,
    pdf_url: str | None,
) -> JSON:
    meta = report.meta
    extensions: list[JSON] = [{"url": EXT_REPORT_COMPOSITION, "valueReference": _reference(ids.composition)}]
    confidences = report_field_confidences(meta)
    if confidences:
        extensions.append(confidence_extension(min(confidences.values())))
        field_ext = field_confidence_extension(confidences, order=tuple(confidences))
        if field_ext:
            extensions.append(field_ext)
    identifiers: list[JSON] = [{"system": RFC3986, "value": urn_uuid(ids.of("document-identifier"))}]
    report_id = clean(meta.report_id)
    if report_id:
        accession: JSON = {
            "type": {"coding": [{"system": V2_0203, "code": "ACSN", "display": "Accession ID"}]},
            "value": report_id,
        }
        if has_lab:
            accession["assigner"] = _reference(ids.organization)
        identifiers.append(accession)
    res: JSON = {
        "resourceType": "DiagnosticReport",
        "id": ids.report,
        "meta": {"profile": [PROFILE_REPORT]},
        "extension": extensions,
        "identifier": identifiers,
        "status": status,
        "category": [{"coding": [{"system": LOINC, "code": FALLBACK_SECTION, "display": "Laboratory studies (set)"}]}],
        "code": {"coding": [dict(REPORT_CODE)]},
        "subject": _reference(ids.patient),
    }
    effective = fhir_datetime(meta.collection_date)
    if effective:
        res["effectiveDateTime"] = effective
    issued = fhir_instant(meta.report_date)
    if issued:
        res["issued"] = issued
    if has_lab:
        res["performer"] = [_reference(ids.organization)]
    specimen_refs = [_reference(ids.specimen(s)) for s in specimens]
    if specimen_refs:
        res["specimen"] = specimen_refs
    if observations:
        res["result"] = [_reference(o["id"]) for o in observations]
    form = presented_form(pdf_bytes, pdf_url, meta.language)
    if form:
        res["presentedForm"] = [form]
    return res


def build_device(ids: Ids) -> JSON:
    return {
        "resourceType": "Device",
        "id": ids.device,
        "deviceName": [{"name": SOFTWARE_NAME, "type": "manufacturer-name"}],
        "version": [{"value": software_version()}],
    }


def build_provenance(report: ParsedReport, ids: Ids, recorded: str) -> JSON:
    return {
        "resourceType": "Provenance",
        "id": ids.provenance,
        "target": [_reference(ids.composition), _reference(ids.report)],
        "recorded": recorded,
        "activity": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                    "code": "CREATE",
                    "display": "create",
                }
            ],
            "text": "extraction from PDF",
        },
        "agent": [
            {
                "type": {"coding": [{"system": PROVENANCE_PARTICIPANT, "code": "assembler", "display": "Assembler"}]},
                "who": _reference(ids.device, f"{SOFTWARE_NAME} {software_version()}"),
            }
        ],
        "entity": [
            {
                "role": "source",
                "what": {
                    "identifier": {"system": SHA256_SYSTEM, "value": report.source.sha256.lower()},
                    "display": "source PDF",
                },
            }
        ],
    }


# --------------------------------------------------------------------------- bundle


def _entry(resource: JSON) -> JSON:
    return {"fullUrl": urn_uuid(resource["id"]), "resource": resource}


def bundle_timestamp(meta: ReportMeta) -> str:
    return fhir_instant(meta.report_date) or fhir_instant(meta.collection_date) or UNKNOWN_TIMESTAMP


def build_bundle(
    report: ParsedReport,
    results: Sequence[MappedResult],
    pdf_bytes: bytes | None = None,
    pdf_url: str | None = None,
) -> JSON:
    """Build and validate the HL7 Europe lab-report document Bundle for one report.

    Results with review_status "rejected" are left out; "needs-review" results are
    kept with Observation.status "preliminary" (and make the Composition and
    DiagnosticReport preliminary). Raises BundleValidationError when fhir.resources
    R4B rejects the result.
    """
    ids = Ids(report.source.sha256 or report.source.id)
    meta = report.meta
    kept = sorted((r for r in results if r.review_status != "rejected"), key=lambda r: r.raw.index)
    indexes = [r.raw.index for r in kept]
    if len(set(indexes)) != len(indexes):
        raise ValueError(f"document {report.source.id}: duplicate result row index")
    organization = build_organization(meta, ids)
    has_lab = organization is not None
    observations = [build_observation(r, meta, ids, has_lab) for r in kept]
    status = "preliminary" if any(o["status"] == "preliminary" for o in observations) else "final"
    specimens = sorted({r.specimen.lower() for r in kept if r.specimen})
    timestamp = bundle_timestamp(meta)
    author = _reference(ids.organization) if has_lab else _reference(ids.device)
    composition_date = fhir_datetime(meta.report_date) or fhir_datetime(meta.collection_date) or timestamp
    resources: list[JSON] = [
        build_composition(report, kept, ids, status, author, composition_date),
        build_report(report, observations, specimens, ids, status, has_lab, pdf_bytes, pdf_url),
        build_patient(meta, ids),
    ]
    if organization is not None:
        resources.append(organization)
    resources.extend(build_specimen(s, meta, ids) for s in specimens)
    resources.extend(observations)
    resources.append(build_device(ids))
    resources.append(build_provenance(report, ids, timestamp))
    bundle: JSON = {
        "resourceType": "Bundle",
        "id": ids.bundle,
        "meta": {"profile": [PROFILE_BUNDLE]},
        "identifier": {"system": RFC3986, "value": urn_uuid(ids.of("bundle-identifier"))},
        "type": "document",
        "timestamp": timestamp,
        "entry": [_entry(r) for r in resources],
    }
    validate_bundle(bundle, document_id=report.source.id)
    return bundle


def validate_bundle(bundle: JSON, document_id: str = "") -> None:
    """Validate with fhir.resources R4B; errors name paths and error types only."""
    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    try:
        Bundle.model_validate(bundle)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['type']}" for err in exc.errors(include_input=False)[:10]
        )
        raise BundleValidationError(f"document {document_id}: invalid FHIR Bundle: {problems}") from None
    dangling = unresolved_references(bundle)
    if dangling:
        raise BundleValidationError(f"document {document_id}: {len(dangling)} unresolved references")


def iter_references(node: Any) -> Iterable[str]:
    """Every Reference.reference string inside a JSON tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield value
            else:
                yield from iter_references(value)
    elif isinstance(node, list):
        for item in node:
            yield from iter_references(item)


def unresolved_references(bundle: JSON) -> list[str]:
    full_urls = {e.get("fullUrl") for e in bundle.get("entry", [])}
    return [ref for ref in iter_references(bundle) if ref not in full_urls]


# --------------------------------------------------------------------------- JSON


def _dump(node: Any, indent: int, level: int, out: list[str]) -> None:
    pad = "\n" + " " * (indent * (level + 1))
    end = "\n" + " " * (indent * level)
    if isinstance(node, dict):
        if not node:
            out.append("{}")
            return
        out.append("{")
        for i, (key, value) in enumerate(node.items()):
            out.append(("," if i else "") + pad + json.dumps(str(key), ensure_ascii=False) + ": ")
            _dump(value, indent, level + 1, out)
        out.append(end + "}")
    elif isinstance(node, (list, tuple)):
        if not node:
            out.append("[]")
            return
        out.append("[")
        for i, value in enumerate(node):
            out.append(("," if i else "") + pad)
            _dump(value, indent, level + 1, out)
        out.append(end + "]")
    elif isinstance(node, Decimal):
        if not node.is_finite():
            raise ValueError("non-finite decimal in bundle")
        text = format(node, "f")
        out.append(text)
    elif isinstance(node, bool) or node is None or isinstance(node, (str, int)):
        out.append(json.dumps(node, ensure_ascii=False))
    elif isinstance(node, float):
        if not math.isfinite(node):
            raise ValueError("non-finite number in bundle")
        out.append(repr(node))
    else:
        raise TypeError(f"cannot serialise {type(node).__name__}")


def bundle_json(bundle: JSON) -> bytes:
    """Deterministic UTF-8 JSON: keys in the builder's fixed (FHIR) order, indent 2,
    decimals written exactly as held (4.50 stays 4.50), final newline."""
    out: list[str] = []
    _dump(bundle, 2, 0, out)
    out.append("\n")
    return "".join(out).encode("utf-8")
