"""Tests for the FHIR document builder (mappers/fhir.py) and deterministic ids."""

from __future__ import annotations

import base64
import hashlib
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mappers import fhir
from mappers.ids import resource_id
from models import (
    BBox,
    MappedResult,
    ParsedReport,
    PatientInfo,
    Printed,
    RawResult,
    ReportMeta,
    SourceDocument,
    WordSource,
)

SHA = "ab" * 32


def printed(text: str, x0: float = 50.0, top: float = 100.0, page: int = 1, source: WordSource = WordSource.TEXT, conf: float = 1.0) -> Printed:
    return Printed(text=text, page=page, bbox=BBox(x0=x0, top=top, x1=x0 + 40.0, bottom=top + 10.0), source=source, confidence=conf)


def raw(index: int, label: str, value: str, unit: str | None = None, rng: str | None = None, section: str | None = None, top: float = 100.0) -> RawResult:
    return RawResult(
        index=index,
        section=section,
        label=printed(label, 50, top),
        value=printed(value, 200, top),
        unit=printed(unit, 260, top) if unit else None,
        range=printed(rng, 320, top) if rng else None,
        language="fr",
    )


def make_report(**meta_overrides: Any) -> ParsedReport:
    meta = dict(
        language="fr",
        patient=PatientInfo(
            family=printed("Schmit", conf=0.97),
            given=printed("Anne Marie", conf=0.9),
            birth_date="1962-03-14",
            sex="female",
            national_id="1962 0314 12345",
            national_id_src=printed("1962 0314 12345", conf=0.8),
        ),
        collection_date="2026-03-02T08:15:00",
        report_date="2026-03-03",
        laboratory="Laboratoire Central Nord",
        report_id="A-2026-0042",
        confidence={"collection_date": 0.95, "report_date": 0.9},
    )
    meta.update(meta_overrides)
    source = SourceDocument(id=SHA, uri="/tmp/x.pdf", stem="lab-fr-0001", sha256=SHA, size=10, page_count=1)
    return ParsedReport(source=source, meta=ReportMeta(**meta), rows=())


def make_results() -> list[MappedResult]:
    numeric = MappedResult(
        raw=raw(0, "Hémoglobine", "4,50", "g/dl", "4,00 - 5,50", section="HÉMATOLOGIE"),
        loinc="718-7",
        display="Hemoglobin [Mass/volume] in Blood",
        value=4.5,
        value_decimals=2,
        unit_ucum="g/dL",
        ref_low=4.0,
        ref_high=5.5,
        interpretation="N",
        specimen="blood",
        confidence_fields={"value": 0.99, "code": 0.95, "unit": 0.98, "range": 0.97},
        confidence=0.9512,
        review_status="auto-accepted",
    )
    qualitative = MappedResult(
        raw=raw(1, "Glucose urinaire", "négatif", section="Urines", top=130),
        loinc="25428-4",
        display="Glucose [Presence] in Urine by Test strip",
        value_text="negative",
        value_code="260385009",
        interpretation="N",
        specimen="urine",
        confidence_fields={"code": 0.9, "value": 0.95},
        confidence=0.88,
        review_status="auto-accepted",
    )
    unmapped = MappedResult(
        raw=raw(2, "Facteur mystère", "12", "U/l", section="Biochimie", top=160),
        value=12.0,
        value_decimals=0,
        confidence_fields={"code": 0.1, "value": 0.9},
        confidence=0.3,
        review_status="needs-review",
        notes=("unmapped-label", "unit-unknown"),
    )
    comparator = MappedResult(
        raw=raw(3, "CRP", "< 5", "mg/l", "< 5", section="Biochimie", top=190),
        loinc="1988-5",
        display="C reactive protein [Mass/volume] in Serum or Plasma",
        value=5.0,
        value_decimals=0,
        comparator="<",
        unit_ucum="mg/L",
        ref_high=5.0,
        specimen="serum",
        confidence_fields={"code": 0.99, "value": 0.93, "unit": 0.99, "range": 0.9},
        confidence=0.93,
        review_status="auto-accepted",
    )
    return [numeric, qualitative, unmapped, comparator]


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def by_label(bundle: dict[str, Any], label: str) -> dict[str, Any]:
    return next(o for o in resources(bundle, "Observation") if o["code"]["text"] == label)


