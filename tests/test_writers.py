"""Tests for flows/writers.py: atomic writes, Parquet schema, run report."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from flows import writers
from models import ConversionOutcome, SourceDocument

try:  # tests/ as a package or as a plain directory on sys.path
    from tests.test_fhir import make_report, make_results
except ImportError:  # pragma: no cover
    from test_fhir import make_report, make_results  # type: ignore[no-redef]


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_write_bundle_path_and_content(tmp_path: Path) -> None:
    path = writers.write_bundle(tmp_path, "lab-0001", b'{"a": 1}\n')
    assert path == tmp_path / "bundles" / "lab-0001.json"
    assert path.read_bytes() == b'{"a": 1}\n'
    assert leftovers(path.parent) == []


def test_write_bundle_rejects_path_like_stems(tmp_path: Path) -> None:
    for bad in ("../x", "a/b", "", ".."):
        with pytest.raises(ValueError):
            writers.write_bundle(tmp_path, bad, b"{}")


def test_failure_mid_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(writers.os, "fsync", boom)
    with pytest.raises(OSError):
        writers.write_bundle(tmp_path, "doc", b"x" * 100_000)
    assert not (tmp_path / "bundles" / "doc.json").exists()
    assert leftovers(tmp_path / "bundles") == []


def test_failure_keeps_previous_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writers.write_bundle(tmp_path, "doc", b"old")
    real_replace = os.replace

    def failing_replace(src: str, dst: str) -> None:
        raise OSError("crash before rename")

    monkeypatch.setattr(writers.os, "replace", failing_replace)
    with pytest.raises(OSError):
        writers.write_bundle(tmp_path, "doc", b"new content")
    monkeypatch.setattr(writers.os, "replace", real_replace)
    assert (tmp_path / "bundles" / "doc.json").read_bytes() == b"old"
    assert leftovers(tmp_path / "bundles") == []


def test_parquet_failure_mid_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = writers.results_table(make_report(), make_results())

    def broken_write(tbl: pa.Table, where: object, **kw: object) -> None:
        Path(str(where)).write_bytes(b"PAR1 half")
        raise RuntimeError("interrupted")

    monkeypatch.setattr(writers.pq, "write_table", broken_write)
    with pytest.raises(RuntimeError):
        writers.write_parquet(tmp_path, [table])
    assert list(tmp_path.iterdir()) == []


def test_results_table_schema_and_rows() -> None:
    report = make_report()
    results = make_results()
    table = writers.results_table(report, list(reversed(results)))
    assert table.schema.equals(writers.OBSERVATION_SCHEMA, check_metadata=False)
    assert table.num_rows == len(results)
    rows = table.to_pylist()
    assert [r["row_index"] for r in rows] == sorted(r.raw.index for r in results)
    hb = rows[0]
    assert hb["document_id"] == report.source.id and hb["stem"] == report.source.stem
    assert hb["label_printed"] == "Hémoglobine" and hb["value_printed"] == "4,50" and hb["unit_printed"] == "g/dl"
    assert hb["loinc"] == "718-7" and hb["value"] == 4.5 and hb["unit_ucum"] == "g/dL"
    assert hb["confidence_value"] == 0.99 and hb["confidence_flag"] is None
    assert hb["review_status"] == "auto-accepted" and hb["source"] == "text" and hb["page"] == 1
    assert hb["bbox_x0"] < hb["bbox_x1"] and hb["bbox_top"] < hb["bbox_bottom"]
    unmapped = rows[2]
    assert unmapped["loinc"] is None and unmapped["review_status"] == "needs-review"
    assert rows[3]["comparator"] == "<"
    assert rows[1]["value_text"] == "negative" and rows[1]["value"] is None


def test_write_parquet_round_trip(tmp_path: Path) -> None:
    t1 = writers.results_table(make_report(), make_results())
    t2 = writers.results_table(make_report(), make_results()[:1])
    path = writers.write_parquet(tmp_path, [t1, t2])
    assert path == tmp_path / "observations.parquet"
    back = pq.read_table(path)
    assert back.num_rows == 5
    assert back.schema.equals(writers.OBSERVATION_SCHEMA, check_metadata=False)
    assert back.column("loinc").to_pylist()[0] == "718-7"


def test_empty_parquet_has_schema(tmp_path: Path) -> None:
    back = pq.read_table(writers.write_parquet(tmp_path, []))
    assert back.num_rows == 0 and "confidence" in back.schema.names


def test_parts_and_compaction(tmp_path: Path) -> None:
    t = writers.results_table(make_report(), make_results())
    p2 = writers.write_part(tmp_path, 2, [t.slice(2)])
    p1 = writers.write_part(tmp_path, 1, [t.slice(0, 2)])
    assert p1.name == "part-000001.parquet" and p2.parent == tmp_path / "observations"
    merged = pq.read_table(writers.compact_parts(tmp_path, remove_parts=True))
    assert merged.column("row_index").to_pylist() == [0, 1, 2, 3]
    assert list((tmp_path / "observations").glob("part-*")) == []


def outcome(i: int, status: str, reason: str | None = None, results: int = 3, review: int = 0) -> ConversionOutcome:
    sha = f"{i:064x}"
    src = SourceDocument(id=sha, uri=f"/in/{i}.pdf", stem=f"doc-{i}", sha256=sha, size=1)
    return ConversionOutcome(source=src, status=status, reason=reason, results=results, needs_review=review, pages=2, ocr_pages=1)  # type: ignore[arg-type]


def test_run_report(tmp_path: Path) -> None:
    outs = [outcome(2, "needs-review", review=1), outcome(1, "converted"), outcome(3, "failed", "encrypted PDF", results=0)]
    path = writers.write_run_report(tmp_path, outs, {"timings": {"total_s": 1.5}})
    report = json.loads(path.read_text("utf-8"))
    assert path == tmp_path / "run_report.json"
    assert report["documents_in"] == 3
    assert report["converted"] == 2 and report["needing_review"] == 1 and report["failed"] == 1
    assert report["failures"] == {f"{3:064x}": "encrypted PDF"}
    assert report["results"] == 6 and report["results_needing_review"] == 1 and report["ocr_pages"] == 3
    assert [d["stem"] for d in report["documents"]] == ["doc-1", "doc-2", "doc-3"]
    assert report["timings"] == {"total_s": 1.5}
    with pytest.raises(ValueError):
        writers.run_report(outs, {"failed": 0})
