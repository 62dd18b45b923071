"""Evaluate predicted FHIR bundles against generator ground truth.

Truth: `<truth_dir>/<stem>.truth.json` (format `pdf2fhir-truth/1`, seeds/TRUTH.md).
Predictions: `<pred_dir>/bundles/<stem>.json`.

Strict observation match (one-to-one, greedy in truth order — the match relation is
equality, so greedy matching is maximal): same LOINC code, same value (numbers equal
within 1e-9 relative and same comparator; qualitative results by canonical
value_text or SNOMED code) and same UCUM unit code (null == null). Every predicted
Observation that matches nothing is a false positive — unmapped (no LOINC) ones
included — and every unmatched truth observation a false negative; a missing bundle
makes all of its truth observations false negatives.

Also reported: reference-range and interpretation accuracy over matched pairs,
patient/header field accuracy, structural checks of each bundle, and calibration of
the extraction-confidence extension (share >= threshold, strict precision among
them, accuracy by confidence bin).

Run: `python -m flows.evaluate --truth DIR --pred OUT [--threshold 0.9] [--json]`.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from mappers.fhir import EXT_CONFIDENCE, LU_NATIONAL_ID_SYSTEM, unresolved_references
from mappers.units import units_equal

JSON = dict[str, Any]
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
REL_TOL = 1e-9
BINS: tuple[tuple[float, float], ...] = ((0.0, 0.5), (0.5, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 0.95), (0.95, 1.0))
PATIENT_FIELDS = ("family", "given", "birth_date", "sex", "national_id", "collection_date", "report_date")


# --------------------------------------------------------------------------- report model


class Counts(BaseModel):
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, other: Counts) -> Counts:
        return Counts(tp=self.tp + other.tp, fp=self.fp + other.fp, fn=self.fn + other.fn)

    def summary(self) -> JSON:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": self.precision, "recall": self.recall, "f1": self.f1}


class Ratio(BaseModel):
    correct: int = 0
    total: int = 0

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.total if self.total else None

    def add(self, ok: bool) -> Ratio:
        return Ratio(correct=self.correct + int(ok), total=self.total + 1)

    def summary(self) -> JSON:
        return {"correct": self.correct, "total": self.total, "accuracy": self.accuracy}


class CalibrationBin(BaseModel):
    low: float
    high: float
    count: int = 0
    correct: int = 0

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.count if self.count else None


class DocumentResult(BaseModel):
    stem: str
    layout: str | None = None
    scanned: bool | None = None
    bundle_found: bool = False
    counts: Counts = Field(default_factory=Counts)
    structure: dict[str, bool] = Field(default_factory=dict)


class EvalReport(BaseModel):
    threshold: float
    documents: list[DocumentResult] = Field(default_factory=list)
    overall: Counts = Field(default_factory=Counts)
    by_layout: dict[str, Counts] = Field(default_factory=dict)
    by_scan: dict[str, Counts] = Field(default_factory=dict)
    range_accuracy: Ratio = Field(default_factory=Ratio)
    interpretation_accuracy: Ratio = Field(default_factory=Ratio)
    fields: dict[str, Ratio] = Field(default_factory=dict)
    structure: dict[str, Ratio] = Field(default_factory=dict)
    predicted: int = 0
    confident: int = 0
    confident_correct: int = 0
    calibration: list[CalibrationBin] = Field(default_factory=list)

    @property
    def confident_share(self) -> float | None:
        return self.confident / self.predicted if self.predicted else None

    @property
    def confident_precision(self) -> float | None:
        return self.confident_correct / self.confident if self.confident else None

    def to_dict(self) -> JSON:
        return {
            "threshold": self.threshold,
            "documents": len(self.documents),
            "bundles_missing": [d.stem for d in self.documents if not d.bundle_found],
            "overall": self.overall.summary(),
            "by_layout": {k: v.summary() for k, v in sorted(self.by_layout.items())},
            "by_scan": {k: v.summary() for k, v in sorted(self.by_scan.items())},
            "range_accuracy": self.range_accuracy.summary(),
            "interpretation_accuracy": self.interpretation_accuracy.summary(),
            "fields": {k: v.summary() for k, v in self.fields.items()},
            "structure": {k: v.summary() for k, v in self.structure.items()},
            "structure_failures": {
                d.stem: sorted(k for k, ok in d.structure.items() if not ok)
                for d in self.documents
                if d.bundle_found and not all(d.structure.values())
            },
            "calibration": {
                "predicted": self.predicted,
                "confident": self.confident,
                "confident_share": self.confident_share,
                "confident_precision": self.confident_precision,
                "bins": [
                    {"low": b.low, "high": b.high, "count": b.count, "correct": b.correct, "accuracy": b.accuracy}
                    for b in self.calibration
                ],
            },
            "per_document": [
                {"stem": d.stem, "layout": d.layout, "scanned": d.scanned, "bundle_found": d.bundle_found, **d.counts.summary()}
                for d in self.documents
            ],
        }


# --------------------------------------------------------------------------- normalised observations


@dataclass(frozen=True)
class Obs:
    loinc: str | None
    value: float | None
    comparator: str | None
    value_text: str | None
    value_code: str | None
    unit: str | None
    ref_low: float | None
    ref_high: float | None
    interpretation: str | None
    confidence: float = 0.0


def _num(x: Any) -> float | None:
    if x is None or isinstance(x, bool):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


# Qualitative results that mean the same thing for a screening test.
_SAME_MEANING = {"non-reactive": "negative", "nonreactive": "negative", "not detected": "negative",
                 "reactive": "positive", "detected": "positive"}


def _canon_text(text: str | None) -> str | None:
    if text is None:
        return None
    folded = " ".join(fold(text).split()) or None
    return _SAME_MEANING.get(folded, folded) if folded else None


def fold(text: str) -> str:
    """Case- and accent-insensitive form."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def truth_obs(o: JSON) -> Obs:
    return Obs(
        loinc=o.get("loinc"),
        value=_num(o.get("value")),
        comparator=o.get("comparator"),
        value_text=_canon_text(o.get("value_text")),
        value_code=o.get("value_code"),
        unit=o.get("unit") or None,
        ref_low=_num(o.get("ref_low")),
        ref_high=_num(o.get("ref_high")),
        interpretation=o.get("interpretation"),
    )