def ext(resource: dict[str, Any], url: str) -> dict[str, Any]:
    return next(e for e in resource.get("extension", []) if e["url"] == url)


def sub(extension: dict[str, Any]) -> dict[str, Any]:
    return {e["url"]: next(v for k, v in e.items() if k.startswith("value")) for e in extension["extension"]}


@pytest.fixture(scope="module")
def bundle() -> dict[str, Any]:
    return fhir.build_bundle(make_report(), make_results(), pdf_bytes=b"%PDF-1.4 fake")


# ---------------------------------------------------------------- ids


def test_resource_id_is_stable_and_distinct() -> None:
    a = resource_id(SHA, "Observation", "1")
    assert a == resource_id(SHA, "Observation", "1")
    assert a != resource_id(SHA, "Observation", "2")
    assert a != resource_id("cd" * 32, "Observation", "1")
    assert resource_id(SHA, "ab", "c") != resource_id(SHA, "a", "bc")


# ---------------------------------------------------------------- structure


def test_document_structure(bundle: dict[str, Any]) -> None:
    assert bundle["type"] == "document"
    assert bundle["identifier"]["system"] == "urn:ietf:rfc:3986"
    assert bundle["identifier"]["value"].startswith("urn:uuid:")
    first = bundle["entry"][0]["resource"]
    assert first["resourceType"] == "Composition"
    assert len(resources(bundle, "Composition")) == 1
    assert len(resources(bundle, "DiagnosticReport")) == 1
    assert first["type"]["coding"][0]["code"] == "11502-2"
    assert first["status"] == "preliminary"  # one result needs review
    for entry in bundle["entry"]:
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"
    assert fhir.unresolved_references(bundle) == []
    # timestamp from the printed report date (local midnight), no wall clock
    assert bundle["timestamp"].startswith("2026-03-03T00:00:00")


def test_bundle_validates_with_fhir_resources(bundle: dict[str, Any]) -> None:
    from fhir.resources.R4B.bundle import Bundle

    parsed = Bundle.model_validate(json.loads(fhir.bundle_json(bundle)))
    assert parsed.type == "document"


def test_composition_sections_group_observations_by_specialty(bundle: dict[str, Any]) -> None:
    comp = resources(bundle, "Composition")[0]
    codes = {s["code"]["coding"][0]["code"]: s for s in comp["section"]}
    assert set(codes) == {"18723-7", "18729-4", "18719-5"}
    chem_refs = [e["reference"] for e in codes["18719-5"]["entry"]]
    chem_ids = {by_label(bundle, "Facteur mystère")["id"], by_label(bundle, "CRP")["id"]}
    assert {r.removeprefix("urn:uuid:") for r in chem_refs} == chem_ids
    all_section_refs = [e["reference"] for s in comp["section"] for e in s["entry"]]
    assert len(all_section_refs) == len(resources(bundle, "Observation")) == 4
    report = resources(bundle, "DiagnosticReport")[0]
    assert ext(comp, fhir.EXT_COMPOSITION_REPORT)["valueReference"]["reference"] == f"urn:uuid:{report['id']}"
    assert ext(report, fhir.EXT_REPORT_COMPOSITION)["valueReference"]["reference"] == f"urn:uuid:{comp['id']}"


def test_diagnostic_report(bundle: dict[str, Any]) -> None:
    report = resources(bundle, "DiagnosticReport")[0]
    assert report["code"]["coding"][0]["code"] == "11502-2"
    assert report["effectiveDateTime"].startswith("2026-03-02T08:15:00")
    assert report["issued"].startswith("2026-03-03")
    result_ids = {r["reference"] for r in report["result"]}
    assert result_ids == {f"urn:uuid:{o['id']}" for o in resources(bundle, "Observation")}
    form = report["presentedForm"][0]
    assert form["contentType"] == "application/pdf"
    assert base64.b64decode(form["data"]) == b"%PDF-1.4 fake"
    assert base64.b64decode(form["hash"]) == hashlib.sha1(b"%PDF-1.4 fake").digest()
    assert any(i.get("value") == "A-2026-0042" for i in report["identifier"])


