"""Output writers: bundles, the observations Parquet table and the run report.

Every file is written atomically: the bytes go to a temporary file in the same
directory, are flushed and fsync'ed, then `os.replace` moves them over the target (an
atomic rename on POSIX), and the directory is fsync'ed. A crash or an exception
mid-write leaves either the old file or no file, never a truncated one, and the
temporary file is removed. Files are created with mkstemp's owner-only permissions
(0600): they hold health data.

Layout of an output directory OUT:
    OUT/bundles/<stem>.json              one FHIR document Bundle per PDF
    OUT/observations.parquet             one row per result, all documents
    OUT/observations/part-<batch>.parquet   per-batch parts for large runs
                                            (`compact_parts` merges them, one row
                                            per (document_id, row_index))
    OUT/run_report.json                  per-run summary
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

try:  # POSIX advisory locks; without them (Windows) appends are not serialised
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

from mappers.fhir import row_bbox
from models import ConversionOutcome, MappedResult, ParsedReport, Printed

RUN_REPORT_SCHEMA = "pdf2fhir-run-report/1"
CONFIDENCE_FIELDS = ("code", "value", "unit", "range", "flag")

OBSERVATION_SCHEMA = pa.schema(
    [
        pa.field("document_id", pa.string(), nullable=False),
        pa.field("stem", pa.string(), nullable=False),
        pa.field("row_index", pa.int32(), nullable=False),
        pa.field("section", pa.string()),
        pa.field("label_printed", pa.string(), nullable=False),
        pa.field("value_printed", pa.string(), nullable=False),
        pa.field("unit_printed", pa.string()),
        pa.field("range_printed", pa.string()),
        pa.field("flag_printed", pa.string()),
        pa.field("loinc", pa.string()),
        pa.field("display", pa.string()),
        pa.field("value", pa.float64()),
        pa.field("value_decimals", pa.int32()),
        pa.field("comparator", pa.string()),
        pa.field("value_text", pa.string()),
        pa.field("value_code", pa.string()),
        pa.field("unit_ucum", pa.string()),
        pa.field("ref_low", pa.float64()),
        pa.field("ref_high", pa.float64()),
        pa.field("ref_text", pa.string()),
        pa.field("interpretation", pa.string()),
        pa.field("specimen", pa.string()),
        *(pa.field(f"confidence_{f}", pa.float64()) for f in CONFIDENCE_FIELDS),
        pa.field("confidence", pa.float64(), nullable=False),
        pa.field("review_status", pa.string(), nullable=False),
        pa.field("page", pa.int32(), nullable=False),
        pa.field("bbox_x0", pa.float64(), nullable=False),
        pa.field("bbox_top", pa.float64(), nullable=False),
        pa.field("bbox_x1", pa.float64(), nullable=False),
        pa.field("bbox_bottom", pa.float64(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("language", pa.string()),
        pa.field("collection_date", pa.string()),
        pa.field("report_date", pa.string()),
        pa.field("notes", pa.list_(pa.string()), nullable=False),
    ],
    metadata={b"pdf2fhir.schema": b"observations/1"},
)


# --------------------------------------------------------------------------- atomic


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # some platforms/filesystems cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success fsync it and rename over
    `target`, on any exception delete it and leave `target` untouched."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def atomic_write_bytes(target: Path, data: bytes) -> Path:
    with atomic_path(target) as tmp, tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
    return target


def _safe_stem(stem: str) -> str:
    if not stem or stem in (".", "..") or "/" in stem or "\\" in stem or "\x00" in stem:
        raise ValueError("output stem must be a plain file name")
    return stem


def write_bundle(out_dir: Path, stem: str, data: bytes) -> Path:
    """Write `OUT/bundles/<stem>.json` atomically and return its path."""
    return atomic_write_bytes(Path(out_dir) / "bundles" / f"{_safe_stem(stem)}.json", data)


# --------------------------------------------------------------------------- parquet


def _text(p: Printed | None) -> str | None:
    return p.text if p is not None else None


def result_row(report: ParsedReport, result: MappedResult) -> dict[str, Any]:
    """One Parquet row (a plain dict matching OBSERVATION_SCHEMA)."""
    raw = result.raw
    box = row_bbox(raw)  # same box as the bundle's source-location extension
    row: dict[str, Any] = {
        "document_id": report.source.id,
        "stem": report.source.stem,
        "row_index": raw.index,
        "section": raw.section,
        "label_printed": raw.label.text,
        "value_printed": raw.value.text,
        "unit_printed": _text(raw.unit),
        "range_printed": _text(raw.range),
        "flag_printed": _text(raw.flag),
        "loinc": result.loinc,
        "display": result.display,
        "value": result.value,
        "value_decimals": result.value_decimals,
        "comparator": result.comparator,
        "value_text": result.value_text,
        "value_code": result.value_code,
        "unit_ucum": result.unit_ucum,
        "ref_low": result.ref_low,
        "ref_high": result.ref_high,
        "ref_text": result.ref_text,
        "interpretation": result.interpretation,
        "specimen": result.specimen,
        "confidence": result.confidence,
        "review_status": result.review_status,
        "page": raw.value.page,
        "bbox_x0": box.x0,
        "bbox_top": box.top,
        "bbox_x1": box.x1,
        "bbox_bottom": box.bottom,
        "source": raw.value.source.value,
        "language": raw.language or report.meta.language,
        "collection_date": report.meta.collection_date,
        "report_date": report.meta.report_date,
        "notes": list(result.notes),
    }
    for f in CONFIDENCE_FIELDS:
        row[f"confidence_{f}"] = result.confidence_fields.get(f)
    return row


def results_table(report: ParsedReport, results: Sequence[MappedResult]) -> pa.Table:
    """One row per result of one document, in row order, with OBSERVATION_SCHEMA."""
    rows = [result_row(report, r) for r in sorted(results, key=lambda r: r.raw.index)]
    return pa.Table.from_pylist(rows, schema=OBSERVATION_SCHEMA)


def _concat(tables: Sequence[pa.Table]) -> pa.Table:
    if not tables:
        return OBSERVATION_SCHEMA.empty_table()
    return pa.concat_tables([t.cast(OBSERVATION_SCHEMA) for t in tables])


def _write_table(target: Path, table: pa.Table) -> Path:
    with atomic_path(target) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return target


def write_parquet(out_dir: Path, tables: Sequence[pa.Table]) -> Path:
    """Concatenate per-document tables and write `OUT/observations.parquet`."""
    return _write_table(Path(out_dir) / "observations.parquet", _concat(tables))


def write_part(out_dir: Path, batch: int | str, tables: Sequence[pa.Table]) -> Path:
    """Write one batch as `OUT/observations/part-<batch>.parquet` (integers zero-padded
    so that name order is batch order)."""
    name = f"{batch:06d}" if isinstance(batch, int) else _safe_stem(str(batch))
    return _write_table(Path(out_dir) / "observations" / f"part-{name}.parquet", _concat(tables))


ROW_KEY = ("document_id", "row_index")
ROW_ORDER = ("stem", "document_id", "row_index")


def compact_parts(out_dir: Path, remove_parts: bool = False, keep_documents: Collection[str] | None = None) -> Path:
    """Merge `OUT/observations/part-*.parquet` into `OUT/observations.parquet`.

    A document redone after a crash (in a batch of another composition, so under another
    part name) has rows in several parts: each (document_id, row_index) is kept once, from
    the newest part (file modification time, then name). When `keep_documents` is given,
    rows of any other document are dropped (e.g. the ledger's converted documents). The
    result is sorted by (stem, document_id, row_index), so it does not depend on part names
    or write order. Parts are read one at a time; memory is proportional to the result.
    """
    parts = parts_newest_first(Path(out_dir) / "observations")
    tables = [_read_part(p) for p in parts]  # each already cast to OBSERVATION_SCHEMA
    merged = pa.concat_tables(tables) if tables else OBSERVATION_SCHEMA.empty_table()
    if keep_documents is not None:
        keep = pa.array(sorted(set(keep_documents)), pa.string())
        merged = merged.filter(pc.is_in(merged["document_id"], value_set=keep))
    merged = sort_rows(drop_duplicate_rows(merged))
    target = _write_table(Path(out_dir) / "observations.parquet", merged)
    if remove_parts:
        for p in parts:
            p.unlink()
    return target


def _read_part(path: Path) -> pa.Table:
    table = pq.ParquetFile(path).read(use_threads=False)  # faster than read_table per small file
    if table.schema.names == OBSERVATION_SCHEMA.names:
        return table.cast(OBSERVATION_SCHEMA)
    return pq.read_table(path, schema=OBSERVATION_SCHEMA)  # columns in another order


def parts_newest_first(folder: Path) -> list[Path]:
    """Part files of `folder`, newest first (modification time, then name descending, so
    among equal times the later of zero-padded batch numbers counts as newer)."""
    found = [(p.stat().st_mtime_ns, p.name, p) for p in folder.glob("part-*.parquet")]
    return [p for _, _, p in sorted(found, reverse=True)]


def drop_duplicate_rows(table: pa.Table, key: Sequence[str] = ROW_KEY) -> pa.Table:
    """Keep the first row of each `key` (callers put the rows that should win first)."""
    if table.num_rows == 0:
        return table
    position = "__pdf2fhir_position"
    indexed = table.select(list(key)).append_column(position, pa.array(range(table.num_rows), pa.int64()))
    first = indexed.group_by(list(key), use_threads=False).aggregate([(position, "min")])[f"{position}_min"]
    if len(first) == table.num_rows:
        return table
    return table.take(pc.take(first, pc.sort_indices(first)))  # kept rows, in input order


def sort_rows(table: pa.Table, order: Sequence[str] = ROW_ORDER) -> pa.Table:
    """Rows in a deterministic order: by `order` ascending."""
    return table.sort_by([(name, "ascending") for name in order])


# --------------------------------------------------------------------------- line logs


@contextmanager
def _flock(fh: IO[bytes], exclusive: bool) -> Iterator[None]:
    if fcntl is None:  # pragma: no cover
        yield
        return
    fcntl.flock(fh.fileno(), fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
    try:
        yield
    finally:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def append_lines(target: Path, lines: Sequence[str]) -> Path:
    """Append `lines` (newline-free text) to a line log such as the ledger, durably.

    Under an exclusive lock (several runs may share an output folder), in one write,
    then flushed and fsync'ed. A file that ends in a torn line (no final newline: a
    crash mid-append) gets that fragment terminated first, so it stays one separate,
    unparsable line instead of swallowing the first new line. New files are 0600.
    """
    if any("\n" in line or "\r" in line for line in lines):
        raise ValueError("log lines must not contain line breaks")
    if not lines:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    created = not target.exists()
    fd = os.open(target, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a+b") as fh, _flock(fh, exclusive=True):
        size = fh.seek(0, os.SEEK_END)
        torn = False
        if size:
            fh.seek(size - 1)
            torn = fh.read(1) != b"\n"
        data = (b"\n" if torn else b"") + "".join(line + "\n" for line in lines).encode("utf-8")
        fh.write(data)  # O_APPEND: at the end of the file whatever the position
        fh.flush()
        os.fsync(fh.fileno())
    if created:
        _fsync_dir(target.parent)
    return target


def read_lines(target: Path) -> list[str]:
    """The non-empty lines of a line log (under a shared lock, so that no append is seen
    half-done by a concurrent writer); undecodable bytes are replaced, not fatal."""
    try:
        fh = target.open("rb")
    except FileNotFoundError:
        return []
    with fh, _flock(fh, exclusive=False):
        data = fh.read()
    return [line for line in data.decode("utf-8", errors="replace").split("\n") if line.strip()]


# --------------------------------------------------------------------------- run report


def _outcome_entry(o: ConversionOutcome) -> dict[str, Any]:
    return {
        "document_id": o.source.id,
        "stem": o.source.stem,
        "status": o.status,
        "reason": o.reason,
        "bundle_path": o.bundle_path,
        "results": o.results,
        "needs_review": o.needs_review,
        "pages": o.pages,
        "ocr_pages": o.ocr_pages,
    }


def run_report(outcomes: Sequence[ConversionOutcome], extra: Mapping[str, Any]) -> dict[str, Any]:
    """The run report as a dict; `extra` (timings, versions, ...) is merged at top
    level and may not overwrite the computed keys."""
    ordered = sorted(outcomes, key=lambda o: (o.source.stem, o.source.id))
    by_status = {s: sum(1 for o in ordered if o.status == s) for s in ("converted", "needs-review", "failed")}
    report: dict[str, Any] = {
        "schema": RUN_REPORT_SCHEMA,
        "documents_in": len(ordered),
        "converted": by_status["converted"] + by_status["needs-review"],
        "converted_clean": by_status["converted"],
        "needing_review": by_status["needs-review"],
        "failed": by_status["failed"],
        "results": sum(o.results for o in ordered),
        "results_needing_review": sum(o.needs_review for o in ordered),
        "pages": sum(o.pages for o in ordered),
        "ocr_pages": sum(o.ocr_pages for o in ordered),
        "failures": {o.source.id: o.reason or "unknown error" for o in ordered if o.status == "failed"},
        "documents": [_outcome_entry(o) for o in ordered],
    }
    clash = sorted(set(report) & set(extra))
    if clash:
        raise ValueError(f"extra keys clash with run report keys: {clash}")
    report.update(extra)
    return report


def write_run_report(
    out_dir: Path,
    outcomes: Sequence[ConversionOutcome],
    extra: Mapping[str, Any],
    default: Callable[[Any], Any] = str,
) -> Path:
    """Write `OUT/run_report.json` atomically (UTF-8, indent 2, keys in fixed order)."""
    data = json.dumps(run_report(outcomes, extra), ensure_ascii=False, indent=2, default=default) + "\n"
    return atomic_write_bytes(Path(out_dir) / "run_report.json", data.encode("utf-8"))