def _coding(concept: JSON | None, system: str) -> str | None:
    for c in (concept or {}).get("coding", []) or []:
        if c.get("system") == system and c.get("code"):
            return str(c["code"])
    return None


def _confidence(resource: JSON) -> float:
    for e in resource.get("extension", []) or []:
        if e.get("url") == EXT_CONFIDENCE:
            return _num(e.get("valueDecimal")) or 0.0
    return 0.0


def bundle_obs(resource: JSON) -> Obs:
    q = resource.get("valueQuantity") or {}
    concept = resource.get("valueCodeableConcept")
    value_text = None
    if concept is not None:
        value_text = concept.get("text")
    elif "valueString" in resource:
        value_text = resource["valueString"]
    rng = (resource.get("referenceRange") or [{}])[0]
    interp = None
    for i in resource.get("interpretation", []) or []:
        for c in i.get("coding", []) or []:
            interp = interp or c.get("code")
    return Obs(
        loinc=_coding(resource.get("code"), LOINC),
        value=_num(q.get("value")),
        comparator=q.get("comparator"),
        value_text=_canon_text(value_text) if not q else None,
        value_code=_coding(concept, SNOMED),
        unit=q.get("code") if q.get("system", "http://unitsofmeasure.org") == "http://unitsofmeasure.org" else None,
        ref_low=_num((rng.get("low") or {}).get("value")),
        ref_high=_num((rng.get("high") or {}).get("value")),
        interpretation=interp,
        confidence=_confidence(resource),
    )


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=0.0) or a == b


def strict_match(truth: Obs, pred: Obs) -> bool:
    if truth.loinc is None or truth.loinc != pred.loinc or not units_equal(truth.unit, pred.unit):
        return False
    if truth.value is not None:
        return pred.value is not None and _close(truth.value, pred.value) and truth.comparator == pred.comparator
    if truth.value_code and pred.value_code:
        return truth.value_code == pred.value_code
    return truth.value_text is not None and truth.value_text == pred.value_text and pred.value is None


def match(truth: Sequence[Obs], preds: Sequence[Obs]) -> list[tuple[int, int]]:
    """One-to-one strict matching: (truth index, prediction index) pairs."""
    used: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for ti, t in enumerate(truth):
        for pi, p in enumerate(preds):
            if pi not in used and strict_match(t, p):
                used.add(pi)
                pairs.append((ti, pi))
                break
    return pairs


# --------------------------------------------------------------------------- bundle reading


def resources_of(bundle: JSON, kind: str) -> list[JSON]:
    return [e.get("resource", {}) for e in bundle.get("entry", []) or [] if e.get("resource", {}).get("resourceType") == kind]