def test_presented_form_url_when_no_bytes() -> None:
    b = fhir.build_bundle(make_report(), make_results()[:1], pdf_url="https://example.org/r.pdf")
    form = resources(b, "DiagnosticReport")[0]["presentedForm"][0]
    assert form["url"] == "https://example.org/r.pdf" and "data" not in form


def test_patient(bundle: dict[str, Any]) -> None:
    patient = resources(bundle, "Patient")[0]
    assert patient["identifier"][0]["system"] == fhir.LU_NATIONAL_ID_SYSTEM
    assert patient["identifier"][0]["value"] == "1962031412345"
    assert patient["name"][0] == {"family": "Schmit", "given": ["Anne", "Marie"]}
    assert patient["gender"] == "female" and patient["birthDate"] == "1962-03-14"
    fields = sub(ext(patient, fhir.EXT_FIELD_CONFIDENCE))
    assert fields["family"] == Decimal("0.970") and fields["identifier"] == Decimal("0.800")
    assert ext(patient, fhir.EXT_CONFIDENCE)["valueDecimal"] == Decimal("0.800")


# ---------------------------------------------------------------- observations


def test_numeric_observation_keeps_printed_decimals(bundle: dict[str, Any]) -> None:
    obs = by_label(bundle, "Hémoglobine")
    q = obs["valueQuantity"]
    assert q["value"] == Decimal("4.50") and str(q["value"]) == "4.50"
    assert q["unit"] == "g/dl" and q["code"] == "g/dL" and q["system"] == "http://unitsofmeasure.org"
    assert obs["code"]["coding"][0] == {"system": "http://loinc.org", "code": "718-7", "display": "Hemoglobin [Mass/volume] in Blood"}
    assert obs["status"] == "final"
    rng = obs["referenceRange"][0]
    assert rng["low"]["value"] == Decimal("4") and rng["high"]["code"] == "g/dL"
    assert obs["interpretation"][0]["coding"][0]["code"] == "N"
    specimen = resources(bundle, "Specimen")
    blood = next(s for s in specimen if s["type"]["coding"][0]["code"] == "119297000")
    assert obs["specimen"]["reference"] == f"urn:uuid:{blood['id']}"
    text = fhir.bundle_json(bundle).decode("utf-8")
    assert '"value": 4.50' in text


def test_confidence_and_source_extensions(bundle: dict[str, Any]) -> None:
    obs = by_label(bundle, "Hémoglobine")
    assert ext(obs, fhir.EXT_CONFIDENCE)["valueDecimal"] == Decimal("0.951")
    fields = sub(ext(obs, fhir.EXT_FIELD_CONFIDENCE))
    assert list(fields) == ["code", "value", "unit", "range"]  # fixed order, not input order
    loc = sub(ext(obs, fhir.EXT_SOURCE_LOCATION))
    assert loc["page"] == 1 and loc["source"] == "text"
    x0, top, x1, bottom = (float(v) for v in loc["bbox"].split(","))
    assert (x0, top, x1, bottom) == (50.0, 100.0, 360.0, 110.0)  # whole row: label..range
    for o in resources(bundle, "Observation"):
        c = ext(o, fhir.EXT_CONFIDENCE)["valueDecimal"]
        assert Decimal(0) <= c <= Decimal(1)


def test_review_reasons_travel_with_the_observation(bundle: dict[str, Any]) -> None:
    reasons = [e["valueCode"] for e in by_label(bundle, "Facteur mystère")["extension"] if e["url"] == fhir.EXT_REVIEW_REASON]
    assert reasons == ["unmapped-label", "unit-unknown"]  # the mapper's notes, in order
    assert not any(e["url"] == fhir.EXT_REVIEW_REASON for e in by_label(bundle, "Hémoglobine")["extension"])


def test_qualitative_observation(bundle: dict[str, Any]) -> None:
    obs = by_label(bundle, "Glucose urinaire")
    concept = obs["valueCodeableConcept"]
    assert concept["coding"][0] == {"system": "http://snomed.info/sct", "code": "260385009"}
    assert concept["text"] == "negative"
    assert "valueQuantity" not in obs


