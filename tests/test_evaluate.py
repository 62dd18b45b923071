"""Tests for flows/evaluate.py on small synthetic truth/prediction pairs.

The predicted bundle is built with the real builder from hand-made MappedResults:
against a 5-observation truth it has 3 correct results, one wrong value, one missing
result and one extra result, so the expected counts follow from the construction.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flows import evaluate as ev
from mappers import fhir
from models import MappedResult, PatientInfo

try:  # tests/ as a package or as a plain directory on sys.path
    from tests.test_fhir import make_report, printed, raw
except ImportError:  # pragma: no cover
    from test_fhir import make_report, printed, raw  # type: ignore[no-redef]


def truth_obs(loinc: str, value: float | None, unit: str | None, **kw: Any) -> dict[str, Any]:
    base = {"label": loinc, "loinc": loinc, "value": value, "comparator": None, "value_text": None, "unit": unit,
            "unit_printed": unit, "ref_low": None, "ref_high": None, "interpretation": None, "page": 1}
    base.update(kw)
    return base


TRUTH_A = {
    "schema": "pdf2fhir-truth/1", "document": "doc-a", "layout": "fr_ruled", "language": "fr", "scanned": False,
    "patient": {"family": "Schmit", "given": "Anne Marie", "birth_date": "1962-03-14", "sex": "female", "national_id": "1962031412345"},
    "collection_date": "2026-03-02", "report_date": "2026-03-03",
    "laboratory": "Laboratoire Central Nord", "prescriber": "Dr X",
    "observations": [
        truth_obs("718-7", 13.2, "g/dL", ref_low=12.0, ref_high=16.0, interpretation="N"),
        truth_obs("1988-5", 5.0, "mg/L", comparator="<", ref_high=5.0),
        truth_obs("25428-4", None, None, value_text="negative", interpretation="N"),
        truth_obs("6690-2", 7.5, "10*9/L", ref_low=4.0, ref_high=10.0, interpretation="N"),
        truth_obs("777-3", 250.0, "10*9/L", ref_low=150.0, ref_high=400.0, interpretation="N"),
    ],
}
TRUTH_B = {
    "schema": "pdf2fhir-truth/1", "document": "doc-b", "layout": "de_plain", "language": "de", "scanned": True,
    "patient": {"family": "Müller", "given": "Jan", "birth_date": "1970-01-02", "sex": "male", "national_id": "1970010212345"},
    "collection_date": "2026-01-05", "report_date": "2026-01-06",
    "observations": [truth_obs("2345-7", 5.4, "mmol/L"), truth_obs("2160-0", 80.0, "umol/L")],
}


def mapped(index: int, loinc: str, value: float | None, unit: str | None, confidence: float, **kw: Any) -> MappedResult:
    return MappedResult(
        raw=raw(index, loinc, str(value), unit, top=100 + 20 * index),
        loinc=loinc, value=value, unit_ucum=unit, confidence=confidence, review_status="auto-accepted", **kw,
    )


def predicted_results() -> list[MappedResult]:
    return [
        mapped(0, "718-7", 13.2, "g/dL", 0.97, value_decimals=1, ref_low=12.0, ref_high=16.0, interpretation="H"),  # interp wrong
        mapped(1, "1988-5", 5.0, "mg/L", 0.92, comparator="<", ref_high=10.0),  # range wrong
        mapped(2, "25428-4", None, None, 0.85, value_text="Negative", interpretation="N"),
        mapped(3, "6690-2", 8.5, "10*9/L", 0.95, ref_low=4.0, ref_high=10.0, interpretation="N"),  # wrong value
        mapped(4, "2951-2", 140.0, "mmol/L", 0.40),  # extra: not in truth
        # 777-3 platelets: missing
    ]


@pytest.fixture()
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    truth_dir, pred_dir = tmp_path / "truth", tmp_path / "out"
    truth_dir.mkdir()
    (truth_dir / "doc-a.truth.json").write_text(json.dumps(TRUTH_A), "utf-8")
    (truth_dir / "doc-b.truth.json").write_text(json.dumps(TRUTH_B), "utf-8")
    patient = PatientInfo(family=printed("SCHMIT"), given=printed("anne  marie"), birth_date="1962-03-15", sex="female",
                          national_id="1962 0314 12345")
    bundle = fhir.build_bundle(make_report(patient=patient), predicted_results())
    (pred_dir / "bundles").mkdir(parents=True)
    (pred_dir / "bundles" / "doc-a.json").write_bytes(fhir.bundle_json(bundle))
    return truth_dir, pred_dir  # doc-b has no bundle


def test_counts_follow_construction(dirs: tuple[Path, Path]) -> None:
    report = ev.evaluate(*dirs)
    assert (report.overall.tp, report.overall.fp, report.overall.fn) == (3, 2, 4)
    a = report.by_layout["fr_ruled"]
    assert (a.tp, a.fp, a.fn) == (3, 2, 2)
    assert a.precision == pytest.approx(0.6) and a.recall == pytest.approx(0.6) and a.f1 == pytest.approx(0.6)
    b = report.by_layout["de_plain"]
    assert (b.tp, b.fp, b.fn) == (0, 0, 2) and b.recall == 0.0
    assert report.by_scan["digital"].tp == 3 and report.by_scan["scanned"].fn == 2
    assert report.overall.precision == pytest.approx(3 / 5)
    assert report.overall.recall == pytest.approx(3 / 7)


def test_range_and_interpretation_accuracy(dirs: tuple[Path, Path]) -> None:
    report = ev.evaluate(*dirs)
    assert (report.range_accuracy.correct, report.range_accuracy.total) == (2, 3)
    assert (report.interpretation_accuracy.correct, report.interpretation_accuracy.total) == (2, 3)


def test_patient_fields(dirs: tuple[Path, Path]) -> None:
    fields = ev.evaluate(*dirs).fields
    # doc-a right except birth date; doc-b has no bundle, so every field is wrong
    assert {k: (r.correct, r.total) for k, r in fields.items()} == {
        "family": (1, 2), "given": (1, 2), "birth_date": (0, 2), "sex": (1, 2),
        "national_id": (1, 2), "collection_date": (1, 2), "report_date": (1, 2),
    }


def test_calibration(dirs: tuple[Path, Path]) -> None:
    report = ev.evaluate(*dirs, threshold=0.9)
    assert report.predicted == 5
    assert report.confident == 3 and report.confident_correct == 2
    assert report.confident_share == pytest.approx(0.6)
    bins = {(b.low, b.high): (b.count, b.correct) for b in report.calibration}
    assert bins[(0.0, 0.5)] == (1, 0)
    assert bins[(0.8, 0.9)] == (1, 1)
    assert bins[(0.9, 0.95)] == (1, 1)
    assert bins[(0.95, 1.0)] == (2, 1)
    assert sum(c for c, _ in bins.values()) == report.predicted


def test_structure_checks(dirs: tuple[Path, Path]) -> None:
    report = ev.evaluate(*dirs)
    assert all(r.correct == r.total == 1 for r in report.structure.values())
    truth_dir, pred_dir = dirs
    path = pred_dir / "bundles" / "doc-a.json"
    bundle = json.loads(path.read_text("utf-8"))
    bundle["entry"] = bundle["entry"][1:] + bundle["entry"][:1]  # Composition no longer first
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Patient"]
    path.write_text(json.dumps(bundle), "utf-8")
    checks = ev.evaluate(truth_dir, pred_dir).documents[0].structure
    assert checks["composition_first"] is False and checks["references_resolve"] is False
    assert checks["one_diagnostic_report"] is True


def test_strict_match_rules() -> None:
    t = ev.Obs("718-7", 13.2, None, None, None, "g/dL", None, None, None)
    assert ev.strict_match(t, t)
    assert ev.strict_match(t, ev.Obs("718-7", 13.2 * (1 + 1e-12), None, None, None, "g/dL", None, None, None))
    assert not ev.strict_match(t, ev.Obs("718-7", 13.3, None, None, None, "g/dL", None, None, None))
    assert not ev.strict_match(t, ev.Obs("718-7", 13.2, "<", None, None, "g/dL", None, None, None))
    assert not ev.strict_match(t, ev.Obs("718-7", 13.2, None, None, None, "g/L", None, None, None))
    assert not ev.strict_match(t, ev.Obs(None, 13.2, None, None, None, "g/dL", None, None, None))
    q = ev.Obs("5778-6", None, None, "positive", None, None, None, None, None)
    assert ev.strict_match(q, ev.Obs("5778-6", None, None, "positive", None, None, None, None, None))
    assert not ev.strict_match(q, ev.Obs("5778-6", None, None, "negative", None, None, None, None, None))


def test_one_to_one_matching() -> None:
    t = ev.Obs("718-7", 13.2, None, None, None, "g/dL", None, None, None)
    assert ev.match([t], [t, t]) == [(0, 0)]
    assert ev.match([t, t], [t]) == [(0, 0)]


def test_json_and_text_output(dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    truth_dir, pred_dir = dirs
    assert ev.main(["--truth", str(truth_dir), "--pred", str(pred_dir), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["overall"]["tp"] == 3 and data["bundles_missing"] == ["doc-b"]
    assert data["calibration"]["confident_precision"] == pytest.approx(2 / 3)
    text = ev.render_report(ev.evaluate(truth_dir, pred_dir))
    assert "overall" in text and "fr_ruled" in text and "0.95-1.00" in text