def structure_checks(bundle: JSON) -> dict[str, bool]:
    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    try:
        Bundle.model_validate(bundle)
        valid = True
    except (ValidationError, ValueError, TypeError):
        valid = False
    entries = bundle.get("entry", []) or []
    first = entries[0].get("resource", {}).get("resourceType") if entries else None
    return {
        "validates": valid,
        "document_type": bundle.get("type") == "document",
        "composition_first": first == "Composition" and len(resources_of(bundle, "Composition")) == 1,
        "one_diagnostic_report": len(resources_of(bundle, "DiagnosticReport")) == 1,
        "references_resolve": not unresolved_references(bundle),
    }


def _digits(x: str | None) -> str | None:
    if not x:
        return None
    return "".join(ch for ch in x if ch.isdigit()) or None


def predicted_fields(bundle: JSON) -> dict[str, str | None]:
    patient = (resources_of(bundle, "Patient") or [{}])[0]
    report = (resources_of(bundle, "DiagnosticReport") or [{}])[0]
    composition = (resources_of(bundle, "Composition") or [{}])[0]
    name = (patient.get("name") or [{}])[0]
    ids = patient.get("identifier") or []
    national = next((i.get("value") for i in ids if i.get("system") == LU_NATIONAL_ID_SYSTEM), None)
    if national is None and ids:
        national = ids[0].get("value")
    report_date = report.get("issued") or composition.get("date")
    collection = report.get("effectiveDateTime") or (report.get("effectivePeriod") or {}).get("start")
    return {
        "family": name.get("family"),
        "given": " ".join(name.get("given") or []) or None,
        "birth_date": patient.get("birthDate"),
        "sex": patient.get("gender"),
        "national_id": national,
        "collection_date": collection,
        "report_date": report_date,
    }


def truth_fields(truth: JSON) -> dict[str, str | None]:
    patient = truth.get("patient") or {}
    return {
        **{k: patient.get(k) for k in ("family", "given", "birth_date", "sex", "national_id")},
        "collection_date": truth.get("collection_date"),
        "report_date": truth.get("report_date"),
    }


def field_equal(field: str, truth: str, pred: str | None) -> bool:
    if pred is None:
        return False
    if field in ("family", "given"):
        return " ".join(fold(truth).split()) == " ".join(fold(pred).split())
    if field == "national_id":
        return _digits(truth) == _digits(pred)
    if field in ("birth_date", "collection_date", "report_date"):
        return truth.strip()[:10] == pred.strip()[:10]
    return truth.strip().lower() == pred.strip().lower()


# --------------------------------------------------------------------------- evaluation


def _bin_index(confidence: float) -> int:
    for i, (low, high) in enumerate(BINS):
        if low <= confidence < high:
            return i
    return len(BINS) - 1  # 1.0 (and anything above) goes to the last bin


def load_truths(truth_dir: Path) -> list[tuple[str, JSON]]:
    files = sorted(Path(truth_dir).rglob("*.truth.json"))
    return [(f.name.removesuffix(".truth.json"), json.loads(f.read_text("utf-8"))) for f in files]


def _load_bundle(path: Path) -> JSON | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def evaluate(truth_dir: Path, pred_dir: Path, threshold: float = 0.9) -> EvalReport:
    report = EvalReport(
        threshold=threshold,
        fields={f: Ratio() for f in PATIENT_FIELDS},
        calibration=[CalibrationBin(low=lo, high=hi) for lo, hi in BINS],
    )
    for stem, truth in load_truths(truth_dir):
        doc = DocumentResult(stem=stem, layout=truth.get("layout"), scanned=truth.get("scanned"))
        bundle = _load_bundle(Path(pred_dir) / "bundles" / f"{stem}.json")
        truths = [truth_obs(o) for o in truth.get("observations", [])]
        preds = [bundle_obs(r) for r in resources_of(bundle, "Observation")] if bundle else []
        pairs = match(truths, preds)
        doc.bundle_found = bundle is not None
        doc.counts = Counts(tp=len(pairs), fp=len(preds) - len(pairs), fn=len(truths) - len(pairs))
        _accumulate(report, doc, truths, preds, pairs)
        if bundle is not None:
            doc.structure = structure_checks(bundle)
            for check, ok in doc.structure.items():
                report.structure[check] = report.structure.get(check, Ratio()).add(ok)
        predicted = predicted_fields(bundle) if bundle else {}
        for field, value in truth_fields(truth).items():
            if value is not None:
                report.fields[field] = report.fields[field].add(field_equal(field, str(value), predicted.get(field)))
        report.documents.append(doc)
    return report