def test_unmapped_observation_kept_with_text_only(bundle: dict[str, Any]) -> None:
    obs = by_label(bundle, "Facteur mystère")
    assert "coding" not in obs["code"]
    assert obs["status"] == "preliminary"
    q = obs["valueQuantity"]
    assert q["value"] == Decimal("12") and q["unit"] == "U/l"
    assert "code" not in q and "system" not in q  # no UCUM code known


def test_comparator_observation(bundle: dict[str, Any]) -> None:
    obs = by_label(bundle, "CRP")
    assert obs["valueQuantity"]["comparator"] == "<"
    assert obs["valueQuantity"]["value"] == Decimal("5")
    assert "low" not in obs["referenceRange"][0]
    assert obs["referenceRange"][0]["high"]["value"] == Decimal("5")


def test_rejected_results_are_left_out() -> None:
    results = make_results()
    rejected = results[0].model_copy(update={"review_status": "rejected"})
    b = fhir.build_bundle(make_report(), [rejected, *results[1:]])
    assert len(resources(b, "Observation")) == 3
    assert fhir.unresolved_references(b) == []


def test_minimal_report_without_header_fields_still_valid() -> None:
    report = make_report(patient=PatientInfo(), collection_date=None, report_date=None, laboratory=None, report_id=None, confidence={})
    b = fhir.build_bundle(report, make_results()[2:3])
    assert b["timestamp"] == fhir.UNKNOWN_TIMESTAMP
    comp = resources(b, "Composition")[0]
    assert comp["author"][0]["reference"] == f"urn:uuid:{resources(b, 'Device')[0]['id']}"
    assert comp["section"][0]["code"]["coding"][0]["code"] == "18719-5"
    assert resources(b, "Organization") == []


def test_no_section_heading_falls_back_to_laboratory_studies() -> None:
    r = make_results()[0]
    no_section = r.model_copy(update={"raw": r.raw.model_copy(update={"section": None})})
    b = fhir.build_bundle(make_report(), [no_section])
    assert resources(b, "Composition")[0]["section"][0]["code"]["coding"][0]["code"] == "26436-6"


def test_invalid_bundle_raises_clear_error_without_data() -> None:
    b = fhir.build_bundle(make_report(), make_results())
    broken = json.loads(fhir.bundle_json(b))
    broken["entry"][2]["resource"]["birthDate"] = "Schmit-secret"  # fhir.resources checks formats, not code enums
    with pytest.raises(fhir.BundleValidationError) as info:
        fhir.validate_bundle(broken, document_id="doc1")
    assert "doc1" in str(info.value) and "Schmit" not in str(info.value)


def test_unresolved_reference_is_detected() -> None:
    b = json.loads(fhir.bundle_json(fhir.build_bundle(make_report(), make_results())))
    b["entry"] = [e for e in b["entry"] if e["resource"]["resourceType"] != "Patient"]
    assert fhir.unresolved_references(b)
    with pytest.raises(fhir.BundleValidationError):
        fhir.validate_bundle(b)


# ---------------------------------------------------------------- determinism


def test_two_builds_give_identical_bytes() -> None:
    one = fhir.bundle_json(fhir.build_bundle(make_report(), make_results(), pdf_bytes=b"%PDF"))
    two = fhir.bundle_json(fhir.build_bundle(make_report(), list(reversed(make_results())), pdf_bytes=b"%PDF"))
    assert one == two
    other = fhir.build_bundle(make_report(), make_results(), pdf_bytes=b"%PDF")
    assert json.loads(one) == json.loads(fhir.bundle_json(other))


def test_bundle_json_is_valid_utf8_json() -> None:
    data = fhir.bundle_json(fhir.build_bundle(make_report(), make_results()))
    parsed = json.loads(data.decode("utf-8"))
    assert "Hémoglobine" in data.decode("utf-8")  # not \u-escaped
    assert parsed["resourceType"] == "Bundle"


@settings(max_examples=60, deadline=None)
@given(value=st.decimals(min_value=Decimal("-1e6"), max_value=Decimal("1e6"), places=3, allow_nan=False, allow_infinity=False))
def test_decimal_value_round_trips_printed_precision(value: Decimal) -> None:
    places = 3
    rendered = fhir.decimal_value(float(value), places)
    assert rendered == value
    assert -rendered.as_tuple().exponent == places
    out = fhir.bundle_json({"v": rendered}).decode()
    assert json.loads(out)["v"] == pytest.approx(float(value))
    assert format(value.quantize(Decimal("0.001")), "f") in out


