"""``pdf2fhir`` command line: run without Prefect, eval's F1 table."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pdfkit import good_report
from flows.cli import app

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "seeds" / "sample"


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


def test_run_folder_without_prefect(runner: CliRunner, tmp_path: Path) -> None:
    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    good_report(inbox / "a.pdf", 0)
    good_report(inbox / "b.pdf", 1)
    (inbox / "c.pdf").write_bytes(b"")
    result = runner.invoke(app, ["run", str(inbox), "--out", str(out), "--no-prefect", "--workers", "1", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "bundles").glob("*.json")) == ["a.json", "b.json"]
    assert (out / "observations.parquet").exists()
    assert (out / "quarantine" / "c.reason.json").exists()
    report = json.loads((out / "run_report.json").read_text())
    assert (report["documents_in"], report["converted"], report["failed"]) == (3, 2, 1)
    assert "quarantined" in result.output  # the summary points at the quarantine


def test_run_single_file(runner: CliRunner, tmp_path: Path) -> None:
    pdf = good_report(tmp_path / "one.pdf")
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(pdf), "--out", str(out), "--no-prefect", "--workers", "1"])
    assert result.exit_code == 0, result.output
    bundle = json.loads((out / "bundles" / "one.json").read_text())
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "document"


def test_run_exits_non_zero_when_every_document_fails(runner: CliRunner, tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "x.pdf").write_bytes(b"garbage")
    result = runner.invoke(app, ["run", str(inbox), "--out", str(tmp_path / "out"), "--no-prefect", "--workers", "1"])
    assert result.exit_code == 2


def test_run_missing_input_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", str(tmp_path / "nope"), "--no-prefect"])
    assert result.exit_code != 0
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two bundled sample reports with their ground truth, converted once."""
    base = tmp_path_factory.mktemp("eval")
    docs, out = base / "docs", base / "out"
    docs.mkdir()
    for stem in ("lab-fr-ruled-0000", "lab-de-unruled-0001"):
        shutil.copy(SAMPLE / f"{stem}.pdf", docs)
        shutil.copy(SAMPLE / f"{stem}.truth.json", docs)
    result = CliRunner().invoke(app, ["run", str(docs), "--out", str(out), "--no-prefect", "--workers", "1"])
    assert result.exit_code == 0, result.output
    return docs, out


def test_eval_prints_the_f1_table(runner: CliRunner, evaluated: tuple[Path, Path]) -> None:
    docs, out = evaluated
    result = runner.invoke(app, ["eval", "--truth", str(docs), "--pred", str(out)])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Strict observation match" in text
    for col in ("precision", "recall", "F1"):
        assert col in text
    assert "2 documents, 0 without bundle" in text


def test_eval_json_counts_are_consistent(runner: CliRunner, evaluated: tuple[Path, Path]) -> None:
    docs, out = evaluated
    result = runner.invoke(app, ["eval", "--truth", str(docs), "--pred", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    truths = sum(len(json.loads(p.read_text())["observations"]) for p in docs.glob("*.truth.json"))
    overall = data["overall"]
    assert overall["tp"] + overall["fn"] == truths
    assert overall["tp"] > 0


def test_eval_counts_a_missing_bundle(runner: CliRunner, evaluated: tuple[Path, Path], tmp_path: Path) -> None:
    docs, out = evaluated
    partial = tmp_path / "partial"
    shutil.copytree(out / "bundles", partial / "bundles")
    next((partial / "bundles").glob("*.json")).unlink()
    result = runner.invoke(app, ["eval", "--truth", str(docs), "--pred", str(partial)])
    assert result.exit_code == 0
    assert "1 without bundle" in result.output


def test_bench_compares_the_fastest_round_of_each_measurement() -> None:
    from flows.bench import _fastest

    rows = [
        {"mode": "tesseract-cli", "workers": 1, "seconds": 10.0, "pages": 5},
        {"mode": "pipeline-ocr", "workers": 1, "seconds": 13.0, "pages": 5},
        {"mode": "tesseract-cli", "workers": 1, "seconds": 8.0, "pages": 5},
        {"mode": "pipeline-ocr", "workers": 1, "seconds": 12.0, "pages": 5},
        {"mode": "tesseract-cli", "workers": 1, "seconds": 9.0, "pages": 5},
        {"mode": "pipeline-ocr", "workers": 1, "seconds": 14.0, "pages": 5},
    ]
    best = {r["mode"]: r for r in _fastest(rows)}
    assert (best["tesseract-cli"]["seconds"], best["tesseract-cli"]["slowest_seconds"]) == (8.0, 10.0)
    assert (best["pipeline-ocr"]["seconds"], best["pipeline-ocr"]["slowest_seconds"]) == (12.0, 14.0)
    assert best["pipeline-ocr"]["rounds"] == 3


def test_bench_runs_every_measurement_once_per_round(runner: CliRunner, tmp_path: Path) -> None:
    """Each round converts every page, into a folder of its own (no round overwrites the
    bundles another wrote)."""
    inbox = tmp_path / "in"
    inbox.mkdir()
    good_report(inbox / "a.pdf", 0)
    result = runner.invoke(app, ["bench", str(inbox), "--out", str(tmp_path / "bench"), "--rounds", "2", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.index('{\n  "files"'):])
    pipeline_rounds = [r for r in summary["all_rounds"] if r["mode"] == "pipeline"]
    assert len(pipeline_rounds) == 2 and all(r["pages"] == 1 for r in pipeline_rounds)
    assert len([r for r in summary["all_rounds"] if r["mode"] == "pdfplumber-words"]) == 2
    assert all((tmp_path / "bench" / f"r{n}" / "bundles" / "a.json").exists() for n in (0, 1))
    stages = {s["stage"]: s["seconds"] for s in summary["stages"]}  # where the fastest round's time went
    assert {"open, text layer, routing", "parse", "map", "FHIR build and validate", "write"} <= set(stages)
    fastest = next(r for r in summary["measurements"] if r["mode"] == "pipeline")
    assert abs(sum(stages.values()) - fastest["seconds"]) < 0.01