def _accumulate(report: EvalReport, doc: DocumentResult, truths: Sequence[Obs], preds: Sequence[Obs], pairs: Iterable[tuple[int, int]]) -> None:
    report.overall = report.overall.add(doc.counts)
    layout = doc.layout or "unknown"
    report.by_layout[layout] = report.by_layout.get(layout, Counts()).add(doc.counts)
    if doc.scanned is not None:
        key = "scanned" if doc.scanned else "digital"
        report.by_scan[key] = report.by_scan.get(key, Counts()).add(doc.counts)
    matched_preds = set()
    for ti, pi in pairs:
        t, p = truths[ti], preds[pi]
        matched_preds.add(pi)
        report.range_accuracy = report.range_accuracy.add(_close(t.ref_low, p.ref_low) and _close(t.ref_high, p.ref_high))
        report.interpretation_accuracy = report.interpretation_accuracy.add(t.interpretation == p.interpretation)
    for pi, p in enumerate(preds):
        correct = pi in matched_preds
        report.predicted += 1
        b = report.calibration[_bin_index(p.confidence)]
        b.count += 1
        b.correct += int(correct)
        if p.confidence >= report.threshold:
            report.confident += 1
            report.confident_correct += int(correct)


# --------------------------------------------------------------------------- rendering


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _tables(report: EvalReport) -> list[tuple[str, list[str], list[list[str]]]]:
    prf = ["group", "TP", "FP", "FN", "precision", "recall", "F1"]

    def row(name: str, c: Counts) -> list[str]:
        return [name, str(c.tp), str(c.fp), str(c.fn), _pct(c.precision), _pct(c.recall), _pct(c.f1)]

    strict = [row("overall", report.overall)]
    strict += [row(f"layout {k}", v) for k, v in sorted(report.by_layout.items())]
    strict += [row(k, v) for k, v in sorted(report.by_scan.items())]
    acc_rows = [
        ["reference range (matched)", str(report.range_accuracy.correct), str(report.range_accuracy.total), _pct(report.range_accuracy.accuracy)],
        ["interpretation (matched)", str(report.interpretation_accuracy.correct), str(report.interpretation_accuracy.total), _pct(report.interpretation_accuracy.accuracy)],
    ]
    acc_rows += [[f, str(r.correct), str(r.total), _pct(r.accuracy)] for f, r in report.fields.items()]
    acc_rows += [[f"structure: {k}", str(r.correct), str(r.total), _pct(r.accuracy)] for k, r in report.structure.items()]
    cal_rows = [[f"{b.low:.2f}-{b.high:.2f}", str(b.count), _pct(b.accuracy)] for b in report.calibration]
    cal_rows.append([f">= {report.threshold:.2f}", f"{report.confident} ({_pct(report.confident_share)})", _pct(report.confident_precision)])
    return [
        ("Strict observation match", prf, strict),
        ("Accuracy", ["check", "correct", "total", "accuracy"], acc_rows),
        ("Calibration (extraction-confidence)", ["confidence", "count", "precision"], cal_rows),
    ]


def render_report(report: EvalReport) -> str:
    """Human-readable tables (rich when available, plain text otherwise)."""
    tables = _tables(report)
    missing = [d.stem for d in report.documents if not d.bundle_found]
    header = f"{len(report.documents)} documents, {len(missing)} without bundle"
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # pragma: no cover - rich is a dependency
        return header + "\n\n" + "\n\n".join(_plain(t, h, rows) for t, h, rows in tables) + "\n"
    buf = io.StringIO()
    console = Console(file=buf, width=110, force_terminal=False, color_system=None)
    console.print(header)
    for title, head, rows in tables:
        table = Table(title=title)
        for i, h in enumerate(head):
            table.add_column(h, justify="left" if i == 0 else "right")
        for r in rows:
            table.add_row(*r)
        console.print(table)
    return buf.getvalue()


def _plain(title: str, head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=False)]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def report_json(report: EvalReport) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pdf2fhir-eval", description=__doc__.split("\n\n")[0])
    parser.add_argument("--truth", type=Path, required=True, help="directory with <stem>.truth.json files")
    parser.add_argument("--pred", type=Path, required=True, help="output directory holding bundles/<stem>.json")
    parser.add_argument("--threshold", type=float, default=0.9, help="confidence threshold for calibration")
    parser.add_argument("--json", action="store_true", help="machine-readable JSON output")
    args = parser.parse_args(argv)
    report = evaluate(args.truth, args.pred, args.threshold)
    sys.stdout.write(report_json(report) if args.json else render_report(report))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