@settings(max_examples=60, deadline=None)
@given(c=st.floats(allow_nan=True, allow_infinity=True))
def test_confidence_decimal_is_clamped(c: float) -> None:
    d = fhir.confidence_decimal(c)
    assert Decimal(0) <= d <= Decimal(1)
    assert d.as_tuple().exponent == -3


@pytest.mark.parametrize(
    ("heading", "code"),
    [("HÉMATOLOGIE", "18723-7"), ("Hämatologie", "18723-7"), ("Klinische Chemie", "18719-5"), ("Biochimie sanguine", "18719-5"),
     ("Hémostase", "18720-3"), ("Gerinnung", "18720-3"), ("Urinalysis", "18729-4"), ("Sérologie", "18727-8"), ("Endocrinologie", "26436-6"), (None, "26436-6")],
)
def test_section_code(heading: str | None, code: str) -> None:
    assert fhir.section_code(heading).code == code


def test_times_get_luxembourg_zone() -> None:
    assert fhir.fhir_datetime("2026-03-02T08:15:00") == "2026-03-02T08:15:00+01:00"
    assert fhir.fhir_datetime("2026-07-02T08:15:00") == "2026-07-02T08:15:00+02:00"
    assert fhir.fhir_datetime("2026-03-02") == "2026-03-02"
    assert fhir.fhir_instant("2026-03-02") == "2026-03-02T00:00:00+01:00"
    assert fhir.fhir_datetime("not a date") is None


# ---------------------------------------------------------------- property: any mapped rows give a valid document

_words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12)
_finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)


@st.composite
def mapped_results(draw: st.DrawFn) -> list[MappedResult]:
    n = draw(st.integers(min_value=0, max_value=6))
    indexes = draw(st.lists(st.integers(min_value=0, max_value=500), min_size=n, max_size=n, unique=True))
    out = []
    for i in indexes:
        kind = draw(st.sampled_from(["numeric", "qualitative", "string"]))
        out.append(
            MappedResult(
                raw=raw(i, draw(_words), draw(_words), draw(st.none() | _words), draw(st.none() | _words), section=draw(st.none() | _words)),
                loinc=draw(st.none() | st.sampled_from(["718-7", "2345-7"])),
                value=draw(_finite) if kind == "numeric" else None,
                value_decimals=draw(st.none() | st.integers(min_value=0, max_value=6)),
                comparator=draw(st.none() | st.sampled_from(["<", "<=", ">", ">="])) if kind == "numeric" else None,
                value_text=draw(_words) if kind == "qualitative" else None,
                unit_ucum=draw(st.none() | st.sampled_from(["g/dL", "mmol/L", "10*9/L"])),
                ref_low=draw(st.none() | _finite),
                ref_high=draw(st.none() | _finite),
                interpretation=draw(st.none() | st.sampled_from(["H", "L", "N", "A", "POS"])),
                specimen=draw(st.none() | st.sampled_from(["blood", "serum", "plasma", "urine", "csf"])),
                confidence_fields={k: draw(st.floats(0, 1)) for k in draw(st.sets(st.sampled_from(["code", "value", "unit", "range", "flag"])))},
                confidence=draw(st.floats(0, 1)),
                review_status=draw(st.sampled_from(["auto-accepted", "needs-review", "accepted", "corrected", "rejected"])),
            )
        )
    return out


@settings(max_examples=25, deadline=None)
@given(results=mapped_results())
def test_any_results_build_a_valid_resolvable_deterministic_document(results: list[MappedResult]) -> None:
    b = fhir.build_bundle(make_report(), results)  # validates internally
    assert b["entry"][0]["resource"]["resourceType"] == "Composition"
    assert fhir.unresolved_references(b) == []
    kept = [r for r in results if r.review_status != "rejected"]
    assert len(resources(b, "Observation")) == len(kept)
    assert fhir.bundle_json(b) == fhir.bundle_json(fhir.build_bundle(make_report(), list(reversed(results))))
    json.loads(fhir.bundle_json(b))
